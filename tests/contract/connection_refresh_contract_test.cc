// Contract tests for ConnectionRepository's refreshes (core/repositories.h) on every backend of
// contract_fixture.h: WithRefreshLock stores what its callback decides and serialises the
// refreshes of one connection; ClaimDueRefreshes never hands a connection out twice.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "contract/connection_contract_support.h"
#include "contract/contract_fixture.h"
#include "core/connection.h"
#include "core/repositories.h"
#include "core/token_set.h"

namespace keybridge::storage::contract_test {
namespace {

using core::ConnectionStatus;
using core::ErrorCode;
using namespace std::chrono_literals;  // NOLINT(google-build-using-namespace): literals only

TYPED_TEST_SUITE(ConnectionContract, AllBackends, BackendNames);

// WithRefreshLock.

TYPED_TEST(ConnectionContract, RefreshCallbackSeesTheStoredRow) {
  const core::TokenSet token = MakeTokenSet("one", kNow);
  this->Connected(ConnectionId(1), token);
  std::optional<core::Connection> seen;

  auto result = this->connections().WithRefreshLock(ConnectionId(1),
                                                    [&seen](const core::Connection& current) {
                                                      seen = current;
                                                      return Outcome(core::RefreshNoChange{});
                                                    });

  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->id, ConnectionId(1));
  EXPECT_EQ(seen->user_id, "user-1");
  EXPECT_EQ(seen->provider_id, kGitLab);
  EXPECT_EQ(seen->status, ConnectionStatus::kConnected);
  EXPECT_EQ(seen->token_version, 1);
  ASSERT_TRUE(seen->token.has_value());
  ExpectSameTokenSet(*seen->token, token);
}

TYPED_TEST(ConnectionContract, RefreshNewTokenIsPersistedAndReturned) {
  this->Connected(ConnectionId(1), MakeTokenSet("one", kNow));
  const core::TokenSet fresh = MakeTokenSet("two", kNow + core::Seconds(3600));

  auto result = this->Refresh(ConnectionId(1), core::RefreshNewToken{fresh});
  auto found = this->connections().Find(ConnectionId(1));

  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_TRUE(found.ok()) << found.error().message;
  for (const core::Connection& c : {*result, *found}) {
    EXPECT_EQ(c.status, ConnectionStatus::kConnected);
    EXPECT_EQ(c.status_reason, "");
    EXPECT_EQ(c.token_version, 2);
    ASSERT_TRUE(c.token.has_value());
    ExpectSameTokenSet(*c.token, fresh);
  }
}

TYPED_TEST(ConnectionContract, RefreshMarkInvalidStoresTheStatusAndReason) {
  this->Connected(ConnectionId(1), MakeTokenSet("one", kNow));

  auto result = this->Refresh(ConnectionId(1), core::RefreshMarkInvalid{"GitLab said no"});
  auto found = this->connections().Find(ConnectionId(1));

  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_TRUE(found.ok()) << found.error().message;
  for (const core::Connection& c : {*result, *found}) {
    EXPECT_EQ(c.status, ConnectionStatus::kInvalidCredentials);
    EXPECT_EQ(c.status_reason, "GitLab said no");
    EXPECT_EQ(c.token_version, 2);
  }
}

// A reason built from provider text (display name, error) may be long and not ASCII. Whatever the
// repository keeps of it must be stored, and still be text: three reasons whose 3-byte characters
// start at offsets 0, 1 and 2 mod 3, so that a length limit counted in bytes cuts one of them
// inside a character.
TYPED_TEST(ConnectionContract, RefreshMarkInvalidStoresALongNonAsciiReason) {
  this->Connected(ConnectionId(1), MakeTokenSet("one", kNow));

  for (const char* prefix : {"", "(", "(("}) {
    std::string reason = prefix;
    while (reason.size() < 2000) {
      reason += "\xe7\x84\xa1\xe5\x8a\xb9";  // "無効" (invalid)
    }
    auto result = this->Refresh(ConnectionId(1), core::RefreshMarkInvalid{reason});
    auto found = this->connections().Find(ConnectionId(1));

    ASSERT_TRUE(result.ok()) << result.error().message << " / " << result.error().detail;
    ASSERT_TRUE(found.ok()) << found.error().message;
    EXPECT_EQ(found->status, ConnectionStatus::kInvalidCredentials);
    EXPECT_FALSE(found->status_reason.empty());
    EXPECT_TRUE(reason.starts_with(found->status_reason)) << "prefix '" << prefix << "'";
    EXPECT_TRUE(IsValidUtf8(found->status_reason))
        << "prefix '" << prefix << "': " << found->status_reason.size() << " bytes kept";
  }
}

TYPED_TEST(ConnectionContract, RefreshNoChangeChangesNothing) {
  const core::Connection before = this->Connected(ConnectionId(1), MakeTokenSet("one", kNow));

  auto result = this->Refresh(ConnectionId(1), core::RefreshNoChange{});
  auto found = this->connections().Find(ConnectionId(1));

  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_TRUE(found.ok()) << found.error().message;
  for (const core::Connection& c : {*result, *found}) {
    EXPECT_EQ(c.status, before.status);
    EXPECT_EQ(c.status_reason, before.status_reason);
    EXPECT_EQ(c.token_version, before.token_version);
    EXPECT_EQ(c.updated_at, before.updated_at);
    ASSERT_TRUE(c.token.has_value());
    ExpectSameTokenSet(*c.token, *before.token);
  }
}

TYPED_TEST(ConnectionContract, RefreshCallbackErrorPersistsNothingAndIsReturned) {
  const core::Connection before = this->Connected(ConnectionId(1), MakeTokenSet("one", kNow));

  auto result = this->connections().WithRefreshLock(ConnectionId(1), [](const core::Connection&) {
    return core::Result<core::RefreshOutcome>(
        core::MakeError(ErrorCode::kUnavailable, "provider is down", "HTTP 503"));
  });
  auto found = this->connections().Find(ConnectionId(1));
  auto next = this->Refresh(ConnectionId(1), core::RefreshNoChange{});  // the lock was released

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(result.error().message, "provider is down");
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->status, ConnectionStatus::kConnected);
  EXPECT_EQ(found->token_version, before.token_version);
  ASSERT_TRUE(found->token.has_value());
  ExpectSameTokenSet(*found->token, *before.token);
  EXPECT_TRUE(next.ok());
}

