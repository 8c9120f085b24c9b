// Contract tests for ConnectionRepository and AuthorizationFlowRepository (core/repositories.h),
// on every backend of contract_fixture.h: connections found or inserted once per (user,
// provider), token writes, deletion, single-use flows; on the SQL backends also tokens and
// verifiers sealed at rest, and key rotation. Refreshes and claims:
// connection_refresh_contract_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "contract/connection_contract_support.h"
#include "contract/contract_fixture.h"
#include "core/connection.h"
#include "core/repositories.h"
#include "core/token_set.h"
#include "crypto/key_ring.h"
#include "storage/key_rotation.h"
#include "storage/sealed_columns.h"
#include "storage/token_codec.h"

namespace keybridge::storage::contract_test {
namespace {

using core::ConnectionStatus;
using core::ErrorCode;
using namespace std::chrono_literals;  // NOLINT(google-build-using-namespace): literals only

TYPED_TEST_SUITE(ConnectionContract, AllBackends, BackendNames);
TYPED_TEST_SUITE(ConnectionStorageContract, SqlBackends, BackendNames);

// FindOrInsert, Find, ListForUser.

TYPED_TEST(ConnectionContract, FindOrInsertInsertsAPendingConnectionWithoutToken) {
  const core::Connection candidate = MakeConnection(ConnectionId(1), "user-1", kGitLab);

  auto inserted = this->connections().FindOrInsert(candidate);
  auto found = this->connections().Find(ConnectionId(1));

  ASSERT_TRUE(inserted.ok()) << inserted.error().message;
  ASSERT_TRUE(found.ok()) << found.error().message;
  for (const core::Connection& c : {*inserted, *found}) {
    EXPECT_EQ(c.id, ConnectionId(1));
    EXPECT_EQ(c.user_id, "user-1");
    EXPECT_EQ(c.provider_id, kGitLab);
    EXPECT_EQ(c.status, ConnectionStatus::kPending);
    EXPECT_EQ(c.status_reason, "");
    EXPECT_FALSE(c.token.has_value());
    EXPECT_EQ(c.token_version, 0);
    EXPECT_EQ(c.created_at, kCreated);
    EXPECT_EQ(c.updated_at, kCreated);
  }
}

TYPED_TEST(ConnectionContract, FindOrInsertReturnsTheExistingRowOfTheSamePair) {
  const core::TokenSet token = MakeTokenSet("one", kNow);
  this->Connected(ConnectionId(1), token);

  auto again = this->connections().FindOrInsert(MakeConnection(ConnectionId(2), "user-1", kGitLab));
  auto other_provider =
      this->connections().FindOrInsert(MakeConnection(ConnectionId(3), "user-1", kGitHub));
  auto other_user =
      this->connections().FindOrInsert(MakeConnection(ConnectionId(4), "user-2", kGitLab));

  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->id, ConnectionId(1));
  EXPECT_EQ(again->status, ConnectionStatus::kConnected);
  EXPECT_EQ(again->token_version, 1);
  ASSERT_TRUE(again->token.has_value());
  ExpectSameTokenSet(*again->token, token);
  EXPECT_EQ(this->connections().Find(ConnectionId(2)).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(other_provider.ok() && other_user.ok());
  EXPECT_EQ(other_provider->id, ConnectionId(3));
  EXPECT_EQ(other_user->id, ConnectionId(4));
}

TYPED_TEST(ConnectionContract, ConcurrentFindOrInsertOfOnePairYieldsOneRow) {
  constexpr int kThreads = 20;
  std::vector<std::optional<core::Result<core::Connection>>> results(kThreads);
  std::latch start(kThreads);

  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([this, i, &results, &start] {
      const core::Connection candidate = MakeConnection(ConnectionId(100 + i), "user-1", kGitLab);
      start.arrive_and_wait();
      results[static_cast<std::size_t>(i)] = this->connections().FindOrInsert(candidate);
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }

  std::set<core::ConnectionId> ids;
  for (const auto& result : results) {
    ASSERT_TRUE(result->ok()) << result->error().message << " / " << result->error().detail;
    ids.insert((*result)->id);
  }
  ASSERT_EQ(ids.size(), 1U);
  EXPECT_GE(*ids.begin(), ConnectionId(100));
  EXPECT_LT(*ids.begin(), ConnectionId(100 + kThreads));
  auto listed = this->connections().ListForUser(core::UserId("user-1"));
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1U);
  EXPECT_EQ(listed->front().id, *ids.begin());
  EXPECT_EQ(this->connections().CountForProvider(core::ProviderId(kGitLab)).value(), 1);
}

TYPED_TEST(ConnectionContract, ListForUserIsOrderedByProviderIdAndHoldsOnlyThatUser) {
  const std::vector<std::string> extra = {"a-c", "ab", "a.b", "a_b"};
  for (const std::string& id : extra) {
    ASSERT_TRUE(this->providers().Insert(MakeProvider(id)).ok());
  }
  const std::vector<std::string> order = {"ab", kGitLab, "a_b", kGitHub, "a.b", "a-c"};
  int n = 0;
  for (const std::string& provider_id : order) {
    this->Pending(ConnectionId(++n), "user-1", provider_id);
  }
  this->Pending(ConnectionId(++n), "user-2", "a.b");
  this->Pending(ConnectionId(++n), "user-2", kGitLab);
  std::vector<std::string> expected = order;
  std::sort(expected.begin(), expected.end());

  auto first = this->connections().ListForUser(core::UserId("user-1"));
  auto second = this->connections().ListForUser(core::UserId("user-2"));
  auto nobody = this->connections().ListForUser(core::UserId("user-3"));

  ASSERT_TRUE(first.ok() && second.ok() && nobody.ok());
  EXPECT_EQ(ProviderIds(*first), expected);
  for (const core::Connection& c : *first) {
    EXPECT_EQ(c.user_id, "user-1");
  }
  EXPECT_EQ(ProviderIds(*second), (std::vector<std::string>{"a.b", kGitLab}));
  for (const core::Connection& c : *second) {
    EXPECT_EQ(c.user_id, "user-2");
  }
  EXPECT_TRUE(nobody->empty());
}

TYPED_TEST(ConnectionContract, FindOfUnknownConnectionIsNotFound) {
  this->Pending(ConnectionId(1));

  auto found = this->connections().Find(ConnectionId(2));

  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code, ErrorCode::kNotFound);
}

// StoreToken.

TYPED_TEST(ConnectionContract, StoreTokenRoundTripsEveryTokenField) {
  this->Pending(ConnectionId(1));
  const core::TokenSet token = MakeTokenSet("one", kNow - core::Seconds(5));

  auto stored = this->connections().StoreToken(ConnectionId(1), token, kNow);
  auto found = this->connections().Find(ConnectionId(1));

  ASSERT_TRUE(stored.ok()) << stored.error().message;
  ASSERT_TRUE(found.ok()) << found.error().message;
  for (const core::Connection& c : {*stored, *found}) {
    EXPECT_EQ(c.id, ConnectionId(1));
    EXPECT_EQ(c.status, ConnectionStatus::kConnected);
    EXPECT_EQ(c.status_reason, "");
    EXPECT_EQ(c.token_version, 1);
    EXPECT_EQ(c.created_at, kCreated);
    EXPECT_EQ(c.updated_at, kNow);
    ASSERT_TRUE(c.token.has_value());
    ExpectSameTokenSet(*c.token, token);
  }
}

TYPED_TEST(ConnectionContract, StoreTokenReplacesTheTokenAndKeepsAbsentFieldsAbsent) {
  this->Connected(ConnectionId(1), MakeTokenSet("one", kNow));
  core::TokenSet bare;  // GitHub OAuth App: no refresh token, no expiry, no id token, no scope
  bare.access_token = core::Secret("access-bare");
  bare.obtained_at = kNow + core::Seconds(60);

  auto stored = this->connections().StoreToken(ConnectionId(1), bare, kNow + core::Seconds(60));
  auto found = this->connections().Find(ConnectionId(1));

  ASSERT_TRUE(stored.ok()) << stored.error().message;
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->token_version, 2);
  ASSERT_TRUE(found->token.has_value());
  ExpectSameTokenSet(*found->token, bare);
}

