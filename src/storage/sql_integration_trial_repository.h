// SqlIntegrationTrialRepository: "Try connecting" round trips (integration_trials, migration 0011)
// over Database, for SQLite and PostgreSQL. The PKCE verifier is sealed with the KeyRing.
#pragma once

#include "core/repositories.h"
#include "crypto/key_ring.h"
#include "storage/database.h"

namespace keybridge::storage {

class SqlIntegrationTrialRepository final : public core::IntegrationTrialRepository {
 public:
  SqlIntegrationTrialRepository(Database& database, crypto::KeyRing& keys)
      : database_(database), keys_(keys) {}

  core::Status Insert(const core::IntegrationTrial& trial) override;
  core::Result<core::IntegrationTrial> Find(const std::string& id) override;
  core::Result<bool> Start(const std::string& id, const core::TrialFlow& flow,
                           core::TimePoint now) override;
  core::Result<std::pair<core::IntegrationTrial, core::TrialFlow>> TakeFlow(
      const std::string& state_hash) override;
  core::Status Finish(const std::string& id, const std::vector<core::TrialStage>& stages,
                      core::TimePoint now) override;
  core::Result<std::int64_t> DeleteCreatedBefore(core::TimePoint before) override;

 private:
  Database& database_;
  crypto::KeyRing& keys_;
};

}  // namespace keybridge::storage