TYPED_TEST(ConnectionContract, RefreshOfUnknownConnectionIsNotFoundWithoutCallingBack) {
  bool called = false;

  auto result = this->connections().WithRefreshLock(ConnectionId(9), [&called](const auto&) {
    called = true;
    return Outcome(core::RefreshNoChange{});
  });

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(called);
}

// The first refresh is held inside its callback while the second one starts: the second callback
// may only run once the first outcome is stored, and must see it.
TYPED_TEST(ConnectionContract, RefreshesOfOneConnectionAreSerialised) {
  this->Connected(ConnectionId(1), MakeTokenSet("original", kNow));
  std::promise<void> first_entered;
  std::promise<void> second_started;
  std::promise<void> release_first;
  std::shared_future<void> released = release_first.get_future().share();
  std::atomic<bool> first_returned{false};
  std::atomic<bool> second_entered{false};
  std::atomic<bool> second_ran_while_first_held{false};
  std::optional<core::Connection> seen_by_second;
  std::optional<core::Result<core::Connection>> first_result;
  std::optional<core::Result<core::Connection>> second_result;

  std::thread first([&] {
    bool entered = false;
    first_result = this->connections().WithRefreshLock(ConnectionId(1), [&](const auto&) {
      entered = true;
      first_entered.set_value();
      released.wait();
      first_returned = true;
      return Outcome(core::RefreshNewToken{MakeTokenSet("first", kNow + 10s)});
    });
    if (!entered) {
      first_entered.set_value();  // it failed without calling back; the assertions below tell
    }
  });
  first_entered.get_future().wait();
  std::thread second([&] {
    second_started.set_value();
    second_result =
        this->connections().WithRefreshLock(ConnectionId(1), [&](const core::Connection& current) {
          second_ran_while_first_held = !first_returned;
          seen_by_second = current;
          second_entered = true;
          return Outcome(core::RefreshNewToken{MakeTokenSet("second", kNow + 20s)});
        });
  });
  second_started.get_future().wait();
  this->AwaitLockWaiterOr(second_entered);
  release_first.set_value();
  first.join();
  second.join();

  ASSERT_TRUE(first_result->ok()) << first_result->error().message;
  ASSERT_TRUE(second_result->ok()) << second_result->error().message;
  EXPECT_FALSE(second_ran_while_first_held.load());
  ASSERT_TRUE(seen_by_second.has_value() && seen_by_second->token.has_value());
  EXPECT_EQ(seen_by_second->token->access_token.Reveal(), "access-first");
  EXPECT_EQ(seen_by_second->token_version, 2);
  EXPECT_EQ((*first_result)->token_version, 2);
  EXPECT_EQ((*second_result)->token_version, 3);
  auto found = this->connections().Find(ConnectionId(1));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->token_version, 3);
  ASSERT_TRUE(found->token.has_value());
  EXPECT_EQ(found->token->access_token.Reveal(), "access-second");
}

