// SqlConnectionRepository and SqlAuthorizationFlowRepository: connections (Renku's
// oauth2_connections) and pending authorization flows over Database, for SQLite and PostgreSQL.
// The token set and the PKCE verifier are sealed with the KeyRing before they reach SQL.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/repositories.h"
#include "crypto/key_ring.h"
#include "storage/database.h"

namespace keybridge::storage {

// How WithRefreshLock's lease behaves (migrations 0005): the lease is a pair of columns taken
// and cleared with short compare-and-set statements, so no database connection or transaction is
// held while the provider is called, on either database.
struct RefreshLeaseOptions {
  // How long a lease lives if its holder never clears it (a killed replica). Longer than one
  // provider call may take: a token request times out after 10 s (core::HttpRequest), and a
  // refresh may first fetch the OIDC discovery document, so 2 x 10 s plus a margin.
  core::Seconds lease_length{30};
  // A waiter polls the row with back-off from `first_poll` doubling up to `max_poll`, never
  // past the holder's lease expiry.
  std::chrono::milliseconds first_poll{25};
  std::chrono::milliseconds max_poll{1000};
  // A waiter gives up after this long with kUnavailable (retry_after in detail) instead of
  // holding a request thread until a dead holder's lease expires; a live holder's provider call
  // ends within its 10 s timeout, so a waiter normally adopts its token well before.
  std::chrono::milliseconds max_wait{8000};
  // Time and sleeping, replaceable by tests; nullptr / empty = the system's.
  const core::Clock* clock = nullptr;
  std::function<void(std::chrono::milliseconds)> sleep;
};

class SqlConnectionRepository final : public core::ConnectionRepository {
 public:
  // `database` and `keys` (and `lease.clock`, if set) must outlive the repository. Thread-safe.
  SqlConnectionRepository(Database& database, crypto::KeyRing& keys,
                          RefreshLeaseOptions lease = {});

  core::Result<std::vector<core::Connection>> ListForUser(const core::UserId& user_id) override;
  core::Result<core::Connection> Find(const core::ConnectionId& id) override;
  core::Result<core::Connection> FindOrInsert(const core::Connection& candidate) override;
  core::Result<core::Connection> StoreToken(const core::ConnectionId& id,
                                            const core::TokenSet& token,
                                            core::TimePoint now) override;
  core::Result<core::Connection> WithRefreshLock(
      const core::ConnectionId& id,
      const std::function<core::Result<core::RefreshOutcome>(const core::Connection&)>& refresh)
      override;
  core::Result<std::optional<core::Connection>> Delete(const core::ConnectionId& id) override;
  core::Result<std::vector<core::ConnectionId>> ClaimDueRefreshes(core::TimePoint now,
                                                                  core::Seconds claim_for,
                                                                  std::size_t limit) override;
  core::Result<std::int64_t> CountForProvider(const core::ProviderId& provider_id) override;
  core::Result<std::vector<core::Connection>> InvalidateForProvider(
      const core::ProviderId& provider_id, const std::string& reason, core::TimePoint now) override;

 private:
  core::Result<core::Connection> FromRow(const Row& row);
  // Seals `token` for connection `id` bound to the destination of the row's provider as stored
  // now (ConnectionTokenBinding). kNotFound if the row is gone.
  core::Result<std::string> SealToken(Database& db, const core::ConnectionId& id,
                                      const core::TokenSet& token);
  core::Result<core::Connection> FindIn(Database& db, const core::ConnectionId& id);
  // Writes a refresh outcome with compare-and-set on token_version and the lease owner, clearing
  // the lease; returns rows affected.
  core::Result<std::int64_t> Persist(Database& db, const core::Connection& current,
                                     const core::RefreshOutcome& outcome, const std::string& owner);
  // Takes the refresh lease of `id` for `owner`, waiting (without a database connection) while
  // someone else holds an unexpired one, at most max_wait. kNotFound if the row is absent.
  core::Status TakeLease(const core::ConnectionId& id, const std::string& owner);
  void ReleaseLease(const core::ConnectionId& id, const std::string& owner);
  core::TimePoint Now() const;
  std::string NewLeaseOwner();

  Database& database_;
  crypto::KeyRing& keys_;
  const RefreshLeaseOptions lease_;
  const core::SystemClock system_clock_;
  // Lease owners are "<random instance id>-<counter>": unique per refresh attempt, across
  // replicas and within one.
  const std::string instance_id_;
  std::atomic<std::uint64_t> next_attempt_{0};
};

class SqlAuthorizationFlowRepository final : public core::AuthorizationFlowRepository {
 public:
  SqlAuthorizationFlowRepository(Database& database, crypto::KeyRing& keys)
      : database_(database), keys_(keys) {}

  core::Status Insert(const core::AuthorizationFlow& flow) override;
  core::Result<core::AuthorizationFlow> Take(const std::string& state_hash) override;
  core::Result<std::int64_t> DeleteExpired(core::TimePoint now) override;

 private:
  Database& database_;
  crypto::KeyRing& keys_;
};

}  // namespace keybridge::storage
