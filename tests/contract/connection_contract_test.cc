// Contract tests for ConnectionRepository and AuthorizationFlowRepository (core/repositories.h),
// on every backend of contract_fixture.h, including the concurrency promises (one row per (user,
// provider), serialised refreshes, single-use flows, claims never handed out twice); on the SQL
// backends also tokens and verifiers sealed at rest, and key rotation.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <latch>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "contract/contract_fixture.h"
#include "core/connection.h"
#include "core/repositories.h"
#include "core/token_set.h"
#include "crypto/key_ring.h"
#include "storage/key_rotation.h"
#include "storage/sealed_columns.h"

namespace keybridge::storage::contract_test {
namespace {

using core::ConnectionStatus;
using core::ErrorCode;
using namespace std::chrono_literals;  // NOLINT(google-build-using-namespace): literals only

constexpr const char* kGitLab = "gitlab.example";
constexpr const char* kGitHub = "github.com";
constexpr core::Seconds kDay(24 * 3600);
const core::TimePoint kCreated = core::FromUnixSeconds(1'700'000'000);
const core::TimePoint kNow = core::FromUnixSeconds(1'750'000'000);

// A ULID-shaped (26 characters) connection id; ids sort by `n`.
core::ConnectionId ConnectionId(int n) {
  const std::string digits = std::to_string(n);
  return core::ConnectionId("01J" + std::string(23 - digits.size(), '0') + digits);
}

core::Connection MakeConnection(const core::ConnectionId& id, const std::string& user_id,
                                const std::string& provider_id) {
  core::Connection connection;
  connection.id = id;
  connection.user_id = core::UserId(user_id);
  connection.provider_id = core::ProviderId(provider_id);
  connection.status = ConnectionStatus::kPending;
  connection.created_at = kCreated;
  connection.updated_at = kCreated;
  return connection;
}

// Every field set, each value naming `tag`.
core::TokenSet MakeTokenSet(const std::string& tag, core::TimePoint obtained_at) {
  core::TokenSet token;
  token.access_token = core::Secret("access-" + tag);
  token.token_type = "Bearer";
  token.refresh_token = core::Secret("refresh-" + tag);
  token.scope = "read_user api " + tag;
  token.expires_in = 7200;
  token.expires_at = obtained_at + core::Seconds(7200);
  token.refresh_token_expires_at = obtained_at + 180 * kDay;
  token.id_token = core::Secret("id-" + tag);
  token.obtained_at = obtained_at;
  return token;
}

// A token whose refresh is due at `due` (core::RefreshDueAt): obtained 30 days before, with a
// refresh token that has no known expiry.
core::TokenSet TokenDueAt(const std::string& tag, core::TimePoint due) {
  core::TokenSet token = MakeTokenSet(tag, due - 30 * kDay);
  token.refresh_token_expires_at = std::nullopt;
  KEYBRIDGE_CHECK(core::RefreshDueAt(token) == due, "TokenDueAt is out of step with RefreshDueAt");
  return token;
}

core::AuthorizationFlow MakeFlow(const std::string& state_hash,
                                 const core::ConnectionId& connection_id,
                                 core::TimePoint expires_at) {
  core::AuthorizationFlow flow;
  flow.state_hash = state_hash;
  flow.user_id = core::UserId("user-1");
  flow.provider_id = core::ProviderId(kGitLab);
  flow.connection_id = connection_id;
  flow.code_verifier = core::Secret("verifier-for-" + state_hash);
  flow.next_url = "https://app.example/settings?tab=integrations&x=%C3%BC";
  flow.browser_binding_hash = "binding-of-" + state_hash;
  flow.created_at = kNow;
  flow.expires_at = expires_at;
  return flow;
}

void ExpectSameSecret(const std::optional<core::Secret>& actual,
                      const std::optional<core::Secret>& expected, const char* what) {
  ASSERT_EQ(actual.has_value(), expected.has_value()) << what;
  if (actual) {
    EXPECT_EQ(actual->Reveal(), expected->Reveal()) << what;
  }
}

void ExpectSameTokenSet(const core::TokenSet& actual, const core::TokenSet& expected) {
  EXPECT_EQ(actual.access_token.Reveal(), expected.access_token.Reveal());
  EXPECT_EQ(actual.token_type, expected.token_type);
  ExpectSameSecret(actual.refresh_token, expected.refresh_token, "refresh_token");
  ExpectSameSecret(actual.id_token, expected.id_token, "id_token");
  EXPECT_EQ(actual.scope, expected.scope);
  EXPECT_EQ(actual.expires_at, expected.expires_at);
  EXPECT_EQ(actual.expires_in, expected.expires_in);
  EXPECT_EQ(actual.refresh_token_expires_at, expected.refresh_token_expires_at);
  EXPECT_EQ(actual.obtained_at, expected.obtained_at);
}

void ExpectSameFlow(const core::AuthorizationFlow& actual,
                    const core::AuthorizationFlow& expected) {
  EXPECT_EQ(actual.state_hash, expected.state_hash);
  EXPECT_EQ(actual.user_id, expected.user_id);
  EXPECT_EQ(actual.provider_id, expected.provider_id);
  EXPECT_EQ(actual.connection_id, expected.connection_id);
  ExpectSameSecret(actual.code_verifier, expected.code_verifier, "code_verifier");
  EXPECT_EQ(actual.next_url, expected.next_url);
  EXPECT_EQ(actual.browser_binding_hash, expected.browser_binding_hash);
  EXPECT_EQ(actual.created_at, expected.created_at);
  EXPECT_EQ(actual.expires_at, expected.expires_at);
}

std::vector<std::string> ProviderIds(const std::vector<core::Connection>& connections) {
  std::vector<std::string> ids;
  for (const core::Connection& connection : connections) {
    ids.push_back(connection.provider_id.value());
  }
  return ids;
}

// Whether `text` is well-formed UTF-8 (no truncated or stray continuation bytes).
bool IsValidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead < 0x80           ? 1
                               : (lead >> 5) == 0x6  ? 2
                               : (lead >> 4) == 0xE  ? 3
                               : (lead >> 3) == 0x1E ? 4
                                                     : 0;
    if (length == 0 || i + length > text.size()) {
      return false;
    }
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) {
        return false;
      }
    }
    i += length;
  }
  return true;
}

