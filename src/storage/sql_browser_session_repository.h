// SqlBrowserSessionRepository: core::BrowserSessionRepository over Database (tables
// browser_sessions, admin_sign_in_links, browser_login_flows; migration 0004), for SQLite and
// PostgreSQL. Only hashes of secrets are stored, so nothing here is sealed.
#pragma once

#include <string>

#include "core/repositories.h"
#include "storage/database.h"

namespace keybridge::storage {

class SqlBrowserSessionRepository final : public core::BrowserSessionRepository {
 public:
  // `database` must outlive the repository. Thread-safe.
  explicit SqlBrowserSessionRepository(Database& database) : database_(database) {}

  core::Status Insert(const core::BrowserSession& session) override;
  core::Result<core::BrowserSession> FindByHash(const std::string& id_hash) override;
  core::Status Touch(const std::string& id_hash, core::TimePoint last_seen_at) override;
  core::Result<bool> Delete(const std::string& id_hash) override;
  core::Result<std::int64_t> DeleteForUser(const core::UserId& user_id) override;
  core::Result<std::int64_t> DeleteExpired(core::TimePoint now) override;
  core::Result<bool> AdminEverSignedIn() override;
  core::Status InsertSignInLink(const std::string& token_hash, core::TimePoint created_at,
                                core::TimePoint expires_at) override;
  core::Result<core::TimePoint> TakeSignInLink(const std::string& token_hash) override;
  core::Status InsertLoginFlow(const core::BrowserLoginFlow& flow,
                               std::size_t max_pending) override;
  core::Result<core::BrowserLoginFlow> TakeLoginFlow(const std::string& state_hash) override;

 private:
  Database& database_;
};

}  // namespace keybridge::storage
