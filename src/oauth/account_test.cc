#include "oauth/account.h"

#include <gtest/gtest.h>

#include "oauth/test_fixtures.h"

namespace keybridge::oauth {
namespace {

using testing::GitHubProvider;
using testing::GitLabProvider;
using testing::HeaderLines;
using testing::Json;
using testing::OidcProvider;
using testing::SsoMetadata;

TEST(BuildAccountRequest, GitLabGetsUserWithBearerToken) {
  const core::Provider provider = GitLabProvider("https://git.example.org/gitlab/");
  const auto endpoints = EndpointsFor(provider, nullptr).value();

  const auto request = BuildAccountRequest(provider, endpoints, core::Secret("glat"));

  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.url, "https://git.example.org/gitlab/api/v4/user");
  EXPECT_EQ(HeaderLines(request),
            (std::vector<std::string>{"Accept: application/json", "User-Agent: keybridge/0.1",
                                      "Authorization: Bearer glat"}));
  EXPECT_EQ(request.body, "");
}

TEST(BuildAccountRequest, GitHubSendsVersionedAcceptHeaders) {
  const core::Provider provider = GitHubProvider("https://ghe.example.org");
  const auto endpoints = EndpointsFor(provider, nullptr).value();

  const auto request = BuildAccountRequest(provider, endpoints, core::Secret("ghu_x"));

  EXPECT_EQ(request.url, "https://ghe.example.org/api/v3/user");
  EXPECT_EQ(HeaderLines(request),
            (std::vector<std::string>{"Accept: application/vnd.github+json",
                                      "X-GitHub-Api-Version: 2022-11-28",
                                      "User-Agent: keybridge/0.1", "Authorization: Bearer ghu_x"}));
}

TEST(BuildAccountRequest, OidcUsesTheDiscoveredUserinfoEndpoint) {
  const OidcMetadata metadata = SsoMetadata();
  const auto endpoints = EndpointsFor(OidcProvider(), &metadata).value();

  const auto request = BuildAccountRequest(OidcProvider(), endpoints, core::Secret("at"));

  EXPECT_EQ(request.url, "https://sso.example.org/realms/main/userinfo");
}

TEST(ParseAccount, GitLabUser) {
  const auto account = ParseAccount(
      core::ProviderKind::kGitLab,
      Json(200, R"({"id":1,"username":"john_smith","name":"John Smith","state":"active",)"
                R"("web_url":"https://gitlab.example.com/john_smith"})"));

  EXPECT_EQ(account->username, "john_smith");
  EXPECT_EQ(account->web_url, "https://gitlab.example.com/john_smith");
  EXPECT_EQ(account->id, "1");
}

TEST(ParseAccount, GitHubUser) {
  const auto account = ParseAccount(
      core::ProviderKind::kGitHub,
      Json(200, R"({"login":"octocat","id":583231,"type":"User","name":null,"email":null,)"
                R"("html_url":"https://github.com/octocat"})"));

  EXPECT_EQ(account->username, "octocat");
  EXPECT_EQ(account->web_url, "https://github.com/octocat");
  EXPECT_EQ(account->id, "583231");
}

TEST(ParseAccount, OidcPrefersPreferredUsernameThenNameThenSub) {
  const auto preferred = ParseAccount(
      core::ProviderKind::kGenericOidc,
      Json(200, R"({"sub":"f81d4fae","name":"Jane Doe","preferred_username":"jane"})"));
  const auto name = ParseAccount(core::ProviderKind::kGenericOidc,
                                 Json(200, R"({"sub":"f81d4fae","name":"Jane Doe",)"
                                           R"("preferred_username":""})"));
  const auto sub = ParseAccount(core::ProviderKind::kGenericOidc, Json(200, R"({"sub":"f81d"})"));

  EXPECT_EQ(preferred->username, "jane");
  EXPECT_EQ(preferred->web_url, "");
  EXPECT_EQ(preferred->id, "f81d4fae");
  EXPECT_EQ(name->username, "Jane Doe");
  EXPECT_EQ(sub->username, "f81d");
}

TEST(ParseAccount, MapsApiErrors) {
  const auto unauthorized =
      ParseAccount(core::ProviderKind::kGitHub, Json(401, R"({"message":"Bad credentials"})"));
  const auto limited =
      ParseAccount(core::ProviderKind::kGitHub, Json(403, "{}", {{"x-ratelimit-remaining", "0"}}));
  const auto missing = ParseAccount(core::ProviderKind::kGitLab, Json(404, "{}"));

  EXPECT_EQ(unauthorized.error().code, core::ErrorCode::kReauthorizationRequired);
  EXPECT_EQ(unauthorized.error().detail, "api_401");
  EXPECT_EQ(limited.error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(missing.error().code, core::ErrorCode::kUpstreamFailed);
}

TEST(ParseAccount, RejectsBodiesWithoutAUsername) {
  for (const char* body : {"<html></html>", "[]", R"({"login":"octocat"})", R"({"username":5})"}) {
    const auto account = ParseAccount(core::ProviderKind::kGitLab, Json(200, body));

    ASSERT_FALSE(account.ok()) << body;
    EXPECT_EQ(account.error().code, core::ErrorCode::kUpstreamFailed) << body;
  }
}

}  // namespace
}  // namespace keybridge::oauth
