// SqlAuditRepository: the audit trail (audit_events, migration 0012) over Database, for SQLite and
// PostgreSQL. Nothing in it is secret (core/audit.h), so nothing is sealed.
#pragma once

#include "core/audit.h"
#include "storage/database.h"

namespace keybridge::storage {

class SqlAuditRepository final : public core::AuditRepository {
 public:
  explicit SqlAuditRepository(Database& database) : database_(database) {}

  core::Status Append(const std::vector<core::AuditEvent>& events) override;
  core::Result<core::AuditPage> List(const core::AuditQuery& query) override;
  core::Result<std::int64_t> DeleteBefore(core::TimePoint before) override;

 private:
  Database& database_;
};

}  // namespace keybridge::storage
