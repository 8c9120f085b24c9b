// An OIDC issuer for the JWT and JWKS harnesses: answers identity::JwtVerifier's discovery and
// JWKS requests from memory at a fixed time, so each input is judged on its own.
#pragma once

#include <string>

#include "core/clock.h"
#include "core/http_client.h"
#include "fuzz_key.h"

namespace keybridge::fuzz {

inline const core::TimePoint kFuzzNow = core::FromUnixSeconds(1'700'000'000);

class FixedClock final : public core::Clock {
 public:
  core::TimePoint Now() const override { return kFuzzNow; }
};

class FakeIssuer final : public core::HttpClient {
 public:
  explicit FakeIssuer(std::string jwks) : jwks_(std::move(jwks)) {}

  core::Result<core::HttpResponse> Send(const core::HttpRequest& request) override {
    const std::string issuer(kIssuer);
    core::HttpResponse response;
    response.status = 200;
    response.headers.push_back({"content-type", "application/json"});
    if (request.url == issuer + "/.well-known/openid-configuration") {
      response.body = R"({"issuer":")" + issuer + R"(","jwks_uri":")" + issuer
                      + R"(/certs","authorization_endpoint":")" + issuer
                      + R"(/auth","token_endpoint":")" + issuer + R"(/token"})";
    } else if (request.url == issuer + "/certs") {
      response.body = jwks_;
    } else {
      response.status = 404;
    }
    return response;
  }

 private:
  std::string jwks_;
};

// The JWKS with the harness key (and an EC key no seed token uses).
inline std::string HarnessJwks() {
  return R"({"keys":[{"kty":"RSA","kid":")" + std::string(kKeyId)
         + R"(","use":"sig","alg":"RS256","n":")" + std::string(kModulus) + R"(","e":")"
         + std::string(kExponent)
         + R"("},{"kty":"EC","kid":"fuzz-ec","crv":"P-256",)"
           R"("x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",)"
           R"("y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]})";
}

}  // namespace keybridge::fuzz
