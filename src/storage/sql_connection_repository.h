// SqlConnectionRepository and SqlAuthorizationFlowRepository: connections (Renku's
// oauth2_connections) and pending authorization flows over Database, for SQLite and PostgreSQL.
// The token set and the PKCE verifier are sealed with the KeyRing before they reach SQL.
#pragma once

#include <array>
#include <mutex>
#include <string>
#include <vector>

#include "core/repositories.h"
#include "crypto/key_ring.h"
#include "storage/database.h"

namespace keybridge::storage {

class SqlConnectionRepository final : public core::ConnectionRepository {
 public:
  // `database` and `keys` must outlive the repository. Thread-safe.
  SqlConnectionRepository(Database& database, crypto::KeyRing& keys)
      : database_(database), keys_(keys) {}

  core::Result<std::vector<core::Connection>> ListForUser(const std::string& user_id) override;
  core::Result<core::Connection> Find(const std::string& id) override;
  core::Result<core::Connection> FindOrInsert(const core::Connection& candidate) override;
  core::Result<core::Connection> StoreToken(const std::string& id, const core::TokenSet& token,
                                            core::TimePoint now) override;
  core::Result<core::Connection> WithRefreshLock(
      const std::string& id,
      const std::function<core::Result<core::RefreshOutcome>(const core::Connection&)>& refresh)
      override;
  core::Result<bool> Delete(const std::string& id) override;
  core::Result<std::vector<std::string>> ClaimDueRefreshes(core::TimePoint now,
                                                           core::Seconds claim_for,
                                                           std::size_t limit) override;
  core::Result<std::int64_t> CountForProvider(const std::string& provider_id) override;

 private:
  core::Result<core::Connection> FromRow(const Row& row);
  core::Result<core::Connection> FindIn(Database& db, const std::string& id, bool for_update);
  // Writes a refresh outcome with compare-and-set on token_version; returns rows affected.
  core::Result<std::int64_t> Persist(Database& db, const core::Connection& current,
                                     const core::RefreshOutcome& outcome);
  std::mutex& ProcessLockFor(const std::string& id);

  Database& database_;
  crypto::KeyRing& keys_;
  // SQLite only: refreshes of one connection are serialised within the process by a striped
  // lock (SQLite deployments are single-host; the version compare-and-set guards the rest).
  std::array<std::mutex, 64> process_locks_;
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
