#include "oauth/revocation.h"

#include <gtest/gtest.h>

#include "crypto/base64.h"
#include "oauth/test_fixtures.h"

namespace keybridge::oauth {
namespace {

using testing::GitHubProvider;
using testing::GitLabProvider;
using testing::HeaderLines;
using testing::OidcProvider;
using testing::SsoMetadata;

core::TokenSet Tokens(std::string access, std::optional<std::string> refresh) {
  core::TokenSet tokens;
  tokens.access_token = core::Secret(std::move(access));
  if (refresh) {
    tokens.refresh_token = core::Secret(std::move(*refresh));
  }
  return tokens;
}

TEST(BuildRevocation, GitLabRevokesTheRefreshTokenPerRfc7009) {
  const core::Provider provider = GitLabProvider("https://git.example.org/gitlab");
  const auto endpoints = EndpointsFor(provider, nullptr).value();

  const auto request = BuildRevocation(provider, endpoints, Tokens("at", "rt"));

  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->method, "POST");
  EXPECT_EQ(request->url, "https://git.example.org/gitlab/oauth/revoke");
  EXPECT_EQ(HeaderLines(*request),
            (std::vector<std::string>{"Content-Type: application/x-www-form-urlencoded",
                                      "Accept: application/json", "User-Agent: keybridge/0.1"}));
  EXPECT_EQ(request->body,
            "token=rt&token_type_hint=refresh_token&client_id=gl-client&client_secret=gl-secret");
}

TEST(BuildRevocation, GitLabFallsBackToTheAccessToken) {
  core::Provider provider = GitLabProvider();
  provider.client_secret.reset();
  const auto endpoints = EndpointsFor(provider, nullptr).value();

  const auto request = BuildRevocation(provider, endpoints, Tokens("at", std::nullopt));

  EXPECT_EQ(request->body, "token=at&token_type_hint=access_token&client_id=gl-client");
}

TEST(BuildRevocation, GitHubDeletesTheTokenWithBasicClientCredentials) {
  const core::Provider provider = GitHubProvider();
  const auto endpoints = EndpointsFor(provider, nullptr).value();

  const auto request = BuildRevocation(provider, endpoints, Tokens("ghu_abc", "ghr_def"));

  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->method, "DELETE");
  EXPECT_EQ(request->url, "https://api.github.com/applications/Iv23liABC/token");
  EXPECT_EQ(HeaderLines(*request),
            (std::vector<std::string>{
                "Accept: application/vnd.github+json", "X-GitHub-Api-Version: 2022-11-28",
                "User-Agent: keybridge/0.1",
                "Authorization: Basic " + crypto::Base64Encode("Iv23liABC:gh-secret"),
                "Content-Type: application/json"}));
  EXPECT_EQ(request->body, R"({"access_token":"ghu_abc"})");
}

TEST(BuildRevocation, GitHubEnterpriseUsesApiV3) {
  const core::Provider provider = GitHubProvider("https://ghe.example.org/");
  const auto endpoints = EndpointsFor(provider, nullptr).value();

  const auto request = BuildRevocation(provider, endpoints, Tokens("ghu_abc", std::nullopt));

  EXPECT_EQ(request->url, "https://ghe.example.org/api/v3/applications/Iv23liABC/token");
}

TEST(BuildRevocation, GitHubWithoutClientSecretCannotRevoke) {
  core::Provider provider = GitHubProvider();
  provider.client_secret.reset();
  const auto endpoints = EndpointsFor(provider, nullptr).value();

  EXPECT_FALSE(BuildRevocation(provider, endpoints, Tokens("ghu_abc", std::nullopt)).has_value());
}

TEST(BuildRevocation, OidcOnlyWithADiscoveredEndpoint) {
  OidcMetadata metadata = SsoMetadata();
  const auto with = EndpointsFor(OidcProvider(), &metadata).value();
  metadata.revocation_endpoint.clear();
  const auto without = EndpointsFor(OidcProvider(), &metadata).value();

  const auto request = BuildRevocation(OidcProvider(), with, Tokens("at", "rt"));

  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->url, "https://sso.example.org/realms/main/revoke");
  EXPECT_EQ(request->body,
            "token=rt&token_type_hint=refresh_token&client_id=kb&client_secret=oidc-secret");
  EXPECT_FALSE(BuildRevocation(OidcProvider(), without, Tokens("at", "rt")).has_value());
}

TEST(BuildRevocation, NothingToRevokeWithoutTokens) {
  const core::Provider provider = GitLabProvider();
  const auto endpoints = EndpointsFor(provider, nullptr).value();

  EXPECT_FALSE(BuildRevocation(provider, endpoints, core::TokenSet{}).has_value());
}

TEST(IsRevocationSuccess, AcceptsOkNoContentAndAlreadyGone) {
  EXPECT_TRUE(IsRevocationSuccess(testing::Json(200, "{}")));
  EXPECT_TRUE(IsRevocationSuccess(testing::Json(204, "")));
  EXPECT_TRUE(IsRevocationSuccess(testing::Json(404, R"({"message":"Not Found"})")));
  EXPECT_FALSE(IsRevocationSuccess(testing::Json(403, R"({"error":"unauthorized_client"})")));
  EXPECT_FALSE(IsRevocationSuccess(testing::Json(422, "{}")));
  EXPECT_FALSE(IsRevocationSuccess(testing::Json(503, "")));
}

}  // namespace
}  // namespace keybridge::oauth
