// core::ParseUrl (integration URLs, issuers, discovery endpoints, next_url, git remotes).
// Properties:
// - round trip: a parsed URL, written out again, parses to the same parts;
// - loopback: a URL accepted as loopback really is 127/8 (dotted quad), ::1 or localhost, also by
//   libcurl's reading of the same text;
// - agreement with libcurl's URL API (curl_url, the parser keybridge's outbound requests use) on
//   scheme, host and port of every http(s) URL both accept: keybridge must never check one host
//   and connect to another. IPv4 shorthands ("0x7f.1") and IPv6 spellings curl normalises are
//   compared as addresses, and ParseUrl must not call them loopback.
#include <arpa/inet.h>
#include <curl/curl.h>

#include <array>
#include <memory>
#include <optional>
#include <string>

#include "core/text.h"
#include "core/url.h"
#include "fuzz_check.h"

namespace {

using keybridge::core::AsciiLower;
using keybridge::core::ParseUrl;
using keybridge::core::Url;

struct CurlUrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

std::optional<std::string> Part(CURLU* url, CURLUPart part, unsigned flags) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, flags) != CURLUE_OK || value == nullptr) {
    return std::nullopt;
  }
  std::string out(value);
  curl_free(value);
  return out;
}

std::string Rebuild(const Url& url) {
  std::string text = url.scheme + "://";
  if (!url.userinfo.empty()) {
    text += url.userinfo + "@";
  }
  text += url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  if (url.port != 0) {
    text += ":" + std::to_string(url.port);
  }
  text += url.path;
  if (url.has_query) {
    text += "?" + url.query;
  }
  if (url.has_fragment) {
    text += "#" + url.fragment;
  }
  return text;
}

// The 16 bytes of an IPv6 literal, or nullopt.
std::optional<std::array<unsigned char, 16>> Ipv6(const std::string& host) {
  std::array<unsigned char, 16> bytes{};
  if (inet_pton(AF_INET6, host.c_str(), bytes.data()) != 1) {
    return std::nullopt;
  }
  return bytes;
}

bool LooksNumeric(const std::string& host) {
  return !host.empty() && host.find_first_not_of("0123456789abcdefx.") == std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = keybridge::fuzz::AsText(data, size);
  auto parsed = ParseUrl(text);
  if (!parsed.ok()) {
    return 0;
  }
  const Url& url = *parsed;
  FUZZ_CHECK(!url.host.empty());
  FUZZ_CHECK(url.path.empty() || url.path.front() == '/');
  FUZZ_CHECK(url.scheme == AsciiLower(url.scheme) && url.host == AsciiLower(url.host));

  auto again = ParseUrl(Rebuild(url));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->scheme == url.scheme && again->userinfo == url.userinfo
             && again->host == url.host && again->port == url.port && again->path == url.path
             && again->query == url.query && again->fragment == url.fragment
             && again->has_query == url.has_query && again->has_fragment == url.has_fragment);
  FUZZ_CHECK(ParseUrl(url.Origin()).ok());

  if (url.IsLoopbackHost()) {
    FUZZ_CHECK(url.host == "localhost" || url.host == "::1" || url.host.starts_with("127."));
    FUZZ_CHECK(url.host.find_first_not_of("0123456789.") == std::string::npos
               || url.host == "localhost" || url.host == "::1");
  }

  if (url.scheme != "http" && url.scheme != "https") {
    return 0;
  }
  std::unique_ptr<CURLU, CurlUrlDeleter> curl(curl_url());
  FUZZ_CHECK(curl != nullptr);
  const std::string copy(text);
  if (curl_url_set(curl.get(), CURLUPART_URL, copy.c_str(), 0) != CURLUE_OK) {
    return 0;
  }
  const auto scheme = Part(curl.get(), CURLUPART_SCHEME, 0);
  const auto host = Part(curl.get(), CURLUPART_HOST, 0);
  const auto port = Part(curl.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  FUZZ_CHECK(scheme && host && port);
  FUZZ_CHECK(AsciiLower(*scheme) == url.scheme);
  FUZZ_CHECK(*port == std::to_string(url.EffectivePort()));
  std::string curl_host = AsciiLower(*host);
  if (curl_host.size() > 2 && curl_host.front() == '[') {
    curl_host = curl_host.substr(1, curl_host.size() - 2);
    const auto zone = curl_host.find('%');
    FUZZ_CHECK(zone == std::string::npos);  // ParseUrl refuses zone ids
    const auto ours = Ipv6(url.host);
    FUZZ_CHECK(ours && ours == Ipv6(curl_host));
  } else if (curl_host != url.host) {
    // curl reads IPv4 shorthands and octal/hex parts as addresses; ParseUrl keeps the text.
    FUZZ_CHECK(LooksNumeric(url.host));
  }
  if (url.IsLoopbackHost()) {
    FUZZ_CHECK(curl_host == "localhost" || curl_host == "::1" || curl_host.starts_with("127."));
  }
  return 0;
}
