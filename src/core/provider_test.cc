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
  for (auto kind : kAllProviderKinds) {
    EXPECT_EQ(ParseProviderKind(ToString(kind)).value(), kind);
  }
  EXPECT_EQ(ToString(ProviderKind::kDropbox), "dropbox");
  EXPECT_EQ(ToString(ProviderKind::kGoogle), "google");
  EXPECT_EQ(ToString(ProviderKind::kZenodo), "zenodo");
  const auto unknown = ParseProviderKind("onedrive");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("dropbox, google, zenodo"), std::string::npos)
      << unknown.error().message;
  EXPECT_FALSE(ParseProviderKind("Dropbox").ok());
}

TEST(ProviderKind, OnlyDropboxGoogleAndZenodoAreDataConnectors) {
  EXPECT_TRUE(IsDataConnectorKind(ProviderKind::kDropbox));
  EXPECT_TRUE(IsDataConnectorKind(ProviderKind::kGoogle));
  EXPECT_TRUE(IsDataConnectorKind(ProviderKind::kZenodo));
  EXPECT_FALSE(IsDataConnectorKind(ProviderKind::kGitLab));
  EXPECT_FALSE(IsDataConnectorKind(ProviderKind::kGitHub));
  EXPECT_FALSE(IsDataConnectorKind(ProviderKind::kGenericOidc));
}

TEST(NormalizeProviderUrl, DropboxAndGoogleAcceptTheirOwnHostsAsTheCanonicalUrl) {
  for (const std::string_view typed :
       {"", "https://www.dropbox.com", "https://www.dropbox.com/", "https://dropbox.com",
        "www.dropbox.com", "dropbox.com", "https://WWW.Dropbox.com:443/",
        // Renku ignores this URL, so its administrators typed API hosts and paths too.
        "https://www.dropbox.com/oauth2", "https://api.dropboxapi.com", "api.dropbox.com/2"}) {
    EXPECT_EQ(NormalizeProviderUrl(ProviderKind::kDropbox, typed).value(),
              "https://www.dropbox.com")
        << typed;
  }
  for (const std::string_view typed :
       {"", "https://accounts.google.com", "accounts.google.com/", "https://google.com",
        "google.com", "https://www.googleapis.com/oauth2/v2/", "https://oauth2.googleapis.com",
        "https://drive.google.com", "https://www.google.com"}) {
    EXPECT_EQ(NormalizeProviderUrl(ProviderKind::kGoogle, typed).value(),
              "https://accounts.google.com")
        << typed;
  }
  EXPECT_EQ(CanonicalProviderUrl(ProviderKind::kDropbox), "https://www.dropbox.com");
  EXPECT_EQ(CanonicalProviderUrl(ProviderKind::kGoogle), "https://accounts.google.com");
  EXPECT_EQ(CanonicalProviderUrl(ProviderKind::kZenodo), "");
}

TEST(NormalizeProviderUrl, LoopbackIsALocalStandInAndKeptAsTyped) {
  for (const std::string_view typed : {"http://127.0.0.1:8123", "http://localhost:9000/",
                                       "http://[::1]:7000", "https://127.0.0.2"}) {
    EXPECT_EQ(NormalizeProviderUrl(ProviderKind::kDropbox, typed).value(), typed);
    EXPECT_EQ(NormalizeProviderUrl(ProviderKind::kGoogle, typed).value(), typed);
  }
}

