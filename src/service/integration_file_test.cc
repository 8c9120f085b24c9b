#include "service/integration_file.h"

#include <gtest/gtest.h>

#include "support/fake_clock.h"
#include "support/in_memory_repositories.h"

namespace keybridge::service {
namespace {

constexpr std::string_view kOneGitLab = R"({"integrations": [
  {"id": "gl", "kind": "gitlab", "display_name": "Our GitLab", "url": "https://gitlab.example.org",
   "client_id": "cid", "client_secret_env": "GL_SECRET", "scope": "read_api"}]})";

SecretResolver Fixed(const std::string& value) {
  return [value](const core::SecretReference&) -> core::Result<core::Secret> {
    return core::Secret(value);
  };
}

class NoInvalidation final : public ConnectionInvalidator {
 public:
  core::Result<std::int64_t> InvalidateConnections(const core::Provider&,
                                                   const std::string&) override {
    ++calls;
    return std::int64_t{0};
  }
  int calls = 0;
};

// A ProviderService on an in-memory store, and the administrator who applies files to it.
class IntegrationFileTest : public ::testing::Test {
 protected:
  testing::InMemoryProviderRepository repository;
  testing::FakeClock clock;
  ProviderService providers{repository, clock};
  NoInvalidation invalidator;
  const core::Caller admin = core::Caller::User(core::UserId("ops"), true);
};

TEST_F(IntegrationFileTest, ParsesAnEntryWithItsSecretReference) {
  auto file = ParseIntegrationFile(kOneGitLab);

  ASSERT_TRUE(file.ok()) << file.error().message;
  ASSERT_EQ(file->entries.size(), 1U);
  EXPECT_EQ(file->entries[0].fields.id, "gl");
  ASSERT_TRUE(file->entries[0].secret_reference.has_value());
  EXPECT_EQ(file->entries[0].secret_reference->source, core::SecretReference::Source::kEnv);
  EXPECT_EQ(file->entries[0].secret_reference->value, "GL_SECRET");
}

TEST_F(IntegrationFileTest, AnUnknownFieldIsNamedWithItsEntry) {
  auto file = ParseIntegrationFile(R"({"integrations": [
    {"id": "gl", "kind": "gitlab", "display_name": "G", "url": "https://gitlab.example.org",
     "client_id": "c", "scope": "api", "client_secret": "plain"}]})");

  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().message.find("entry 1 (id 'gl')"), std::string::npos)
      << file.error().message;
  EXPECT_NE(file.error().message.find("unknown field 'client_secret'"), std::string::npos)
      << file.error().message;
}

TEST_F(IntegrationFileTest, EntriesAreValidatedLikeTheApi) {
  auto missing = ParseIntegrationFile(R"({"integrations": [
    {"id": "gl", "kind": "gitlab", "display_name": "G", "url": "https://gitlab.example.org",
     "client_id": "c"}]})");
  auto bad_url = ParseIntegrationFile(R"({"integrations": [
    {"id": "gl", "kind": "gitlab", "display_name": "G", "url": "ftp://x", "client_id": "c",
     "scope": "api"}]})");
  auto twice = ParseIntegrationFile(R"({"integrations": [
    {"id": "a", "kind": "zenodo", "display_name": "Z", "url": "https://zenodo.org",
     "client_id": "c", "scope": "deposit:write"},
    {"id": "a", "kind": "zenodo", "display_name": "Z", "url": "https://zenodo.org",
     "client_id": "c", "scope": "deposit:write"}]})");

  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("scope is required"), std::string::npos);
  ASSERT_FALSE(bad_url.ok());
  EXPECT_NE(bad_url.error().message.find("url"), std::string::npos) << bad_url.error().message;
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("entry 2 (id 'a')"), std::string::npos);
}

TEST_F(IntegrationFileTest, ApplyThenPlanAgainHasNoChangesAndASecretChangeIsOne) {
  auto file = ParseIntegrationFile(kOneGitLab);
  ASSERT_TRUE(file.ok());

  auto first = PlanIntegrations(*file, *providers.List(), Fixed("s1"), false);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(DescribePlan(*first), "create gl\n");
  ASSERT_TRUE(ApplyPlan(*first, providers, admin, invalidator).ok());
  auto second = PlanIntegrations(*file, *providers.List(), Fixed("s1"), false);
  auto rotated = PlanIntegrations(*file, *providers.List(), Fixed("s2"), false);

  ASSERT_TRUE(second.ok());
  EXPECT_EQ(DescribePlan(*second), "no changes\n");
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ(DescribePlan(*rotated), "update gl: client_secret: changed\n");
  EXPECT_EQ(DescribePlan(*rotated).find("s2"), std::string::npos);
  auto stored = providers.Get(core::ProviderId("gl"));
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(stored->managed_by_file);
}

// Two replicas start together with the same file: the other one creates the integration between
// this one's plan and its change. The create answers 409; the plan made again finds it done.
TEST_F(IntegrationFileTest, ApplyingTheFileAfterAnotherReplicaDidConverges) {
  auto file = ParseIntegrationFile(kOneGitLab);
  ASSERT_TRUE(file.ok());
  int plans = 0;
  auto plan = [&]() -> core::Result<IntegrationPlan> {
    auto planned = PlanIntegrations(*file, *providers.List(), Fixed("s1"), false);
    if (++plans == 1) {
      EXPECT_TRUE(ApplyPlan(*planned, providers, admin, invalidator).ok());  // the other replica
    }
    return planned;
  };

  auto applied = ApplyConverging(plan, providers, admin, invalidator);

  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_EQ(plans, 2);
  EXPECT_EQ(DescribePlan(*applied), "no changes\n");
  EXPECT_EQ(providers.List()->size(), 1u);
}