TYPED_TEST(ConnectionContract, StoreTokenReconnectsAConnectionWithInvalidCredentials) {
  this->Connected(ConnectionId(1), MakeTokenSet("one", kNow));
  ASSERT_TRUE(this->Refresh(ConnectionId(1), core::RefreshMarkInvalid{"grant revoked"}).ok());

  auto stored = this->connections().StoreToken(ConnectionId(1), MakeTokenSet("two", kNow), kNow);

  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_EQ(stored->status, ConnectionStatus::kConnected);
  EXPECT_EQ(stored->status_reason, "");
  EXPECT_EQ(stored->token_version, 3);
  ASSERT_TRUE(stored->token.has_value());
  EXPECT_EQ(stored->token->access_token.Reveal(), "access-two");
}

TYPED_TEST(ConnectionContract, StoreTokenOnADeletedConnectionIsNotFound) {
  this->Pending(ConnectionId(1));
  ASSERT_TRUE(this->connections().Delete(ConnectionId(1)).value().has_value());

  auto stored = this->connections().StoreToken(ConnectionId(1), MakeTokenSet("one", kNow), kNow);

  ASSERT_FALSE(stored.ok());
  EXPECT_EQ(stored.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(this->connections().Find(ConnectionId(1)).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(this->connections().ListForUser(core::UserId("user-1")).value().empty());
}

// Delete and CountForProvider.

TYPED_TEST(ConnectionContract, DeleteReturnsTheRowAsItWasDeleted) {
  this->Connected(ConnectionId(1), MakeTokenSet("one", kNow));
  this->Pending(ConnectionId(2), "user-2");

  auto first = this->connections().Delete(ConnectionId(1));
  auto second = this->connections().Delete(ConnectionId(1));

  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE(first->has_value());
  ASSERT_TRUE((*first)->token.has_value()) << "the token set to revoke";
  EXPECT_EQ((*first)->token->access_token.Reveal(), "access-one");
  EXPECT_FALSE(second->has_value());
  EXPECT_EQ(this->connections().Find(ConnectionId(1)).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(this->connections().Find(ConnectionId(2)).ok());
}

TYPED_TEST(ConnectionContract, DeletingTheProviderDeletesItsConnectionsAndFlows) {
  this->Connected(ConnectionId(1), MakeTokenSet("one", kNow), "user-1", kGitLab);
  this->Pending(ConnectionId(2), "user-2", kGitLab);
  this->Pending(ConnectionId(3), "user-1", kGitHub);
  ASSERT_TRUE(this->flows().Insert(MakeFlow("state-1", ConnectionId(1), kNow + kDay)).ok());
  core::AuthorizationFlow github_flow = MakeFlow("state-3", ConnectionId(3), kNow + kDay);
  github_flow.provider_id = core::ProviderId(kGitHub);
  ASSERT_TRUE(this->flows().Insert(github_flow).ok());

  auto deleted = this->providers().Delete(core::ProviderId(kGitLab));

  ASSERT_TRUE(deleted.ok() && *deleted);
  EXPECT_EQ(this->connections().Find(ConnectionId(1)).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(this->connections().Find(ConnectionId(2)).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(this->connections().CountForProvider(core::ProviderId(kGitLab)).value(), 0);
  EXPECT_EQ(ProviderIds(this->connections().ListForUser(core::UserId("user-1")).value()),
            (std::vector<std::string>{kGitHub}));
  EXPECT_EQ(this->flows().Take("state-1").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(this->flows().Take("state-3").ok());
}

TYPED_TEST(ConnectionContract, CountForProviderCountsEveryUsersConnections) {
  this->Pending(ConnectionId(1), "user-1", kGitLab);
  this->Connected(ConnectionId(2), MakeTokenSet("two", kNow), "user-2", kGitLab);
  this->Pending(ConnectionId(3), "user-3", kGitLab);
  this->Pending(ConnectionId(4), "user-1", kGitHub);

  auto gitlab = this->connections().CountForProvider(core::ProviderId(kGitLab));
  auto github = this->connections().CountForProvider(core::ProviderId(kGitHub));
  auto unknown = this->connections().CountForProvider(core::ProviderId("unknown.example"));

  ASSERT_TRUE(gitlab.ok() && github.ok() && unknown.ok());
  EXPECT_EQ(*gitlab, 3);
  EXPECT_EQ(*github, 1);
  EXPECT_EQ(*unknown, 0);
}

// Authorization flows.

TYPED_TEST(ConnectionContract, FlowRoundTripsEveryFieldThroughTake) {
  this->Pending(ConnectionId(1));
  const core::AuthorizationFlow flow = MakeFlow("state-1", ConnectionId(1), kNow + 600s);

  ASSERT_TRUE(this->flows().Insert(flow).ok());
  auto taken = this->flows().Take("state-1");

  ASSERT_TRUE(taken.ok()) << taken.error().message;
  ExpectSameFlow(*taken, flow);
}

TYPED_TEST(ConnectionContract, FlowWithoutVerifierRoundTripsWithoutOne) {
  this->Pending(ConnectionId(1));
  core::AuthorizationFlow flow = MakeFlow("state-1", ConnectionId(1), kNow + 600s);
  flow.code_verifier = std::nullopt;
  flow.next_url = "";

  ASSERT_TRUE(this->flows().Insert(flow).ok());
  auto taken = this->flows().Take("state-1");

  ASSERT_TRUE(taken.ok()) << taken.error().message;
  ExpectSameFlow(*taken, flow);
}

TYPED_TEST(ConnectionStorageContract, FlowWithoutVerifierStoresNull) {
  this->Pending(ConnectionId(1));
  core::AuthorizationFlow flow = MakeFlow("state-1", ConnectionId(1), kNow + 600s);
  flow.code_verifier = std::nullopt;

  ASSERT_TRUE(this->flows().Insert(flow).ok());

  EXPECT_EQ(this->RawVerifier("state-1"), "<NULL>");
}

TYPED_TEST(ConnectionContract, DuplicateFlowStateIsConflict) {
  this->Pending(ConnectionId(1));
  ASSERT_TRUE(this->flows().Insert(MakeFlow("state-1", ConnectionId(1), kNow + 600s)).ok());

  core::Status again = this->flows().Insert(MakeFlow("state-1", ConnectionId(1), kNow + 900s));

  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
}

TYPED_TEST(ConnectionContract, TakeIsSingleUse) {
  this->Pending(ConnectionId(1));
  ASSERT_TRUE(this->flows().Insert(MakeFlow("state-1", ConnectionId(1), kNow + 600s)).ok());

  auto first = this->flows().Take("state-1");
  auto second = this->flows().Take("state-1");
  auto unknown = this->flows().Take("state-unknown");

  EXPECT_TRUE(first.ok());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kNotFound);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

// 20 threads race for each of a few states (several rounds make a lost race likelier to show).
TYPED_TEST(ConnectionContract, ConcurrentTakesOfOneStateSucceedExactlyOnce) {
  constexpr int kThreads = 20;
  constexpr std::size_t kStates = 5;
  this->Pending(ConnectionId(1));
  for (std::size_t s = 0; s < kStates; ++s) {
    const std::string state = "state-" + std::to_string(s);
    ASSERT_TRUE(this->flows().Insert(MakeFlow(state, ConnectionId(1), kNow + 600s)).ok());
  }
  std::vector<std::atomic<int>> taken(kStates);
  std::vector<std::atomic<int>> not_found(kStates);
  std::latch start(kThreads);

  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([this, &taken, &not_found, &start] {
      start.arrive_and_wait();
      for (std::size_t s = 0; s < kStates; ++s) {
        auto flow = this->flows().Take("state-" + std::to_string(s));
        if (flow.ok()) {
          ++taken[s];
        } else if (flow.error().code == ErrorCode::kNotFound) {
          ++not_found[s];
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }

  for (std::size_t s = 0; s < kStates; ++s) {
    EXPECT_EQ(taken[s].load(), 1) << "state-" << s;
    EXPECT_EQ(not_found[s].load(), kThreads - 1) << "state-" << s;
  }
}

TYPED_TEST(ConnectionContract, DeleteExpiredRemovesOnlyExpiredFlows) {
  this->Pending(ConnectionId(1));
  ASSERT_TRUE(
      this->flows().Insert(MakeFlow("expired-long-ago", ConnectionId(1), kNow - 3600s)).ok());
  ASSERT_TRUE(this->flows().Insert(MakeFlow("expired-just-now", ConnectionId(1), kNow - 1s)).ok());
  ASSERT_TRUE(this->flows().Insert(MakeFlow("live", ConnectionId(1), kNow + 1s)).ok());
  ASSERT_TRUE(this->flows().Insert(MakeFlow("live-longer", ConnectionId(1), kNow + 600s)).ok());

  auto removed = this->flows().DeleteExpired(kNow);
  auto again = this->flows().DeleteExpired(kNow);

  ASSERT_TRUE(removed.ok() && again.ok());
  EXPECT_EQ(*removed, 2);
  EXPECT_EQ(*again, 0);
  EXPECT_EQ(this->flows().Take("expired-long-ago").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(this->flows().Take("expired-just-now").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(this->flows().Take("live").ok());
  EXPECT_TRUE(this->flows().Take("live-longer").ok());
}

// Secrets at rest.

TYPED_TEST(ConnectionStorageContract, TokenMovedToAnotherConnectionIsDecryptionFailure) {
  this->Connected(ConnectionId(1), MakeTokenSet("one", kNow), "user-1");
  this->Pending(ConnectionId(2), "user-2");
  const std::string stolen = this->RawToken(ConnectionId(1));
  ASSERT_TRUE(this->db()
                  .Execute("UPDATE oauth2_connections SET token = $1 WHERE id = $2",
                           {stolen, ConnectionId(2).value()})
                  .ok());

  auto found = this->connections().Find(ConnectionId(2));

  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code, ErrorCode::kDecryptionFailed);
  EXPECT_EQ(found.error().message.find(stolen), std::string::npos);
  EXPECT_EQ(found.error().detail.find(stolen), std::string::npos);
}

// Secrets are sealed at rest (storage/sealed_columns.h): neither the database files nor a dump hold
// a plaintext access, refresh or id token or PKCE verifier, while the (non-secret) ids are there.
TYPED_TEST(ConnectionStorageContract, TokensAndVerifierNeverAppearAtRest) {
  const std::vector<std::string> secrets = {
      "kb-distinctive-access-token-5b1e77d0",   "kb-distinctive-refresh-token-c94a02f3",
      "kb-distinctive-id-token-0e6d1a88",       "kb-distinctive-code-verifier-71f4b2c9",
      "kb-distinctive-refreshed-access-3a9c5e", "kb-distinctive-refreshed-refresh-d27b14"};
  core::TokenSet token = MakeTokenSet("at-rest", kNow);
  token.access_token = core::Secret(secrets[0]);
  token.refresh_token = core::Secret(secrets[1]);
  token.id_token = core::Secret(secrets[2]);
  this->Connected(ConnectionId(1), token);
  core::AuthorizationFlow flow = MakeFlow("at-rest-state-hash", ConnectionId(1), kNow + 600s);
  flow.code_verifier = core::Secret(secrets[3]);
  ASSERT_TRUE(this->flows().Insert(flow).ok());
  this->Connected(ConnectionId(2), MakeTokenSet("two", kNow), "user-2");
  core::TokenSet refreshed = MakeTokenSet("refreshed", kNow);
  refreshed.access_token = core::Secret(secrets[4]);
  refreshed.refresh_token = core::Secret(secrets[5]);
  ASSERT_TRUE(this->Refresh(ConnectionId(2), core::RefreshNewToken{refreshed}).ok());

  const std::string raw = this->RawBytesAtRest();

  ASSERT_FALSE(raw.empty());
  EXPECT_NE(raw.find(ConnectionId(1).value()), std::string::npos);
  EXPECT_NE(raw.find("at-rest-state-hash"), std::string::npos);
  for (const std::string& secret : secrets) {
    EXPECT_EQ(raw.find(secret), std::string::npos) << secret;
  }
}

// Key rotation.

TYPED_TEST(ConnectionStorageContract, ReencryptSecretsMovesTokensAndVerifiersToTheNewKey) {
  const core::TokenSet one = MakeTokenSet("one", kNow);
  const core::TokenSet two = MakeTokenSet("two", kNow);
  this->Connected(ConnectionId(1), one, "user-1");
  this->Connected(ConnectionId(2), two, "user-2");
  this->Pending(ConnectionId(3), "user-3");
  ASSERT_TRUE(this->flows().Insert(MakeFlow("state-a", ConnectionId(1), kNow + 600s)).ok());
  ASSERT_TRUE(this->flows().Insert(MakeFlow("state-b", ConnectionId(2), kNow + 600s)).ok());
  core::AuthorizationFlow no_verifier = MakeFlow("state-c", ConnectionId(3), kNow + 600s);
  no_verifier.code_verifier = std::nullopt;
  ASSERT_TRUE(this->flows().Insert(no_verifier).ok());
  const std::string old_key = this->keys().ActiveKeyId();
  ASSERT_EQ(crypto::KeyRing::KeyIdOf(this->RawToken(ConnectionId(1))), old_key);
  ASSERT_EQ(crypto::KeyRing::KeyIdOf(this->RawVerifier("state-a")), old_key);
  auto new_key = this->keys().Rotate();
  ASSERT_TRUE(new_key.ok()) << new_key.error().message;
  ASSERT_NE(*new_key, old_key);

  auto report = ReencryptSecrets(this->store(), this->keys());

  ASSERT_TRUE(report.ok()) << report.error().message << " / " << report.error().detail;
  EXPECT_EQ(report->reencrypted, 6);  // 2 client secrets, 2 token sets, 2 verifiers
  EXPECT_EQ(report->already_current, 0);
  for (const core::ConnectionId& id : {ConnectionId(1), ConnectionId(2)}) {
    EXPECT_EQ(crypto::KeyRing::KeyIdOf(this->RawToken(id)), *new_key) << id;
  }
  EXPECT_EQ(this->RawToken(ConnectionId(3)), "<NULL>");
  for (const char* state : {"state-a", "state-b"}) {
    EXPECT_EQ(crypto::KeyRing::KeyIdOf(this->RawVerifier(state)), *new_key) << state;
  }
  EXPECT_EQ(this->RawVerifier("state-c"), "<NULL>");
  auto found_one = this->connections().Find(ConnectionId(1));
  auto found_two = this->connections().Find(ConnectionId(2));
  ASSERT_TRUE(found_one.ok() && found_two.ok());
  ASSERT_TRUE(found_one->token.has_value() && found_two->token.has_value());
  ExpectSameTokenSet(*found_one->token, one);
  ExpectSameTokenSet(*found_two->token, two);
  for (const char* state : {"state-a", "state-b"}) {
    auto taken = this->flows().Take(state);
    ASSERT_TRUE(taken.ok()) << taken.error().message;
    ASSERT_TRUE(taken->code_verifier.has_value());
    EXPECT_EQ(taken->code_verifier->Reveal(), std::string("verifier-for-") + state);
  }
  auto taken_c = this->flows().Take("state-c");
  ASSERT_TRUE(taken_c.ok()) << taken_c.error().message;
  EXPECT_FALSE(taken_c->code_verifier.has_value());
}

// A retargeted integration (issue #12, defect 1): nothing of the old grants stays usable.

TYPED_TEST(ConnectionContract, InvalidateForProviderDropsTokensAndFlowsAndReturnsTheOldTokens) {
  const core::TokenSet one = MakeTokenSet("one", kNow);
  const core::Connection alice = this->Connected(ConnectionId(1), one, "user-1");
  this->Connected(ConnectionId(2), MakeTokenSet("two", kNow), "user-2");
  ASSERT_TRUE(this->Refresh(ConnectionId(2), core::RefreshMarkInvalid{"rejected"}).ok());
  this->Pending(ConnectionId(3), "user-3");
  this->Connected(ConnectionId(4), MakeTokenSet("other", kNow), "user-1", kGitHub);
  ASSERT_TRUE(this->flows().Insert(MakeFlow("pending-flow", ConnectionId(3), kNow + 600s)).ok());

  auto before = this->connections().InvalidateForProvider(core::ProviderId(kGitLab),
                                                          "moved; reconnect", kNow + 60s);

  ASSERT_TRUE(before.ok()) << before.error().message;
  ASSERT_EQ(before->size(), 2U);  // the pending connection had nothing to lose
  std::sort(before->begin(), before->end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  EXPECT_EQ(before->at(0).id, ConnectionId(1));
  ASSERT_TRUE(before->at(0).token.has_value());
  ExpectSameTokenSet(*before->at(0).token, one);
  EXPECT_EQ(before->at(1).id, ConnectionId(2));
  for (const core::ConnectionId& id : {ConnectionId(1), ConnectionId(2)}) {
    const core::Connection after = Must(this->connections().Find(id), "Find");
    EXPECT_EQ(after.status, core::ConnectionStatus::kInvalidCredentials) << id;
    EXPECT_EQ(after.status_reason, "moved; reconnect") << id;
    EXPECT_FALSE(after.token.has_value()) << id;
  }
  EXPECT_EQ(Must(this->connections().Find(ConnectionId(1)), "Find").token_version,
            alice.token_version + 1);
  EXPECT_EQ(Must(this->connections().Find(ConnectionId(3)), "Find").status,
            core::ConnectionStatus::kPending);
  EXPECT_TRUE(Must(this->connections().Find(ConnectionId(4)), "Find").token.has_value());
  EXPECT_EQ(this->flows().Take("pending-flow").error().code, ErrorCode::kNotFound);
  // Nothing is due for a refresh any more.
  auto due = this->connections().ClaimDueRefreshes(kNow + 3650 * kDay, 60s, 10);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, std::vector<core::ConnectionId>{ConnectionId(4)});
}

TYPED_TEST(ConnectionContract, ARefreshRacingAnInvalidationCannotStoreItsToken) {
  this->Connected(ConnectionId(1), MakeTokenSet("one", kNow));

  static_cast<void>(this->connections().WithRefreshLock(
      ConnectionId(1), [this](const core::Connection&) -> core::Result<core::RefreshOutcome> {
        Must(this->connections().InvalidateForProvider(core::ProviderId(kGitLab),
                                                       "moved; reconnect", kNow),
             "InvalidateForProvider");
        return core::RefreshOutcome{core::RefreshNewToken{MakeTokenSet("late", kNow)}};
      }));

  const core::Connection after = Must(this->connections().Find(ConnectionId(1)), "Find");
  EXPECT_EQ(after.status, core::ConnectionStatus::kInvalidCredentials);
  EXPECT_FALSE(after.token.has_value());
}

// The token column is bound to the provider's destination (sealed_columns.h).
TYPED_TEST(ConnectionStorageContract, ATokenSetDoesNotOpenOnceItsProviderPointsElsewhere) {
  this->Connected(ConnectionId(1), MakeTokenSet("one", kNow));
  // Another path on the same origin sends nothing to another host: still readable.
  ASSERT_TRUE(this->db()
                  .Execute("UPDATE oauth2_clients SET url = $2 WHERE id = $1",
                           {std::string(kGitLab), "https://gitlab.example/sub/"})
                  .ok());
  ASSERT_TRUE(this->connections().Find(ConnectionId(1)).ok());

  for (const auto& [column, value] : std::vector<std::pair<std::string, std::string>>{
           {"url", "https://evil.example/"}, {"kind", "github"}}) {
    ASSERT_TRUE(this->db()
                    .Execute("UPDATE oauth2_clients SET url = 'https://gitlab.example/', "
                             "kind = 'gitlab' WHERE id = $1",
                             {std::string(kGitLab)})
                    .ok());
    ASSERT_TRUE(this->connections().Find(ConnectionId(1)).ok()) << column;
    ASSERT_TRUE(this->db()
                    .Execute("UPDATE oauth2_clients SET " + column + " = $2 WHERE id = $1",
                             {std::string(kGitLab), value})
                    .ok());

    auto found = this->connections().Find(ConnectionId(1));

    ASSERT_FALSE(found.ok()) << column;
    EXPECT_EQ(found.error().code, ErrorCode::kDecryptionFailed) << column;
  }
}

TYPED_TEST(ConnectionStorageContract, ATokenSealedBeforeTheBindingOpensAndIsResealedBound) {
  const core::TokenSet one = MakeTokenSet("one", kNow);
  this->Connected(ConnectionId(1), one);
  const std::string legacy_ad = kConnectionToken.AssociatedData(ConnectionId(1).value());
  const std::string legacy = Must(this->keys().Seal(EncodeTokenSet(one), legacy_ad), "Seal");
  ASSERT_TRUE(this->db()
                  .Execute("UPDATE oauth2_connections SET token = $2 WHERE id = $1",
                           {ConnectionId(1).value(), legacy})
                  .ok());

  auto found = this->connections().Find(ConnectionId(1));
  ASSERT_TRUE(found.ok()) << found.error().message << " / " << found.error().detail;
  ASSERT_TRUE(found->token.has_value());
  ExpectSameTokenSet(*found->token, one);

  ASSERT_TRUE(
      this->Refresh(ConnectionId(1), core::RefreshNewToken{MakeTokenSet("two", kNow)}).ok());
  const std::string resealed = this->RawToken(ConnectionId(1));
  EXPECT_FALSE(this->keys().Open(resealed, legacy_ad).ok());
  EXPECT_TRUE(
      this->keys()
          .Open(resealed, ConnectionTokenAssociatedData(
                              ConnectionId(1).value(),
                              ConnectionTokenBinding("gitlab", "https://gitlab.example/", "")))
          .ok());
}

TYPED_TEST(ConnectionStorageContract, KeyRotationResealsUnboundTokensEvenUnderTheActiveKey) {
  const core::TokenSet one = MakeTokenSet("one", kNow);
  this->Connected(ConnectionId(1), one);
  this->Connected(ConnectionId(2), MakeTokenSet("two", kNow), "user-2");
  const std::string legacy_ad = kConnectionToken.AssociatedData(ConnectionId(1).value());
  ASSERT_TRUE(this->db()
                  .Execute("UPDATE oauth2_connections SET token = $2 WHERE id = $1",
                           {ConnectionId(1).value(),
                            Must(this->keys().Seal(EncodeTokenSet(one), legacy_ad), "Seal")})
                  .ok());

  auto report = ReencryptSecrets(this->store(), this->keys());

  ASSERT_TRUE(report.ok()) << report.error().message << " / " << report.error().detail;
  EXPECT_EQ(report->reencrypted, 1);      // the unbound token set
  EXPECT_EQ(report->already_current, 3);  // 2 client secrets, the bound token set
  EXPECT_FALSE(this->keys().Open(this->RawToken(ConnectionId(1)), legacy_ad).ok());
  auto found = this->connections().Find(ConnectionId(1));
  ASSERT_TRUE(found.ok() && found->token.has_value());
  ExpectSameTokenSet(*found->token, one);
}

}  // namespace
}  // namespace keybridge::storage::contract_test
