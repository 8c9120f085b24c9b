// SqlSessionTokenRepository: core::SessionTokenRepository over Database (table session_tokens),
// for both SQLite and PostgreSQL. Only token hashes are stored, so nothing here is sealed; the
// scope lists are JSON arrays of strings and timestamps whole unix seconds.
#pragma once

#include <string>
#include <vector>

#include "core/repositories.h"
#include "storage/database.h"

namespace keybridge::storage {

class SqlSessionTokenRepository final : public core::SessionTokenRepository {
 public:
  // `database` must outlive the repository. Thread-safe.
  explicit SqlSessionTokenRepository(Database& database) : database_(database) {}

  core::Status Insert(const core::SessionToken& token) override;
  core::Result<core::SessionToken> FindByHash(const std::string& token_hash) override;
  core::Result<std::vector<core::SessionToken>> ListForUser(const core::UserId& user_id) override;
  core::Result<bool> Revoke(const std::string& id, const core::UserId& user_id,
                            core::TimePoint now) override;

 private:
  Database& database_;
};

}  // namespace keybridge::storage