TEST_F(IntegrationFileTest, ApplyConvergingGivesUpAfterItsAttemptsAndOnOtherErrorsAtOnce) {
  auto file = ParseIntegrationFile(kOneGitLab);
  ASSERT_TRUE(file.ok());
  auto stale = PlanIntegrations(*file, *providers.List(), Fixed("s1"), false);
  ASSERT_TRUE(stale.ok());
  ASSERT_TRUE(ApplyPlan(*stale, providers, admin, invalidator).ok());
  int plans = 0;
  auto always_stale = [&]() -> core::Result<IntegrationPlan> {
    ++plans;
    return *stale;
  };
  auto raced = ApplyConverging(always_stale, providers, admin, invalidator, 3);
  EXPECT_FALSE(raced.ok());
  EXPECT_EQ(raced.error().code, core::ErrorCode::kConflict);
  EXPECT_EQ(plans, 3);

  plans = 0;
  auto unreadable = [&]() -> core::Result<IntegrationPlan> {
    ++plans;
    return core::MakeError(core::ErrorCode::kInvalidArgument, "client_secret_env: not set");
  };
  EXPECT_FALSE(ApplyConverging(unreadable, providers, admin, invalidator).ok());
  EXPECT_EQ(plans, 1);
}

TEST_F(IntegrationFileTest, TheApiMayNotEditOrDeleteAFileManagedIntegration) {
  auto file = ParseIntegrationFile(kOneGitLab);
  ASSERT_TRUE(file.ok());
  auto plan = PlanIntegrations(*file, {}, Fixed("s1"), false);
  ASSERT_TRUE(ApplyPlan(*plan, providers, admin, invalidator).ok());

  ProviderPatch patch;
  patch.display_name = "renamed";
  auto edited = providers.Update(admin, core::ProviderId("gl"), patch, &invalidator);
  auto deleted = providers.Delete(admin, core::ProviderId("gl"), &invalidator);

  ASSERT_FALSE(edited.ok());
  EXPECT_EQ(edited.error().code, core::ErrorCode::kConflict);
  EXPECT_NE(edited.error().message.find("managed by the integrations file"), std::string::npos);
  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.error().code, core::ErrorCode::kConflict);
}

TEST_F(IntegrationFileTest, PlanShowsChangedFieldsAndPrunesOnlyWhenAsked) {
  auto file = ParseIntegrationFile(kOneGitLab);
  ASSERT_TRUE(
      ApplyPlan(*PlanIntegrations(*file, {}, Fixed("s"), false), providers, admin, invalidator)
          .ok());
  ProviderCreate other;
  other.id = "old";
  other.kind = core::ProviderKind::kZenodo;
  other.client_id = "c";
  other.display_name = "Z";
  other.scope = "deposit:write";
  other.url = "https://zenodo.org";
  ASSERT_TRUE(providers.Create(admin, other).ok());
  auto renamed = ParseIntegrationFile(R"({"integrations": [
    {"id": "gl", "kind": "gitlab", "display_name": "New name", "url": "https://gitlab.example.org",
     "client_id": "cid", "client_secret_env": "GL_SECRET", "scope": "read_api"}]})");

  auto kept = PlanIntegrations(*renamed, *providers.List(), Fixed("s"), false);
  auto pruned = PlanIntegrations(*renamed, *providers.List(), Fixed("s"), true);

  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(DescribePlan(*kept), "update gl: display_name: \"Our GitLab\" -> \"New name\"\n");
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(DescribePlan(*pruned),
            "update gl: display_name: \"Our GitLab\" -> \"New name\"\ndelete old\n");
  ASSERT_TRUE(ApplyPlan(*pruned, providers, admin, invalidator).ok());
  EXPECT_EQ(providers.List()->size(), 1U);
  EXPECT_EQ(invalidator.calls, 1) << "a delete revokes like the API's";
}

TEST_F(IntegrationFileTest, ARetargetWithoutASecretIsRefused) {
  ProviderCreate stored;
  stored.id = "gl";
  stored.client_id = "cid";
  stored.display_name = "G";
  stored.scope = "read_api";
  stored.url = "https://gitlab.example.org";
  stored.client_secret = core::Secret("s");
  ASSERT_TRUE(providers.Create(admin, stored).ok());
  auto file = ParseIntegrationFile(R"({"integrations": [
    {"id": "gl", "kind": "gitlab", "display_name": "G", "url": "https://elsewhere.example.org",
     "client_id": "cid", "scope": "read_api"}]})");

  auto plan = PlanIntegrations(*file, *providers.List(), Fixed("unused"), false);

  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message.find("changing url"), std::string::npos) << plan.error().message;
}

TEST_F(IntegrationFileTest, FormatPrintsReferencesAndPlaceholders) {
  core::Provider managed;
  managed.id = core::ProviderId("gl");
  managed.managed_by_file = true;
  managed.client_secret = core::Secret("s");
  managed.secret_reference = core::SecretReference{core::SecretReference::Source::kFile, "gl.txt"};
  core::Provider by_hand;
  by_hand.id = core::ProviderId("hand.made");
  by_hand.client_secret = core::Secret("s");
  std::vector<std::string> placeholders;

  const std::string text = FormatIntegrationFile({managed, by_hand}, placeholders);

  EXPECT_NE(text.find(R"("client_secret_file": "gl.txt")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("client_secret_env": "KEYBRIDGE_SECRET_HAND_MADE")"), std::string::npos)
      << text;
  EXPECT_EQ(placeholders, std::vector<std::string>{"hand.made"});
  EXPECT_EQ(text.find("\"s\""), std::string::npos);
}

}  // namespace
}  // namespace keybridge::service
