#include "core/provider.h"

#include <gtest/gtest.h>

namespace keybridge::core {
namespace {

Provider ValidGitLab() {
  Provider p;
  p.id = ProviderId("gitlab.example.org");
  p.kind = ProviderKind::kGitLab;
  p.client_id = "abc123";
  p.display_name = "Example GitLab";
  p.scope = "read_api read_repository write_repository";
  p.url = "https://gitlab.example.org/gitlab";
  return p;
}

TEST(SlugifyProviderId, FollowsRenkuRules) {
  EXPECT_EQ(SlugifyProviderId("some provider").value(), "some-provider");
  EXPECT_EQ(SlugifyProviderId("GitHub.com").value(), "github.com");
  EXPECT_EQ(SlugifyProviderId("  Zürich Lab  ").value(), "zurich-lab");
  EXPECT_EQ(SlugifyProviderId("a__b--c").value(), "a-b-c");
  EXPECT_EQ(SlugifyProviderId("repo.git").value(), "repo");
  EXPECT_EQ(SlugifyProviderId("-lead-and-trail-").value(), "lead-and-trail");
}

TEST(SlugifyProviderId, RejectsIdsWithNothingUsable) {
  auto result = SlugifyProviderId("__$%#$@#$__");

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(result.error().message.find("invalid characters"), std::string::npos);
}

TEST(SlugifyProviderId, RejectsTraversalAsPlainCharacters) {
  EXPECT_EQ(SlugifyProviderId("../etc/passwd").value(), "etc-passwd");
}

TEST(ValidateProvider, AcceptsAValidGitLab) {
  EXPECT_TRUE(ValidateProvider(ValidGitLab()).ok());
}

TEST(ValidateProvider, RejectsPlainHttpForRemoteHosts) {
  Provider p = ValidGitLab();
  p.url = "http://gitlab.example.org";

  auto status = ValidateProvider(p);

  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("url must use https"), std::string::npos);
}

TEST(ValidateProvider, AllowsPlainHttpForLoopback) {
  Provider p = ValidGitLab();
  p.url = "http://127.0.0.1:8081/gitlab";
  EXPECT_TRUE(ValidateProvider(p).ok());
}

TEST(ValidateProvider, RejectsPlainHttpForDnsNamesThatStartWith127) {
  Provider p = ValidGitLab();
  p.url = "http://127.attacker.example/gitlab";

  auto status = ValidateProvider(p);

  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("url must use https"), std::string::npos);
}

TEST(ValidateProvider, RejectsCredentialsQueryAndFragmentInUrls) {
  for (const char* url : {"https://user:pw@gitlab.example.org", "https://gitlab.example.org/?a=b",
                          "https://gitlab.example.org/#x", "gitlab.example.org", "https://"}) {
    Provider p = ValidGitLab();
    p.url = url;
    EXPECT_FALSE(ValidateProvider(p).ok()) << url;
  }
}

TEST(ValidateProvider, RejectsInvalidScopeTokens) {
  Provider p = ValidGitLab();
  p.scope = "read_api  write_repository";
  EXPECT_FALSE(ValidateProvider(p).ok());
  p.scope = "read\"api";
  EXPECT_FALSE(ValidateProvider(p).ok());
  p.scope = "";
  EXPECT_TRUE(ValidateProvider(p).ok());
}

TEST(ValidateProvider, RequiresAppSlugForGitHubApps) {
  Provider p = ValidGitLab();
  p.kind = ProviderKind::kGitHub;
  p.url = "https://github.com";
  p.client_id = "Iv23liAbCdEf";  // a GitHub App's client id

  auto status = ValidateProvider(p);

  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("app_slug is required"), std::string::npos);
  p.image_registry_url = "https://ghcr.io";
  EXPECT_TRUE(ValidateProvider(p).ok()) << "an OAuth App for ghcr.io needs no slug";
}

TEST(IsGitHubApp, AnAppSlugMakesAGitHubAppWithoutOneItIsAnOAuthApp) {
  Provider p = ValidGitLab();
  p.kind = ProviderKind::kGitHub;
  p.url = "https://github.com";
  p.client_id = "Ov23liAbCdEf";  // a GitHub OAuth App's client id
  p.scope = "repo read:packages";
  EXPECT_TRUE(ValidateProvider(p).ok()) << "an OAuth App needs no slug";
  EXPECT_FALSE(IsGitHubApp(p));
  p.app_slug = "renku-app";
  EXPECT_TRUE(IsGitHubApp(p));
  p.image_registry_url = "https://ghcr.io";
  EXPECT_FALSE(IsGitHubApp(p)) << "a registry integration is an OAuth App, as Renku infers it";
}

TEST(ValidateProvider, RequiresIssuerOnlyForGenericOidc) {
  Provider p = ValidGitLab();
  p.kind = ProviderKind::kGenericOidc;
  EXPECT_FALSE(ValidateProvider(p).ok());
  p.oidc_issuer_url = "https://id.example.org/realms/x";
  EXPECT_TRUE(ValidateProvider(p).ok());
  p.kind = ProviderKind::kGitLab;
  EXPECT_FALSE(ValidateProvider(p).ok());
}

TEST(ValidateProvider, BoundsLengthsBeforeTheDatabaseDoes) {
  Provider p = ValidGitLab();
  p.display_name = std::string(100, 'x');
  EXPECT_FALSE(ValidateProvider(p).ok());
  p = ValidGitLab();
  p.client_id = std::string(501, 'x');
  EXPECT_FALSE(ValidateProvider(p).ok());
}

TEST(ProviderKind, RoundTripsAndRejectsUnknown) {
  for (auto kind : {ProviderKind::kGitLab, ProviderKind::kGitHub, ProviderKind::kGenericOidc}) {
    EXPECT_EQ(ParseProviderKind(ToString(kind)).value(), kind);
  }
  EXPECT_FALSE(ParseProviderKind("dropbox").ok());
}

}  // namespace
}  // namespace keybridge::core
