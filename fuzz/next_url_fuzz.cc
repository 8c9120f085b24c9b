// next_url validation (service::ConnectionService::CheckNextUrl, private, so its rule is restated
// here from the same core pieces: ParseUrl, http(s), no user info, Origin() equal to the public
// URL's or an allowed origin's). The rule's safety rests on ParseUrl reading the origin as a
// browser or libcurl would. Property: a next_url the rule accepts has, by libcurl's URL API, the
// scheme, host and port of an allowed origin (an open redirect needs the two to disagree).
#include <curl/curl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/text.h"
#include "core/url.h"
#include "fuzz_check.h"

namespace {

using keybridge::core::AsciiLower;
using keybridge::core::ParseUrl;

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

const std::vector<std::string>& AllowedOrigins() {
  static const std::vector<std::string> kOrigins = {
      "https://keybridge.example.org", "http://localhost:3000", "https://renku.example.org:8443"};
  return kOrigins;
}

bool Accepted(std::string_view next_url) {
  auto url = ParseUrl(next_url);
  if (!url.ok() || (url->scheme != "https" && url->scheme != "http") || !url->userinfo.empty()) {
    return false;
  }
  for (const std::string& allowed : AllowedOrigins()) {
    if (ParseUrl(allowed)->Origin() == url->Origin()) {
      return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = keybridge::fuzz::AsText(data, size);
  if (!Accepted(text)) {
    return 0;
  }
  std::unique_ptr<CURLU, CurlUrlDeleter> curl(curl_url());
  FUZZ_CHECK(curl != nullptr);
  const std::string copy(text);
  // libcurl must read an accepted URL, and read it as the same origin.
  FUZZ_CHECK(curl_url_set(curl.get(), CURLUPART_URL, copy.c_str(), 0) == CURLUE_OK);
  const auto scheme = Part(curl.get(), CURLUPART_SCHEME, 0);
  const auto host = Part(curl.get(), CURLUPART_HOST, 0);
  const auto port = Part(curl.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  const auto user = Part(curl.get(), CURLUPART_USER, 0);
  // ParseUrl reads "https://@host" as no user info; curl as an empty one. Either way no name.
  FUZZ_CHECK(scheme && host && port && (!user || user->empty()));
  const std::string origin = AsciiLower(*scheme) + "://" + AsciiLower(*host);
  bool same = false;
  for (const std::string& allowed : AllowedOrigins()) {
    auto parsed = ParseUrl(allowed);
    same = same
           || (AsciiLower(*scheme) == parsed->scheme && AsciiLower(*host) == parsed->host
               && *port == std::to_string(parsed->EffectivePort()));
  }
  FUZZ_CHECK(same);
  return 0;
}
