#include "oauth/provider_profile.h"

#include <gtest/gtest.h>

#include "oauth/test_fixtures.h"

namespace keybridge::oauth {
namespace {

using testing::GitHubProvider;
using testing::GitLabProvider;
using testing::OidcProvider;
using testing::SsoMetadata;

TEST(EndpointsFor, GitLabWithPathWorksWithAndWithoutTrailingSlash) {
  for (const char* url : {"https://git.example.org/gitlab", "https://git.example.org/gitlab/"}) {
    const auto endpoints = EndpointsFor(GitLabProvider(url), nullptr);

    ASSERT_TRUE(endpoints.ok()) << url;
    EXPECT_EQ(endpoints->authorize_url, "https://git.example.org/gitlab/oauth/authorize");
    EXPECT_EQ(endpoints->token_url, "https://git.example.org/gitlab/oauth/token");
    EXPECT_EQ(endpoints->api_base, "https://git.example.org/gitlab/api/v4");
    EXPECT_EQ(endpoints->revoke_url, "https://git.example.org/gitlab/oauth/revoke");
    EXPECT_EQ(endpoints->userinfo_url, "https://git.example.org/gitlab/api/v4/user");
    EXPECT_EQ(endpoints->token_auth, ClientAuthMethod::kClientSecretPost);
  }
}

TEST(EndpointsFor, GitLabAtTheRoot) {
  const auto endpoints = EndpointsFor(GitLabProvider("https://gitlab.com"), nullptr).value();

  EXPECT_EQ(endpoints.authorize_url, "https://gitlab.com/oauth/authorize");
  EXPECT_EQ(endpoints.api_base, "https://gitlab.com/api/v4");
}

TEST(EndpointsFor, GitHubDotComUsesApiGithubCom) {
  const auto endpoints = EndpointsFor(GitHubProvider("https://github.com"), nullptr).value();

  EXPECT_EQ(endpoints.authorize_url, "https://github.com/login/oauth/authorize");
  EXPECT_EQ(endpoints.token_url, "https://github.com/login/oauth/access_token");
  EXPECT_EQ(endpoints.api_base, "https://api.github.com");
  EXPECT_EQ(endpoints.revoke_url, "https://api.github.com/applications/Iv23liABC/token");
  EXPECT_EQ(endpoints.userinfo_url, "https://api.github.com/user");
}

TEST(EndpointsFor, WwwGitHubComIsGitHubDotCom) {
  const auto endpoints = EndpointsFor(GitHubProvider("https://WWW.github.com/"), nullptr).value();

  EXPECT_EQ(endpoints.authorize_url, "https://github.com/login/oauth/authorize");
  EXPECT_EQ(endpoints.token_url, "https://github.com/login/oauth/access_token");
  EXPECT_EQ(endpoints.api_base, "https://api.github.com");
}

TEST(EndpointsFor, AnyOtherGitHubHostIsEnterpriseServer) {
  for (const char* url : {"https://ghe.example.org", "https://ghe.example.org/"}) {
    const auto endpoints = EndpointsFor(GitHubProvider(url), nullptr).value();

    EXPECT_EQ(endpoints.authorize_url, "https://ghe.example.org/login/oauth/authorize");
    EXPECT_EQ(endpoints.token_url, "https://ghe.example.org/login/oauth/access_token");
    EXPECT_EQ(endpoints.api_base, "https://ghe.example.org/api/v3");
    EXPECT_EQ(endpoints.revoke_url, "https://ghe.example.org/api/v3/applications/Iv23liABC/token");
  }
}

TEST(EndpointsFor, GitHubLookalikeHostIsNotGitHubDotCom) {
  const auto endpoints = EndpointsFor(GitHubProvider("https://github.com.evil.org"), nullptr);

  EXPECT_EQ(endpoints->api_base, "https://github.com.evil.org/api/v3");
}

TEST(EndpointsFor, GenericOidcComesFromDiscovery) {
  const OidcMetadata metadata = SsoMetadata();

  const auto endpoints = EndpointsFor(OidcProvider(), &metadata).value();

  EXPECT_EQ(endpoints.authorize_url, "https://sso.example.org/realms/main/auth");
  EXPECT_EQ(endpoints.token_url, "https://sso.example.org/realms/main/token");
  EXPECT_EQ(endpoints.userinfo_url, "https://sso.example.org/realms/main/userinfo");
  EXPECT_EQ(endpoints.revoke_url, "https://sso.example.org/realms/main/revoke");
  EXPECT_EQ(endpoints.api_base, "https://sso.example.org");
  EXPECT_EQ(endpoints.token_auth, ClientAuthMethod::kClientSecretPost);
}

TEST(EndpointsFor, GenericOidcDefaultsToBasicAuthWhenPostIsNotAdvertised) {
  OidcMetadata metadata = SsoMetadata();
  metadata.token_endpoint_auth_methods_supported.clear();
  metadata.revocation_endpoint.clear();

  const auto endpoints = EndpointsFor(OidcProvider(), &metadata).value();

  EXPECT_EQ(endpoints.token_auth, ClientAuthMethod::kClientSecretBasic);
  EXPECT_EQ(endpoints.revoke_url, "");
}

TEST(EndpointsFor, GenericOidcWithoutDiscoveryIsACallerBug) {
  const auto endpoints = EndpointsFor(OidcProvider(), nullptr);

  ASSERT_FALSE(endpoints.ok());
  EXPECT_EQ(endpoints.error().code, core::ErrorCode::kInternal);
}

TEST(EndpointsFor, RejectsAnUnparseableUrl) {
  const auto endpoints = EndpointsFor(GitLabProvider("not a url"), nullptr);

  ASSERT_FALSE(endpoints.ok());
  EXPECT_EQ(endpoints.error().code, core::ErrorCode::kInvalidArgument);
}

TEST(GitUsername, IsProviderSpecific) {
  EXPECT_EQ(GitUsername(core::ProviderKind::kGitLab), "oauth2");
  EXPECT_EQ(GitUsername(core::ProviderKind::kGitHub), "x-access-token");
  EXPECT_EQ(GitUsername(core::ProviderKind::kGenericOidc), "oauth2");
}

TEST(GitHubFlavor, GitHubDotComAndWwwGitHubDotComAreGitHubDotCom) {
  for (const char* url : {"https://github.com", "https://github.com/", "https://www.github.com",
                          "https://WWW.github.com/"}) {
    EXPECT_EQ(GitHubFlavor(GitHubProvider(url)), "github.com") << url;
  }
}

TEST(GitHubFlavor, AnyOtherHostIsEnterprise) {
  for (const char* url : {"https://ghe.example.org", "https://github.example.org/",
                          "https://github.com.evil.org", "https://gist.github.com"}) {
    EXPECT_EQ(GitHubFlavor(GitHubProvider(url)), "enterprise") << url;
  }
}

TEST(GitHubFlavor, IsEmptyForOtherKinds) {
  core::Provider gitlab = GitHubProvider("https://github.com");
  gitlab.kind = core::ProviderKind::kGitLab;

  EXPECT_EQ(GitHubFlavor(gitlab), "");
}

TEST(InstallUrl, UsesAppsOnGitHubDotComAndGitHubAppsOnEnterprise) {
  EXPECT_EQ(InstallUrl(GitHubProvider("https://github.com")),
            "https://github.com/apps/keybridge-app/installations/new");
  EXPECT_EQ(InstallUrl(GitHubProvider("https://www.github.com")),
            "https://github.com/apps/keybridge-app/installations/new");
  EXPECT_EQ(InstallUrl(GitHubProvider("https://ghe.example.org/")),
            "https://ghe.example.org/github-apps/keybridge-app/installations/new");
}

TEST(InstallUrl, IsEmptyForAnythingButAGitHubAppWithSlug) {
  core::Provider oauth_app = GitHubProvider();
  oauth_app.image_registry_url = "https://ghcr.io";
  core::Provider no_slug = GitHubProvider();
  no_slug.app_slug.clear();

  EXPECT_EQ(InstallUrl(oauth_app), "");
  EXPECT_EQ(InstallUrl(no_slug), "");
  EXPECT_EQ(InstallUrl(GitLabProvider()), "");
}

TEST(ApiHeaders, AddGitHubVersioningAndAlwaysAUserAgent) {
  const auto github = testing::HeaderLines(ApiHeaders(core::ProviderKind::kGitHub));
  const auto gitlab = testing::HeaderLines(ApiHeaders(core::ProviderKind::kGitLab));

  EXPECT_EQ(github, (std::vector<std::string>{"Accept: application/vnd.github+json",
                                              "X-GitHub-Api-Version: 2022-11-28",
                                              "User-Agent: keybridge/0.1"}));
  EXPECT_EQ(gitlab,
            (std::vector<std::string>{"Accept: application/json", "User-Agent: keybridge/0.1"}));
  EXPECT_EQ(UserAgent(), "keybridge/0.1");
}

}  // namespace
}  // namespace keybridge::oauth
