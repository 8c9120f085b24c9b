#include "oauth/token_request.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "crypto/base64.h"
#include "oauth/test_fixtures.h"

namespace keybridge::oauth {
namespace {

using testing::GitHubProvider;
using testing::GitLabProvider;
using testing::HeaderLines;
using testing::OidcProvider;
using testing::SsoMetadata;

const std::vector<std::string> kFormHeaders = {
    "Content-Type: application/x-www-form-urlencoded",
    "Accept: application/json",
    "User-Agent: keybridge/0.1",
};

TEST(BuildCodeExchange, GitLabPostsEverythingInTheBody) {
  const core::Provider provider = GitLabProvider("https://git.example.org/gitlab/");
  const auto endpoints = EndpointsFor(provider, nullptr).value();
  const core::Secret code("c0de");
  const core::Secret verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");

  const core::HttpRequest request = BuildCodeExchange(
      provider, endpoints, "https://kb.example.org/api/data/oauth2/callback", code, &verifier);

  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://git.example.org/gitlab/oauth/token");
  EXPECT_EQ(HeaderLines(request), kFormHeaders);
  EXPECT_EQ(request.body,
            "grant_type=authorization_code&code=c0de"
            "&redirect_uri=https%3A%2F%2Fkb.example.org%2Fapi%2Fdata%2Foauth2%2Fcallback"
            "&client_id=gl-client&client_secret=gl-secret"
            "&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  EXPECT_EQ(request.timeout, std::chrono::seconds(10));
}

TEST(BuildCodeExchange, GitHubWithoutPkce) {
  const core::Provider provider = GitHubProvider();
  const auto endpoints = EndpointsFor(provider, nullptr).value();

  const core::HttpRequest request = BuildCodeExchange(
      provider, endpoints, "https://r/cb", core::Secret("3584d83530557fdd1f46"), nullptr);

  EXPECT_EQ(request.url, "https://github.com/login/oauth/access_token");
  EXPECT_EQ(HeaderLines(request), kFormHeaders);
  EXPECT_EQ(request.body,
            "grant_type=authorization_code&code=3584d83530557fdd1f46&redirect_uri=https%3A%2F%2Fr"
            "%2Fcb&client_id=Iv23liABC&client_secret=gh-secret");
}

TEST(BuildCodeExchange, PublicClientSendsOnlyItsId) {
  core::Provider provider = GitLabProvider();
  provider.client_secret.reset();
  core::Provider empty_secret = GitLabProvider();
  empty_secret.client_secret = core::Secret("");
  const auto endpoints = EndpointsFor(provider, nullptr).value();
  const core::Secret verifier("v");

  const auto request =
      BuildCodeExchange(provider, endpoints, "https://r", core::Secret("c"), &verifier);
  const auto request2 =
      BuildCodeExchange(empty_secret, endpoints, "https://r", core::Secret("c"), &verifier);

  const std::string expected =
      "grant_type=authorization_code&code=c&redirect_uri=https%3A%2F%2Fr&client_id=gl-client"
      "&code_verifier=v";
  EXPECT_EQ(request.body, expected);
  EXPECT_EQ(request2.body, expected);
}

TEST(BuildRefresh, GitLabAlsoSendsTheRedirectUri) {
  const core::Provider provider = GitLabProvider();
  const auto endpoints = EndpointsFor(provider, nullptr).value();

  const auto request =
      BuildRefresh(provider, endpoints, core::Secret("deadbeefdeadbeef"), "https://r/cb");

  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://gitlab.example.com/oauth/token");
  EXPECT_EQ(HeaderLines(request), kFormHeaders);
  EXPECT_EQ(request.body,
            "grant_type=refresh_token&refresh_token=deadbeefdeadbeef"
            "&redirect_uri=https%3A%2F%2Fr%2Fcb&client_id=gl-client&client_secret=gl-secret");
}

TEST(BuildRefresh, GitHubNeverSendsARedirectUri) {
  const core::Provider provider = GitHubProvider("https://ghe.example.org");
  const auto endpoints = EndpointsFor(provider, nullptr).value();

  const auto with = BuildRefresh(provider, endpoints, core::Secret("ghr_1B4a"), "https://r/cb");
  const auto without = BuildRefresh(provider, endpoints, core::Secret("ghr_1B4a"));

  EXPECT_EQ(with.url, "https://ghe.example.org/login/oauth/access_token");
  EXPECT_EQ(with.body,
            "grant_type=refresh_token&refresh_token=ghr_1B4a&client_id=Iv23liABC"
            "&client_secret=gh-secret");
  EXPECT_EQ(without.body, with.body);
}

TEST(BuildRefresh, BasicAuthFormEncodesIdAndSecretFirst) {
  core::Provider provider = OidcProvider();
  provider.client_id = "kb client";
  provider.client_secret = core::Secret("a:b+c%");
  OidcMetadata metadata = SsoMetadata();
  metadata.token_endpoint_auth_methods_supported = {"client_secret_basic"};
  const auto endpoints = EndpointsFor(provider, &metadata).value();

  const auto request = BuildRefresh(provider, endpoints, core::Secret("rt"));

  EXPECT_EQ(request.url, "https://sso.example.org/realms/main/token");
  std::vector<std::string> expected = kFormHeaders;
  expected.push_back("Authorization: Basic " + crypto::Base64Encode("kb+client:a%3Ab%2Bc%25"));
  EXPECT_EQ(HeaderLines(request), expected);
  EXPECT_EQ(request.body, "grant_type=refresh_token&refresh_token=rt");
}

}  // namespace
}  // namespace keybridge::oauth
