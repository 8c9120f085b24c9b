#include "oauth/authorization_request.h"

#include <gtest/gtest.h>

#include <string>

#include "oauth/test_fixtures.h"

namespace keybridge::oauth {
namespace {

using testing::GitHubProvider;
using testing::GitLabProvider;

constexpr std::string_view kRedirect = "https://kb.example.org/api/data/oauth2/callback";
constexpr std::string_view kEncodedRedirect =
    "https%3A%2F%2Fkb.example.org%2Fapi%2Fdata%2Foauth2%2Fcallback";
const std::string kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

std::string UrlFor(const core::Provider& provider, const std::string* challenge) {
  const auto endpoints = EndpointsFor(provider, nullptr).value();
  return BuildAuthorizationUrl(provider, endpoints, kRedirect, "st4te-_~x", challenge);
}

TEST(BuildAuthorizationUrl, GitLabWithPathAndPkceInBothSlashForms) {
  const std::string expected =
      "https://git.example.org/gitlab/oauth/authorize?response_type=code&client_id=gl-client"
      "&redirect_uri=" +
      std::string(kEncodedRedirect) +
      "&state=st4te-_~x&scope=api%20read_user"
      "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";

  EXPECT_EQ(UrlFor(GitLabProvider("https://git.example.org/gitlab"), &kChallenge), expected);
  EXPECT_EQ(UrlFor(GitLabProvider("https://git.example.org/gitlab/"), &kChallenge), expected);
}

TEST(BuildAuthorizationUrl, GitHubDotComWithoutScopeOrPkce) {
  EXPECT_EQ(UrlFor(GitHubProvider("https://github.com"), nullptr),
            "https://github.com/login/oauth/authorize?response_type=code&client_id=Iv23liABC"
            "&redirect_uri="
                + std::string(kEncodedRedirect) + "&state=st4te-_~x");
}

TEST(BuildAuthorizationUrl, WwwGitHubComGoesToGitHubDotCom) {
  EXPECT_EQ(UrlFor(GitHubProvider("https://www.github.com"), &kChallenge),
            "https://github.com/login/oauth/authorize?response_type=code&client_id=Iv23liABC"
            "&redirect_uri="
                + std::string(kEncodedRedirect) + "&state=st4te-_~x&code_challenge=" + kChallenge
                + "&code_challenge_method=S256");
}

TEST(BuildAuthorizationUrl, GitHubEnterpriseServerUsesItsOwnHost) {
  core::Provider ghe = GitHubProvider("https://ghe.example.org");
  ghe.scope = "repo";

  EXPECT_EQ(UrlFor(ghe, nullptr),
            "https://ghe.example.org/login/oauth/authorize?response_type=code"
            "&client_id=Iv23liABC&redirect_uri="
                + std::string(kEncodedRedirect) + "&state=st4te-_~x&scope=repo");
}

TEST(BuildAuthorizationUrl, EncodesReservedCharactersInEveryValue) {
  core::Provider provider = GitLabProvider();
  provider.client_id = "id&x=1";
  provider.scope = "openid email+x";
  ProviderEndpoints endpoints;
  endpoints.authorize_url = "https://idp.example.org/authorize";

  const std::string url =
      BuildAuthorizationUrl(provider, endpoints, "http://127.0.0.1:9/cb?a=b", "s/t=", nullptr);

  EXPECT_EQ(url,
            "https://idp.example.org/authorize?response_type=code&client_id=id%26x%3D1"
            "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb%3Fa%3Db&state=s%2Ft%3D"
            "&scope=openid%20email%2Bx");
}

TEST(BuildAuthorizationUrl, KeepsAQueryAlreadyInTheAuthorizeUrl) {
  core::Provider provider = GitLabProvider();
  provider.scope.clear();
  ProviderEndpoints endpoints;
  endpoints.authorize_url = "https://idp.example.org/authorize?tenant=a";

  EXPECT_EQ(BuildAuthorizationUrl(provider, endpoints, "https://r", "s", nullptr),
            "https://idp.example.org/authorize?tenant=a&response_type=code&client_id=gl-client"
            "&redirect_uri=https%3A%2F%2Fr&state=s");
  endpoints.authorize_url = "https://idp.example.org/authorize?";
  EXPECT_EQ(BuildAuthorizationUrl(provider, endpoints, "https://r", "s", nullptr),
            "https://idp.example.org/authorize?response_type=code&client_id=gl-client"
            "&redirect_uri=https%3A%2F%2Fr&state=s");
}

TEST(CheckAuthorizationResponseIssuer, EnforcesRfc9207WhereTheIssuerIsKnown) {
  ProviderEndpoints advertised;
  advertised.issuer = "https://id.example.org/realms/r";
  advertised.issuer_in_authorization_response = true;
  ProviderEndpoints silent = advertised;
  silent.issuer_in_authorization_response = false;
  const ProviderEndpoints gitlab;  // no discovered metadata

  EXPECT_TRUE(CheckAuthorizationResponseIssuer(advertised, "https://id.example.org/realms/r").ok());
  EXPECT_EQ(CheckAuthorizationResponseIssuer(advertised, std::nullopt).error().code,
            core::ErrorCode::kBadRequest);
  EXPECT_EQ(
      CheckAuthorizationResponseIssuer(advertised, "https://id.example.org/realms/r/").error().code,
      core::ErrorCode::kBadRequest)
      << "compared exactly (RFC 9207 2.4: simple string comparison)";
  EXPECT_TRUE(CheckAuthorizationResponseIssuer(silent, std::nullopt).ok());
  EXPECT_FALSE(CheckAuthorizationResponseIssuer(silent, "https://evil.example").ok())
      << "sent without being advertised: still compared";
  EXPECT_TRUE(CheckAuthorizationResponseIssuer(gitlab, std::nullopt).ok());
}

}  // namespace
}  // namespace keybridge::oauth
