// Shared by the ConnectionRepository and AuthorizationFlowRepository contract tests
// (connection_contract_test.cc, connection_refresh_contract_test.cc): connections, tokens and
// flows to store, comparisons, and the suites with two providers on top of contract_fixture.h.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "contract/contract_fixture.h"
#include "core/connection.h"
#include "core/repositories.h"
#include "core/token_set.h"
#include "storage/sealed_columns.h"

namespace keybridge::storage::contract_test {

inline constexpr const char* kGitLab = "gitlab.example";
inline constexpr const char* kGitHub = "github.com";
inline constexpr core::Seconds kDay(24 * 3600);
inline const core::TimePoint kCreated = core::FromUnixSeconds(1'700'000'000);
inline const core::TimePoint kNow = core::FromUnixSeconds(1'750'000'000);

// A ULID-shaped (26 characters) connection id; ids sort by `n`.
inline core::ConnectionId ConnectionId(int n) {
  const std::string digits = std::to_string(n);
  return core::ConnectionId("01J" + std::string(23 - digits.size(), '0') + digits);
}

inline core::Connection MakeConnection(const core::ConnectionId& id, const std::string& user_id,
                                       const std::string& provider_id) {
  core::Connection connection;
  connection.id = id;
  connection.user_id = core::UserId(user_id);
  connection.provider_id = core::ProviderId(provider_id);
  connection.status = core::ConnectionStatus::kPending;
  connection.created_at = kCreated;
  connection.updated_at = kCreated;
  return connection;
}

// Every field set, each value naming `tag`.
inline core::TokenSet MakeTokenSet(const std::string& tag, core::TimePoint obtained_at) {
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
inline core::TokenSet TokenDueAt(const std::string& tag, core::TimePoint due) {
  core::TokenSet token = MakeTokenSet(tag, due - 30 * kDay);
  token.refresh_token_expires_at = std::nullopt;
  KEYBRIDGE_CHECK(core::RefreshDueAt(token) == due, "TokenDueAt is out of step with RefreshDueAt");
  return token;
}

inline core::AuthorizationFlow MakeFlow(const std::string& state_hash,
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

inline void ExpectSameSecret(const std::optional<core::Secret>& actual,
                             const std::optional<core::Secret>& expected, const char* what) {
  ASSERT_EQ(actual.has_value(), expected.has_value()) << what;
  if (actual) {
    EXPECT_EQ(actual->Reveal(), expected->Reveal()) << what;
  }
}

inline void ExpectSameTokenSet(const core::TokenSet& actual, const core::TokenSet& expected) {
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

inline void ExpectSameFlow(const core::AuthorizationFlow& actual,
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

inline std::vector<std::string> ProviderIds(const std::vector<core::Connection>& connections) {
  std::vector<std::string> ids;
  for (const core::Connection& connection : connections) {
    ids.push_back(connection.provider_id.value());
  }
  return ids;
}

// Whether `text` is well-formed UTF-8 (no truncated or stray continuation bytes).
inline bool IsValidUtf8(std::string_view text) {
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

inline core::Result<core::RefreshOutcome> Outcome(core::RefreshOutcome outcome) {
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

}  // namespace keybridge::storage::contract_test