// The value of a setup step that must succeed; a failure here is a broken test setup (or a
// contract violation another test names), so stop with the error rather than cascade.
template <typename T>
T Must(core::Result<T> result, const char* what) {
  if (!result.ok()) {
    std::fprintf(stderr, "setup step '%s' failed: %s / %s\n", what, result.error().message.c_str(),
                 result.error().detail.c_str());
    std::abort();
  }
  return std::move(result).value();
}

core::Result<core::RefreshOutcome> Outcome(core::RefreshOutcome outcome) {
  return outcome;
}

// --- The suites: the repositories of Contract (every backend) or StoreContract (SQL backends)
// with two providers.

template <typename Base>
class ConnectionSuite : public Base {
 protected:
  void SetUp() override {
    Base::SetUp();
    if (this->IsSkipped() || this->HasFatalFailure()) {
      return;
    }
    ASSERT_TRUE(this->providers().Insert(MakeProvider(kGitLab)).ok());
    ASSERT_TRUE(this->providers().Insert(MakeProvider(kGitHub)).ok());
  }

  core::Connection Pending(const core::ConnectionId& id, const std::string& user_id = "user-1",
                           const std::string& provider_id = kGitLab) {
    core::Connection stored = Must(
        this->connections().FindOrInsert(MakeConnection(id, user_id, provider_id)), "FindOrInsert");
    KEYBRIDGE_CHECK(stored.id == id, "the (user, provider) pair is taken");
    return stored;
  }

  core::Connection Connected(const core::ConnectionId& id, const core::TokenSet& token,
                             const std::string& user_id = "user-1",
                             const std::string& provider_id = kGitLab) {
    Pending(id, user_id, provider_id);
    return Must(this->connections().StoreToken(id, token, kNow), "StoreToken");
  }

  // WithRefreshLock with a callback that decides `outcome`.
  core::Result<core::Connection> Refresh(const core::ConnectionId& id,
                                         const core::RefreshOutcome& outcome) {
    return this->connections().WithRefreshLock(
        id, [&outcome](const core::Connection&) { return Outcome(outcome); });
  }

  // The refresh lock is a lease the second refresh waits for by polling, without a database
  // session that could be observed waiting; the first refresh is held inside its callback until
  // after this returns, so whenever the second one gets to the lease, it finds it taken. Yielding
  // here only gives the second thread a chance to get there first.
  void AwaitLockWaiterOr(const std::atomic<bool>& ran) {
    for (int i = 0; i < 1000 && !ran; ++i) {
      std::this_thread::yield();
    }
  }
};

template <typename Backend>
class ConnectionContract : public ConnectionSuite<Contract<Backend>> {};

template <typename Backend>
class ConnectionStorageContract : public ConnectionSuite<StoreContract<Backend>> {
 protected:
  std::string RawToken(const core::ConnectionId& id) {
    return this->RawColumn(kConnectionToken.table, kConnectionToken.column,
                           kConnectionToken.id_column, id.value());
  }
  std::string RawVerifier(const std::string& state_hash) {
    return this->RawColumn(kFlowCodeVerifier.table, kFlowCodeVerifier.column,
                           kFlowCodeVerifier.id_column, state_hash);
  }
};

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
  ASSERT_TRUE(this->connections().Delete(ConnectionId(1)).value());

  auto stored = this->connections().StoreToken(ConnectionId(1), MakeTokenSet("one", kNow), kNow);

  ASSERT_FALSE(stored.ok());
  EXPECT_EQ(stored.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(this->connections().Find(ConnectionId(1)).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(this->connections().ListForUser(core::UserId("user-1")).value().empty());
}

// Delete and CountForProvider.

TYPED_TEST(ConnectionContract, DeleteReportsWhetherARowWasDeleted) {
  this->Connected(ConnectionId(1), MakeTokenSet("one", kNow));
  this->Pending(ConnectionId(2), "user-2");

  auto first = this->connections().Delete(ConnectionId(1));
  auto second = this->connections().Delete(ConnectionId(1));

  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*second);
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

}  // namespace
}  // namespace keybridge::storage::contract_test