TYPED_TEST(ConnectionContract, RefreshNoteReasonKeepsTheTokenAndRecordsTheReason) {
  const core::Connection before = this->Connected(ConnectionId(1), MakeTokenSet("one", kNow));

  auto result = this->Refresh(ConnectionId(1), core::RefreshNoteReason{"answer lost"});
  auto found = this->connections().Find(ConnectionId(1));

  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_TRUE(found.ok()) << found.error().message;
  for (const core::Connection& c : {*result, *found}) {
    EXPECT_EQ(c.status, ConnectionStatus::kConnected);
    EXPECT_EQ(c.status_reason, "answer lost");
    EXPECT_EQ(c.token_version, before.token_version);
    ASSERT_TRUE(c.token.has_value());
    ExpectSameTokenSet(*c.token, *before.token);
  }
  // The next new token clears the note.
  auto fresh = this->Refresh(ConnectionId(1), core::RefreshNewToken{MakeTokenSet("two", kNow)});
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->status_reason, "");
}

// A callback that throws must not leave the connection locked: the next refresh runs (and, with
// a lease, at once rather than after the lease expired, which the refresh-lease tests check).
TYPED_TEST(ConnectionContract, RefreshCallbackThatThrowsReleasesTheLock) {
  this->Connected(ConnectionId(1), MakeTokenSet("one", kNow));

  EXPECT_THROW(static_cast<void>(this->connections().WithRefreshLock(
                   ConnectionId(1),
                   [](const core::Connection&) -> core::Result<core::RefreshOutcome> {
                     throw std::runtime_error("refresh blew up");
                   })),
               std::runtime_error);
  auto next = this->Refresh(ConnectionId(1), core::RefreshNewToken{MakeTokenSet("two", kNow)});

  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->token_version, 2);
}

// ClaimDueRefreshes.