TEST(NormalizeProviderUrl, AnyOtherHostIsRefusedNamingWhatIsAccepted) {
  for (const std::string_view typed :
       {"https://dropbox.example.org", "https://www.dropbox.com.evil.example",
        "https://www.dropbox.com/?next=x", "http://www.dropbox.com", "https://www.dropbox.com:8443",
        "https://user@www.dropbox.com", "https://content.dropboxapi.example",
        "https://accounts.google.com", "http://127.attacker.example"}) {
    const auto normalized = NormalizeProviderUrl(ProviderKind::kDropbox, typed);
    ASSERT_FALSE(normalized.ok()) << typed;
    EXPECT_EQ(normalized.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(normalized.error().message.find("must be empty or https://www.dropbox.com"),
              std::string::npos)
        << normalized.error().message;
    EXPECT_NE(normalized.error().message.find("localhost"), std::string::npos);
  }
  const auto google = NormalizeProviderUrl(ProviderKind::kGoogle, "https://drive.example.org");
  ASSERT_FALSE(google.ok());
  EXPECT_NE(google.error().message.find("https://accounts.google.com"), std::string::npos);
  EXPECT_FALSE(NormalizeProviderUrl(ProviderKind::kGoogle, "https://www.dropbox.com").ok());
}

TEST(NormalizeProviderUrl, OtherKindsKeepTheirUrl) {
  for (auto kind : {ProviderKind::kGitLab, ProviderKind::kGitHub, ProviderKind::kGenericOidc,
                    ProviderKind::kZenodo}) {
    EXPECT_EQ(NormalizeProviderUrl(kind, "https://example.org/x/").value(),
              "https://example.org/x/");
    EXPECT_EQ(NormalizeProviderUrl(kind, "").value(), "");
  }
}

Provider ValidDataConnector(ProviderKind kind, std::string url) {
  Provider p = ValidGitLab();
  p.kind = kind;
  p.url = std::move(url);
  p.scope = "files.content.read";
  return p;
}

TEST(ValidateProvider, DropboxAndGoogleNeedTheCanonicalUrlOrALocalStandIn) {
  EXPECT_TRUE(
      ValidateProvider(ValidDataConnector(ProviderKind::kDropbox, "https://www.dropbox.com")).ok());
  EXPECT_TRUE(
      ValidateProvider(ValidDataConnector(ProviderKind::kDropbox, "http://127.0.0.1:4000")).ok());
  EXPECT_TRUE(
      ValidateProvider(ValidDataConnector(ProviderKind::kGoogle, "https://accounts.google.com"))
          .ok());
  EXPECT_TRUE(
      ValidateProvider(ValidDataConnector(ProviderKind::kGoogle, "http://localhost:4000")).ok());
  // Not normalized: the service stores the canonical spelling, validation insists on it.
  const auto dropbox =
      ValidateProvider(ValidDataConnector(ProviderKind::kDropbox, "https://dropbox.com"));
  ASSERT_FALSE(dropbox.ok());
  EXPECT_NE(dropbox.error().message.find("https://www.dropbox.com"), std::string::npos);
  EXPECT_FALSE(
      ValidateProvider(ValidDataConnector(ProviderKind::kGoogle, "https://gitlab.example.org"))
          .ok());
  EXPECT_FALSE(ValidateProvider(ValidDataConnector(ProviderKind::kGoogle, "")).ok());
}

TEST(ValidateProvider, ZenodoTakesAnyHttpsUrl) {
  EXPECT_TRUE(
      ValidateProvider(ValidDataConnector(ProviderKind::kZenodo, "https://zenodo.org")).ok());
  EXPECT_TRUE(
      ValidateProvider(ValidDataConnector(ProviderKind::kZenodo, "https://sandbox.zenodo.org/"))
          .ok());
  EXPECT_TRUE(
      ValidateProvider(ValidDataConnector(ProviderKind::kZenodo, "https://rdm.example.org")).ok());
  EXPECT_TRUE(
      ValidateProvider(ValidDataConnector(ProviderKind::kZenodo, "http://127.0.0.1:5000")).ok());
  EXPECT_FALSE(
      ValidateProvider(ValidDataConnector(ProviderKind::kZenodo, "http://zenodo.org")).ok());
  EXPECT_FALSE(ValidateProvider(ValidDataConnector(ProviderKind::kZenodo, "")).ok());
}

TEST(ValidateProvider, DataConnectorsRefuseAppSlugImageRegistryAndIssuer) {
  for (auto kind : {ProviderKind::kDropbox, ProviderKind::kGoogle, ProviderKind::kZenodo}) {
    Provider p = ValidDataConnector(kind, "http://127.0.0.1:4000");
    p.app_slug = "my-app";
    auto status = ValidateProvider(p);
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message.find("app_slug is only for GitHub Apps"), std::string::npos);
    EXPECT_NE(status.error().message.find(std::string(ToString(kind))), std::string::npos);

    p = ValidDataConnector(kind, "http://127.0.0.1:4000");
    p.image_registry_url = "https://registry.example.org";
    status = ValidateProvider(p);
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message.find("image_registry_url is only for GitLab and GitHub"),
              std::string::npos);

    p = ValidDataConnector(kind, "http://127.0.0.1:4000");
    p.oidc_issuer_url = "https://id.example.org";
    status = ValidateProvider(p);
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message.find("only allowed for kind generic_oidc"), std::string::npos);
  }
}

}  // namespace
}  // namespace keybridge::core
