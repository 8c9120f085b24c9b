// gitcredential::ParseGitCredentialInput and RemoteUrl (what git writes to the credential helper's
// stdin, gitcredentials(7)). Properties: no attribute key is empty, contains '=' or is an array
// key; a remote URL is only produced for http(s) with a host and, re-parsed, has the protocol,
// host and port the attributes named; when it came from a `url=` line ParseUrl accepts, it names
// the same scheme, host, port and path (leading slashes aside) as that line.
#include <sstream>
#include <string>

#include "core/url.h"
#include "fuzz_check.h"
#include "gitcredential/git_credential.h"

namespace {

std::string_view WithoutLeadingSlashes(std::string_view path) {
  while (!path.empty() && path.front() == '/') {
    path.remove_prefix(1);
  }
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(keybridge::fuzz::AsText(data, size));
  std::istringstream in(text);
  const auto attributes = keybridge::gitcredential::ParseGitCredentialInput(in);
  for (const auto& [key, value] : attributes) {
    FUZZ_CHECK(!key.empty() && key.find('=') == std::string::npos && !key.ends_with("[]"));
    FUZZ_CHECK(key.find('\n') == std::string::npos && value.find('\n') == std::string::npos);
  }
  const auto remote = keybridge::gitcredential::RemoteUrl(attributes);
  if (!remote) {
    return 0;
  }
  FUZZ_CHECK(remote->starts_with("http://") || remote->starts_with("https://"));
  FUZZ_CHECK(remote->starts_with(attributes.at("protocol") + "://" + attributes.at("host")));
  // Compare with the url= line when it is the first line and no other line names the remote.
  const auto newline = text.find('\n');
  const std::string rest = newline == std::string::npos ? "" : text.substr(newline);
  if (!text.starts_with("url=") || text.find('\r') != std::string::npos
      || rest.find("\nurl=") != std::string::npos || rest.find("\nprotocol=") != std::string::npos
      || rest.find("\nhost=") != std::string::npos || rest.find("\npath=") != std::string::npos) {
    return 0;
  }
  const std::string line =
      text.substr(4, newline == std::string::npos ? std::string::npos : newline - 4);
  const auto sent = keybridge::core::ParseUrl(line);
  if (!sent.ok() || (sent->scheme != "http" && sent->scheme != "https")) {
    return 0;
  }
  const auto read = keybridge::core::ParseUrl(*remote);
  FUZZ_CHECK(read.ok());
  FUZZ_CHECK(read->scheme == sent->scheme && read->host == sent->host
             && read->EffectivePort() == sent->EffectivePort());
  FUZZ_CHECK(WithoutLeadingSlashes(read->path) == WithoutLeadingSlashes(sent->path));
  return 0;
}
