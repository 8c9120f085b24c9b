// oauth::ParseDiscovery (OIDC discovery documents of generic_oidc integrations). The input is the
// response body for a fixed issuer (status 200, JSON). Properties of an accepted document: the
// issuer is exactly the expected one; authorization and token endpoints are present; every
// endpoint present is an absolute URL without user info or fragment, and https unless its host is
// loopback, which libcurl must agree it is (no "http://127.attacker.example").
#include <curl/curl.h>

#include <memory>
#include <string>

#include "core/url.h"
#include "fuzz_check.h"
#include "oauth/oidc_discovery.h"

namespace {

struct CurlUrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

void CheckEndpoint(const std::string& endpoint, bool required) {
  if (endpoint.empty()) {
    FUZZ_CHECK(!required);
    return;
  }
  auto url = keybridge::core::ParseUrl(endpoint);
  FUZZ_CHECK(url.ok());
  FUZZ_CHECK(url->userinfo.empty() && !url->has_fragment);
  FUZZ_CHECK(url->scheme == "https" || (url->scheme == "http" && url->IsLoopbackHost()));
  if (url->scheme == "http") {
    std::unique_ptr<CURLU, CurlUrlDeleter> curl(curl_url());
    FUZZ_CHECK(curl_url_set(curl.get(), CURLUPART_URL, endpoint.c_str(), 0) == CURLUE_OK);
    char* host = nullptr;
    FUZZ_CHECK(curl_url_get(curl.get(), CURLUPART_HOST, &host, 0) == CURLUE_OK);
    const std::string text(host);
    curl_free(host);
    FUZZ_CHECK(text == "localhost" || text == "[::1]" || text.starts_with("127."));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string kIssuer = "https://sso.example.org/realms/renku";
  keybridge::core::HttpResponse response;
  response.status = 200;
  response.headers.push_back({"content-type", "application/json"});
  response.body = std::string(keybridge::fuzz::AsText(data, size));
  auto metadata = keybridge::oauth::ParseDiscovery(response, kIssuer);
  if (!metadata.ok()) {
    FUZZ_CHECK(metadata.error().code == keybridge::core::ErrorCode::kUpstreamFailed);
    FUZZ_CHECK(!keybridge::fuzz::HasControlBytes(metadata.error().message));
    return 0;
  }
  FUZZ_CHECK(metadata->issuer == kIssuer);
  CheckEndpoint(metadata->authorization_endpoint, true);
  CheckEndpoint(metadata->token_endpoint, true);
  CheckEndpoint(metadata->userinfo_endpoint, false);
  CheckEndpoint(metadata->revocation_endpoint, false);
  CheckEndpoint(metadata->jwks_uri, false);
  return 0;
}