TYPED_TEST(ConnectionContract, ClaimDueRefreshesClaimsDueConnectedRowsMostOverdueFirst) {
  // Ids deliberately out of due order.
  this->Connected(ConnectionId(1), TokenDueAt("1", kNow - 1 * kDay), "user-1");
  this->Connected(ConnectionId(2), TokenDueAt("2", kNow - 10 * kDay), "user-2");
  this->Connected(ConnectionId(3), TokenDueAt("3", kNow), "user-3");
  core::TokenSet expiring_grant = MakeTokenSet("4", kNow - 100 * kDay);  // GitHub App
  expiring_grant.refresh_token_expires_at = kNow + 2 * kDay;  // due a week before: -5 days
  this->Connected(ConnectionId(4), expiring_grant, "user-4");
  this->Connected(ConnectionId(5), TokenDueAt("5", kNow + 1s), "user-5");  // not yet due
  core::TokenSet no_refresh_token = TokenDueAt("6", kNow - 20 * kDay);
  no_refresh_token.refresh_token = std::nullopt;  // never due
  this->Connected(ConnectionId(6), no_refresh_token, "user-6");
  this->Connected(ConnectionId(7), TokenDueAt("7", kNow - 20 * kDay), "user-7");
  ASSERT_TRUE(this->Refresh(ConnectionId(7), core::RefreshMarkInvalid{"revoked"}).ok());
  this->Pending(ConnectionId(8), "user-8");

  auto first = this->connections().ClaimDueRefreshes(kNow, 600s, 3);
  auto second = this->connections().ClaimDueRefreshes(kNow, 600s, 10);
  auto third = this->connections().ClaimDueRefreshes(kNow, 600s, 10);

  ASSERT_TRUE(first.ok() && second.ok() && third.ok());
  EXPECT_EQ(*first,
            (std::vector<core::ConnectionId>{ConnectionId(2), ConnectionId(4), ConnectionId(1)}));
  EXPECT_EQ(*second, (std::vector<core::ConnectionId>{ConnectionId(3)}));
  EXPECT_TRUE(third->empty());
}

TYPED_TEST(ConnectionContract, ClaimedConnectionsAreDueAgainAfterClaimFor) {
  this->Connected(ConnectionId(1), TokenDueAt("1", kNow - 1s), "user-1");
  this->Connected(ConnectionId(2), TokenDueAt("2", kNow - 2s), "user-2");

  auto claimed = this->connections().ClaimDueRefreshes(kNow, 600s, 10);
  auto before = this->connections().ClaimDueRefreshes(kNow + 599s, 600s, 10);
  auto after = this->connections().ClaimDueRefreshes(kNow + 600s, 600s, 10);

  ASSERT_TRUE(claimed.ok() && before.ok() && after.ok());
  EXPECT_EQ(*claimed, (std::vector<core::ConnectionId>{ConnectionId(2), ConnectionId(1)}));
  EXPECT_TRUE(before->empty());
  std::sort(after->begin(), after->end());  // equally overdue now
  EXPECT_EQ(*after, (std::vector<core::ConnectionId>{ConnectionId(1), ConnectionId(2)}));
}

TYPED_TEST(ConnectionContract, ConcurrentClaimsNeverClaimAConnectionTwice) {
  constexpr int kConnections = 20;
  constexpr int kThreads = 4;
  for (int i = 0; i < kConnections; ++i) {
    this->Connected(ConnectionId(i),
                    TokenDueAt(std::to_string(i), kNow - (i + 1) * core::Seconds(1)),
                    "user-" + std::to_string(i));
  }
  std::vector<std::vector<core::ConnectionId>> claimed(kThreads);
  std::atomic<int> failures{0};
  std::latch start(kThreads);

  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &claimed, &failures, &start] {
      start.arrive_and_wait();
      for (;;) {
        auto batch = this->connections().ClaimDueRefreshes(kNow, 600s, 3);
        if (!batch.ok()) {
          ++failures;
          return;
        }
        if (batch->empty()) {
          return;
        }
        claimed[t].insert(claimed[t].end(), batch->begin(), batch->end());
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  // A claim that lost every row to another replica may stop its loop early; pick up the rest.
  auto rest = this->connections().ClaimDueRefreshes(kNow, 600s, kConnections);

  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE(rest.ok());
  std::vector<core::ConnectionId> all = *rest;
  for (const auto& batch : claimed) {
    all.insert(all.end(), batch.begin(), batch.end());
  }
  std::map<core::ConnectionId, int> claims;
  for (const core::ConnectionId& id : all) {
    ++claims[id];
  }
  std::vector<core::ConnectionId> claimed_twice;
  for (const auto& [id, count] : claims) {
    if (count > 1) {
      claimed_twice.push_back(id);
    }
  }
  EXPECT_EQ(claimed_twice, std::vector<core::ConnectionId>{});
  EXPECT_EQ(claims.size(), static_cast<std::size_t>(kConnections));
}

}  // namespace
}  // namespace keybridge::storage::contract_test
