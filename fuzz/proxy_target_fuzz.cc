// gitproxy::ParseProxyTarget (every request target git-proxy receives). First byte: method (even
// GET, odd POST); the rest: the request target. Properties of an accepted target:
// - every repository path segment, decoded, is a name: not empty, ".", "..", no '/', '\', '#',
//   '?', '%' (so no second decoding can produce any of these) and no control bytes; the same
//   once ".git" is removed from the last one;
// - the integration id is a plain id, the endpoint one of git's three;
// - round trip: /<id><UpstreamSuffix()> parses to the same target.
#include <string>

#include "core/text.h"
#include "core/url.h"
#include "fuzz_check.h"
#include "gitproxy/proxy_target.h"

namespace {

using keybridge::core::AsciiLower;
using keybridge::core::PercentDecode;

bool IsName(std::string_view decoded) {
  return !decoded.empty() && decoded != "." && decoded != ".."
         && decoded.find_first_of("/\\#?%") == std::string_view::npos
         && !keybridge::fuzz::HasControlBytes(decoded);
}

bool SafeRepositoryPath(std::string_view path) {
  while (true) {
    const auto slash = path.find('/');
    const auto decoded = PercentDecode(path.substr(0, slash), false);
    if (!decoded || !IsName(*decoded)) {
      return false;
    }
    if (slash == std::string_view::npos) {
      const std::string lowered = AsciiLower(*decoded);
      return !lowered.ends_with(".git")
             || IsName(std::string_view(lowered).substr(0, lowered.size() - 4));
    }
    path.remove_prefix(slash + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view method = (data[0] & 1U) == 0 ? "GET" : "POST";
  const std::string_view target = keybridge::fuzz::AsText(data + 1, size - 1);
  auto parsed = keybridge::gitproxy::ParseProxyTarget(method, target);
  if (!parsed.ok()) {
    return 0;
  }
  FUZZ_CHECK(!parsed->provider_id.empty()
             && parsed->provider_id.find_first_of("/%") == std::string::npos);
  FUZZ_CHECK(parsed->endpoint == "info/refs" || parsed->endpoint == "git-upload-pack"
             || parsed->endpoint == "git-receive-pack");
  FUZZ_CHECK(SafeRepositoryPath(parsed->repository_path));
  const std::string suffix = parsed->UpstreamSuffix();
  FUZZ_CHECK(suffix.starts_with("/" + parsed->repository_path + "/"));
  auto again = keybridge::gitproxy::ParseProxyTarget(method, "/" + parsed->provider_id + suffix);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->provider_id == parsed->provider_id
             && again->repository_path == parsed->repository_path
             && again->endpoint == parsed->endpoint && again->query == parsed->query
             && again->push == parsed->push);
  return 0;
}
