#include "oauth/oidc_discovery.h"

#include <gtest/gtest.h>

#include "oauth/test_fixtures.h"

namespace keybridge::oauth {
namespace {

using testing::HeaderLines;
using testing::Json;

constexpr std::string_view kIssuer = "https://sso.example.org/realms/main";

std::string Document(std::string_view issuer, std::string_view token_endpoint =
                                                  "https://sso.example.org/realms/main/token") {
  return R"({"issuer":")" + std::string(issuer)
         + R"(","authorization_endpoint":"https://sso.example.org/realms/main/auth",)"
           R"("token_endpoint":")"
         + std::string(token_endpoint)
         + R"(","userinfo_endpoint":"https://sso.example.org/realms/main/userinfo",)"
           R"("jwks_uri":"https://sso.example.org/realms/main/certs",)"
           R"("code_challenge_methods_supported":["plain","S256"],)"
           R"("token_endpoint_auth_methods_supported":["client_secret_basic","private_key_jwt"],)"
           R"("authorization_response_iss_parameter_supported":true})";
}

TEST(BuildDiscoveryRequest, AppendsWellKnownPathWithoutDoubleSlash) {
  for (const char* issuer :
       {"https://sso.example.org/realms/main", "https://sso.example.org/realms/main/"}) {
    const auto request = BuildDiscoveryRequest(issuer);

    EXPECT_EQ(request.method, "GET");
    EXPECT_EQ(request.url, "https://sso.example.org/realms/main/.well-known/openid-configuration");
    EXPECT_EQ(HeaderLines(request),
              (std::vector<std::string>{"Accept: application/json", "User-Agent: keybridge/0.1"}));
  }
}

TEST(ParseDiscovery, ReadsTheEndpoints) {
  const auto metadata = ParseDiscovery(Json(200, Document(kIssuer)), kIssuer).value();

  EXPECT_EQ(metadata.issuer, kIssuer);
  EXPECT_EQ(metadata.authorization_endpoint, "https://sso.example.org/realms/main/auth");
  EXPECT_EQ(metadata.token_endpoint, "https://sso.example.org/realms/main/token");
  EXPECT_EQ(metadata.userinfo_endpoint, "https://sso.example.org/realms/main/userinfo");
  EXPECT_EQ(metadata.revocation_endpoint, "");
  EXPECT_EQ(metadata.jwks_uri, "https://sso.example.org/realms/main/certs");
  EXPECT_EQ(metadata.code_challenge_methods_supported, (std::vector<std::string>{"plain", "S256"}));
  EXPECT_EQ(metadata.token_endpoint_auth_methods_supported,
            (std::vector<std::string>{"client_secret_basic", "private_key_jwt"}));
  EXPECT_TRUE(metadata.authorization_response_iss_parameter_supported);
}

TEST(ParseDiscovery, RejectsAnIssuerMismatch) {
  for (const char* expected :
       {"https://sso.example.org/realms/main/", "https://sso.example.org/realms/other",
        "https://SSO.example.org/realms/main"}) {
    const auto metadata = ParseDiscovery(Json(200, Document(kIssuer)), expected);

    ASSERT_FALSE(metadata.ok()) << expected;
    EXPECT_EQ(metadata.error().code, core::ErrorCode::kUpstreamFailed);
    EXPECT_NE(metadata.error().message.find("not exactly the configured oidc_issuer_url"),
              std::string::npos);
  }
}

TEST(ParseDiscovery, NeverCopiesControlCharactersOfAForeignIssuerIntoTheMessage) {
  const auto metadata =
      ParseDiscovery(Json(200, Document("https://evil.example\\r\\nX-Injected: 1")), kIssuer);

  ASSERT_FALSE(metadata.ok());
  EXPECT_NE(metadata.error().message.find("evil.example??X-Injected"), std::string::npos);
  EXPECT_EQ(metadata.error().message.find('\n'), std::string::npos);
  EXPECT_EQ(metadata.error().message.find('\r'), std::string::npos);
}

TEST(ParseDiscovery, RejectsInsecureEndpoints) {
  for (const char* token : {"http://sso.example.org/token", "https://sso.example.org/t#frag",
                            "https://user:pw@sso.example.org/token", "not a url"}) {
    const auto metadata = ParseDiscovery(Json(200, Document(kIssuer, token)), kIssuer);

    ASSERT_FALSE(metadata.ok()) << token;
    EXPECT_EQ(metadata.error().code, core::ErrorCode::kUpstreamFailed);
  }
}

TEST(ParseDiscovery, AllowsPlainHttpOnLoopback) {
  const std::string issuer = "http://127.0.0.1:8080";
  const std::string body = R"({"issuer":"http://127.0.0.1:8080",)"
                           R"("authorization_endpoint":"http://127.0.0.1:8080/auth",)"
                           R"("token_endpoint":"http://localhost:8080/token"})";

  EXPECT_TRUE(ParseDiscovery(Json(200, body), issuer).ok());
}

TEST(ParseDiscovery, NonSuccessOrUnreadableAnswersAreUpstreamFailures) {
  const std::vector<core::HttpResponse> responses = {
      Json(404, Document(kIssuer)),
      Json(500, ""),
      Json(200, "<html></html>"),
      Json(200, R"({"issuer":"https://sso.example.org/realms/main"})"),
  };
  for (const auto& response : responses) {
    const auto metadata = ParseDiscovery(response, kIssuer);

    ASSERT_FALSE(metadata.ok()) << response.status << response.body;
    EXPECT_EQ(metadata.error().code, core::ErrorCode::kUpstreamFailed);
    EXPECT_NE(metadata.error().message.find(std::string(kIssuer)), std::string::npos);
  }
}

}  // namespace
}  // namespace keybridge::oauth
