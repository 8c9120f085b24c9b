// SqlApiTokenRepository: core::ApiTokenRepository over Database (table api_tokens), for both
// SQLite and PostgreSQL. Only token hashes are stored, so nothing here is sealed; timestamps are
// stored as whole unix seconds.
#pragma once

#include <string>
#include <vector>

#include "core/repositories.h"
#include "storage/database.h"

namespace keybridge::storage {

class SqlApiTokenRepository final : public core::ApiTokenRepository {
 public:
  // `database` must outlive the repository. Thread-safe.
  explicit SqlApiTokenRepository(Database& database) : database_(database) {}

  core::Status Insert(const core::ApiToken& token) override;
  core::Result<core::ApiToken> FindByHash(const std::string& token_hash) override;
  core::Result<std::vector<core::ApiToken>> List() override;
  core::Result<bool> Revoke(const std::string& id, core::TimePoint now) override;

 private:
  Database& database_;
};

}  // namespace keybridge::storage
