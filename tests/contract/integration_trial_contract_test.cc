// Contract tests for IntegrationTrialRepository (core/repositories.h) on every backend of
// contract_fixture.h (in-memory, SQLite, PostgreSQL): a trial round-trips, starts once, its flow
// is taken once (so a callback reaching another replica finds it, and a replay does not), its
// stages are stored, it goes with its integration, and the PKCE verifier is sealed at rest.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "contract/contract_fixture.h"
#include "core/repositories.h"

namespace keybridge::storage::contract_test {
namespace {

using core::ErrorCode;

constexpr std::int64_t kT0 = 1'700'000'000;

core::IntegrationTrial MakeTrial(const std::string& id, const std::string& provider_id) {
  core::IntegrationTrial trial;
  trial.id = id;
  trial.provider_id = core::ProviderId(provider_id);
  trial.user_id = core::UserId("admin-1");
  trial.repository_url = "https://" + provider_id + "/group/project";
  trial.keep = true;
  trial.created_at = core::FromUnixSeconds(kT0);
  trial.expires_at = core::FromUnixSeconds(kT0 + 600);
  return trial;
}

core::TrialFlow MakeFlow(const std::string& state_hash) {
  core::TrialFlow flow;
  flow.state_hash = state_hash;
  flow.code_verifier = core::Secret("verifier-" + state_hash + "-must-not-appear-in-plaintext");
  flow.browser_binding_hash = "binding-" + state_hash;
  return flow;
}

template <typename Backend>
class IntegrationTrialContract : public Contract<Backend> {
 protected:
  void SetUp() override {
    Contract<Backend>::SetUp();
    if (this->IsSkipped() || this->HasFatalFailure()) {
      return;
    }
    ASSERT_TRUE(this->providers().Insert(MakeProvider("gitlab.example.org")).ok());
  }
};

template <typename Backend>
class IntegrationTrialStoreContract : public StoreContract<Backend> {
 protected:
  void SetUp() override {
    StoreContract<Backend>::SetUp();
    if (this->IsSkipped() || this->HasFatalFailure()) {
      return;
    }
    ASSERT_TRUE(this->providers().Insert(MakeProvider("gitlab.example.org")).ok());
  }
};

TYPED_TEST_SUITE(IntegrationTrialContract, AllBackends, BackendNames);
TYPED_TEST_SUITE(IntegrationTrialStoreContract, SqlBackends, BackendNames);

TYPED_TEST(IntegrationTrialContract, InsertedTrialIsFoundWithEveryFieldAndNotStarted) {
  const core::IntegrationTrial trial =
      MakeTrial("01HTRIAL00000000000000000A", "gitlab.example.org");
  ASSERT_TRUE(this->trials().Insert(trial).ok());

  auto found = this->trials().Find(trial.id);

  ASSERT_TRUE(found.ok()) << found.error().message << " / " << found.error().detail;
  EXPECT_EQ(found->provider_id, trial.provider_id);
  EXPECT_EQ(found->user_id, trial.user_id);
  EXPECT_EQ(found->repository_url, trial.repository_url);
  EXPECT_TRUE(found->keep);
  EXPECT_EQ(found->created_at, trial.created_at);
  EXPECT_EQ(found->expires_at, trial.expires_at);
  EXPECT_FALSE(found->started_at.has_value());
  EXPECT_FALSE(found->finished_at.has_value());
  EXPECT_TRUE(found->stages.empty());
  EXPECT_EQ(this->trials().Find("01HTRIAL00000000000000000B").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(this->trials().Insert(trial).error().code, ErrorCode::kConflict);
}

TYPED_TEST(IntegrationTrialContract, StartsOnceAndItsFlowIsTakenOnce) {
  const core::IntegrationTrial trial =
      MakeTrial("01HTRIAL00000000000000000A", "gitlab.example.org");
  ASSERT_TRUE(this->trials().Insert(trial).ok());

  auto first = this->trials().Start(trial.id, MakeFlow("state-1"), core::FromUnixSeconds(kT0 + 5));
  auto second = this->trials().Start(trial.id, MakeFlow("state-2"), core::FromUnixSeconds(kT0 + 6));

  ASSERT_TRUE(first.ok()) << first.error().message << " / " << first.error().detail;
  EXPECT_TRUE(*first);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(*second);
  EXPECT_EQ(this->trials().Find(trial.id)->started_at, core::FromUnixSeconds(kT0 + 5));
  EXPECT_EQ(this->trials().TakeFlow("state-2").error().code, ErrorCode::kNotFound);

  auto taken = this->trials().TakeFlow("state-1");
  ASSERT_TRUE(taken.ok()) << taken.error().message << " / " << taken.error().detail;
  EXPECT_EQ(taken->first.id, trial.id);
  EXPECT_EQ(taken->first.started_at, core::FromUnixSeconds(kT0 + 5));
  EXPECT_EQ(taken->second.state_hash, "state-1");
  ASSERT_TRUE(taken->second.code_verifier.has_value());
  EXPECT_EQ(taken->second.code_verifier->Reveal(), "verifier-state-1-must-not-appear-in-plaintext");
  EXPECT_EQ(taken->second.browser_binding_hash, "binding-state-1");
  EXPECT_EQ(this->trials().TakeFlow("state-1").error().code, ErrorCode::kNotFound);
  auto unknown = this->trials().Start("01HTRIAL00000000000000000Z", MakeFlow("s"), {});
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(*unknown);
}

TYPED_TEST(IntegrationTrialContract, FinishStoresTheStages) {
  const core::IntegrationTrial trial =
      MakeTrial("01HTRIAL00000000000000000A", "gitlab.example.org");
  ASSERT_TRUE(this->trials().Insert(trial).ok());
  const std::vector<core::TrialStage> stages = {
      {"came_back", "pass", "GitLab sent the browser back with a code.", ""},
      {"code_exchange", "fail", "GitLab refused: \"quoted\" ü", "Check the client secret."}};

  ASSERT_TRUE(this->trials().Finish(trial.id, stages, core::FromUnixSeconds(kT0 + 9)).ok());

  auto found = this->trials().Find(trial.id);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->finished_at, core::FromUnixSeconds(kT0 + 9));
  ASSERT_EQ(found->stages.size(), 2U);
  EXPECT_EQ(found->stages[1].id, "code_exchange");
  EXPECT_EQ(found->stages[1].status, "fail");
  EXPECT_EQ(found->stages[1].detail, stages[1].detail);
  EXPECT_EQ(found->stages[1].fix, stages[1].fix);
  EXPECT_EQ(this->trials().Finish("01HTRIAL00000000000000000Z", stages, {}).error().code,
            ErrorCode::kNotFound);
}

TYPED_TEST(IntegrationTrialContract, OldTrialsAndTheIntegrationsTrialsAreDeleted) {
  ASSERT_TRUE(this->providers().Insert(MakeProvider("other.example.org")).ok());
  core::IntegrationTrial old_one = MakeTrial("01HTRIAL00000000000000000A", "gitlab.example.org");
  core::IntegrationTrial recent = MakeTrial("01HTRIAL00000000000000000B", "gitlab.example.org");
  recent.created_at = core::FromUnixSeconds(kT0 + 100);
  core::IntegrationTrial other = MakeTrial("01HTRIAL00000000000000000C", "other.example.org");
  other.created_at = core::FromUnixSeconds(kT0 + 100);
  ASSERT_TRUE(this->trials().Insert(old_one).ok());
  ASSERT_TRUE(this->trials().Insert(recent).ok());
  ASSERT_TRUE(this->trials().Insert(other).ok());

  auto deleted = this->trials().DeleteCreatedBefore(core::FromUnixSeconds(kT0 + 50));
  ASSERT_TRUE(this->providers().Delete(core::ProviderId("other.example.org")).ok());

  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1);
  EXPECT_EQ(this->trials().Find(old_one.id).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(this->trials().Find(recent.id).ok());
  EXPECT_EQ(this->trials().Find(other.id).error().code, ErrorCode::kNotFound);
}

TYPED_TEST(IntegrationTrialStoreContract, TheVerifierIsSealedAtRest) {
  const core::IntegrationTrial trial =
      MakeTrial("01HTRIAL00000000000000000A", "gitlab.example.org");
  ASSERT_TRUE(this->trials().Insert(trial).ok());
  ASSERT_TRUE(this->trials().Start(trial.id, MakeFlow("state-1"), core::FromUnixSeconds(kT0)).ok());

  const std::string stored = this->RawColumn("integration_trials", "code_verifier", "id", trial.id);

  EXPECT_TRUE(stored.starts_with("kb1.")) << stored;
  EXPECT_EQ(this->RawBytesAtRest().find("must-not-appear-in-plaintext"), std::string::npos);
}

}  // namespace
}  // namespace keybridge::storage::contract_test
