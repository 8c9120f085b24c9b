#include "oauth/scope_vocabulary.h"

#include <gtest/gtest.h>

namespace keybridge::oauth {
namespace {

core::Provider Make(core::ProviderKind kind, std::string scope) {
  core::Provider p;
  p.id = core::ProviderId("p");
  p.kind = kind;
  p.scope = std::move(scope);
  p.url = "https://example.org";
  return p;
}

bool Says(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

TEST(ScopeVocabularyTest, EditDistanceCountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(EditDistance("", ""), 0U);
  EXPECT_EQ(EditDistance("api", "api"), 0U);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3U);
  EXPECT_EQ(EditDistance("read_repo", "read_repository"), 6U);
  EXPECT_EQ(EditDistance("", "abc"), 3U);
}

TEST(ScopeVocabularyTest, SplitScopesOnAnyWhitespace) {
  EXPECT_EQ(SplitScopes("  api\tread_user\n email "),
            (std::vector<std::string>{"api", "read_user", "email"}));
  EXPECT_TRUE(SplitScopes("   ").empty());
}

TEST(ScopeVocabularyTest, ClosestScopePrefersAbbreviationsThenCaseThenDistance) {
  using core::ProviderKind;
  EXPECT_EQ(ClosestScope(ProviderKind::kGitLab, "read_repo"), "read_repository");
  EXPECT_EQ(ClosestScope(ProviderKind::kGitLab, "write_repo"), "write_repository");
  EXPECT_EQ(ClosestScope(ProviderKind::kGitLab, "API"), "api");
  EXPECT_EQ(ClosestScope(ProviderKind::kGitLab, "read_regsitry"), "read_registry");
  EXPECT_EQ(ClosestScope(ProviderKind::kGitHub, "read_packages"), "read:packages");
  EXPECT_EQ(ClosestScope(ProviderKind::kDropbox, "files.content.raed"), "files.content.read");
  EXPECT_EQ(ClosestScope(ProviderKind::kZenodo, "deposit:wirte"), "deposit:write");
  EXPECT_EQ(ClosestScope(ProviderKind::kGoogle, "drive"), "https://www.googleapis.com/auth/drive");
  EXPECT_EQ(ClosestScope(ProviderKind::kGoogle, "drive.readonly"),
            "https://www.googleapis.com/auth/drive.readonly");
  EXPECT_EQ(ClosestScope(ProviderKind::kGoogle, "https://www.googleapis.com/auth/drive.redonly"),
            "https://www.googleapis.com/auth/drive.readonly");
  EXPECT_EQ(ClosestScope(ProviderKind::kGenericOidc, "groupz", {"groups"}), "groups");
  EXPECT_EQ(ClosestScope(ProviderKind::kGitLab, "completely_unrelated_words"), "");
}

TEST(ScopeVocabularyTest, EveryKindAcceptsItsDocumentedScopes) {
  using core::ProviderKind;
  for (const auto kind : core::kAllProviderKinds) {
    for (const auto scope : KnownScopes(kind)) {
      const auto check = ScopesCheck(Make(kind, std::string(scope)));
      EXPECT_NE(check.status, CheckStatus::kFail)
          << core::ToString(kind) << " " << scope << ": " << check.detail;
      EXPECT_EQ(check.id, kCheckScopes);
    }
  }
  EXPECT_EQ(
      ScopesCheck(Make(ProviderKind::kGitLab, "read_api read_repository write_repository")).status,
      CheckStatus::kPass);
  EXPECT_EQ(ScopesCheck(Make(ProviderKind::kGitHub, "repo read:user")).status, CheckStatus::kPass);
  EXPECT_EQ(ScopesCheck(Make(ProviderKind::kDropbox,
                             "account_info.read files.metadata.read files.content.read "
                             "files.content.write"))
                .status,
            CheckStatus::kPass);
  EXPECT_EQ(
      ScopesCheck(Make(ProviderKind::kGoogle, "openid email https://www.googleapis.com/auth/drive"))
          .status,
      CheckStatus::kPass);
  EXPECT_EQ(ScopesCheck(Make(ProviderKind::kZenodo, "deposit:write deposit:actions")).status,
            CheckStatus::kPass);
  EXPECT_EQ(ScopesCheck(Make(ProviderKind::kGenericOidc, "openid profile email")).status,
            CheckStatus::kPass);
}

TEST(ScopeVocabularyTest, AMisspelledGitLabScopeFailsWithTheSuggestionAndTheFix) {
  const auto check =
      ScopesCheck(Make(core::ProviderKind::kGitLab, "read_api read_repo write_repository"));

  EXPECT_EQ(check.status, CheckStatus::kFail);
  EXPECT_TRUE(
      Says(check.detail, "`read_repo` is not a GitLab scope; did you mean `read_repository`?"))
      << check.detail;
  EXPECT_TRUE(Says(check.fix, "replace `read_repo` with `read_repository`")) << check.fix;
  EXPECT_TRUE(Says(check.fix, "GitLab application")) << check.fix;
}

TEST(ScopeVocabularyTest, UnknownScopesOfEachKindFail) {
  using core::ProviderKind;
  const std::vector<std::pair<ProviderKind, std::string>> cases = {
      {ProviderKind::kGitHub, "repos"},
      {ProviderKind::kDropbox, "files.read"},
      {ProviderKind::kZenodo, "deposit:read"},
      {ProviderKind::kGoogle, "drive"},
  };
  for (const auto& [kind, scope] : cases) {
    const auto check = ScopesCheck(Make(kind, scope));
    EXPECT_EQ(check.status, CheckStatus::kFail) << scope;
    EXPECT_TRUE(Says(check.detail, "`" + scope + "` is not")) << check.detail;
    EXPECT_FALSE(check.fix.empty());
  }
  // A bare Drive name is completed to its URL.
  EXPECT_TRUE(Says(ScopesCheck(Make(ProviderKind::kGoogle, "drive.file openid")).detail,
                   "did you mean `https://www.googleapis.com/auth/drive.file`?"));
}

TEST(ScopeVocabularyTest, OtherGoogleApisScopesOnlyWarn) {
  const auto check = ScopesCheck(Make(
      core::ProviderKind::kGoogle,
      "https://www.googleapis.com/auth/drive https://www.googleapis.com/auth/calendar.readonly"));
  EXPECT_EQ(check.status, CheckStatus::kWarn);
  EXPECT_TRUE(Says(check.detail, "calendar.readonly")) << check.detail;
}

TEST(ScopeVocabularyTest, OidcUnknownScopesFailOnlyAgainstPublishedScopesSupported) {
  const auto provider = Make(core::ProviderKind::kGenericOidc, "openid groups");
  EXPECT_EQ(ScopesCheck(provider).status, CheckStatus::kWarn);
  EXPECT_EQ(ScopesCheck(provider, {"openid", "groups"}).status, CheckStatus::kPass);
  const auto refused = ScopesCheck(provider, {"openid", "group"});
  EXPECT_EQ(refused.status, CheckStatus::kFail);
  EXPECT_TRUE(Says(refused.detail, "did you mean `group`?")) << refused.detail;
  EXPECT_TRUE(Says(refused.detail, "scopes_supported")) << refused.detail;
}

TEST(ScopeVocabularyTest, CapabilityWarnings) {
  using core::ProviderKind;
  const auto no_clone = ScopesCheck(Make(ProviderKind::kGitLab, "read_user"));
  EXPECT_EQ(no_clone.status, CheckStatus::kWarn);
  EXPECT_TRUE(Says(no_clone.detail, "cannot clone")) << no_clone.detail;

  const auto no_push = ScopesCheck(Make(ProviderKind::kGitLab, "read_repository"));
  EXPECT_EQ(no_push.status, CheckStatus::kWarn);
  EXPECT_TRUE(Says(no_push.detail, "cannot git push")) << no_push.detail;
  EXPECT_EQ(ScopesCheck(Make(ProviderKind::kGitLab, "api")).status, CheckStatus::kPass);

  auto gitlab_registry = Make(ProviderKind::kGitLab, "read_repository write_repository");
  gitlab_registry.image_registry_url = "https://registry.example.org";
  EXPECT_TRUE(Says(ScopesCheck(gitlab_registry).detail, "cannot pull images"));
  gitlab_registry.scope += " read_registry";
  EXPECT_EQ(ScopesCheck(gitlab_registry).status, CheckStatus::kPass);

  auto ghcr = Make(ProviderKind::kGitHub, "repo");
  ghcr.image_registry_url = "https://ghcr.io";
  const auto no_packages = ScopesCheck(ghcr);
  EXPECT_EQ(no_packages.status, CheckStatus::kWarn);
  EXPECT_TRUE(Says(no_packages.fix, "read:packages")) << no_packages.fix;

  EXPECT_TRUE(Says(ScopesCheck(Make(ProviderKind::kGenericOidc, "profile")).fix, "openid"));
  EXPECT_EQ(ScopesCheck(Make(ProviderKind::kGoogle, "openid email")).status, CheckStatus::kWarn);
  EXPECT_EQ(ScopesCheck(Make(ProviderKind::kDropbox, "account_info.read")).status,
            CheckStatus::kWarn);
}

TEST(ScopeVocabularyTest, AGitHubAppHasNoScopes) {
  auto app = Make(core::ProviderKind::kGitHub, "");
  app.app_slug = "renku-app";
  EXPECT_EQ(ScopesCheck(app).status, CheckStatus::kSkip);
  app.scope = "repo";
  const auto ignored = ScopesCheck(app);
  EXPECT_EQ(ignored.status, CheckStatus::kWarn);
  EXPECT_TRUE(Says(ignored.detail, "ignores")) << ignored.detail;
}

TEST(ScopeVocabularyTest, ScopesAreQuotedPrintable) {
  const auto check = ScopesCheck(Make(core::ProviderKind::kGitLab, "api \x01<script>"));
  EXPECT_EQ(check.status, CheckStatus::kFail);
  EXPECT_FALSE(Says(check.detail, "\x01"));
}

}  // namespace
}  // namespace keybridge::oauth
