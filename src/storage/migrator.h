// Migrate: brings a database's schema up to the version this binary knows. The migrations are
// migrations/<sqlite|postgres>/NNNN_name.sql, embedded at build time; schema_migrations records
// which versions were applied. Adding a migration = adding a file and listing it in CMakeLists.
#pragma once

#include <cstdint>

#include "storage/database.h"

namespace keybridge::storage {

// Applies every missing migration in version order, each in its own transaction together with
// its schema_migrations row. Idempotent, and safe when several processes start at once
// (PostgreSQL: pg_advisory_xact_lock; SQLite: BEGIN IMMEDIATE). kInternal, changing nothing, if
// the database already has a version newer than LatestSchemaVersion() (an older binary must not
// write to a newer schema); other failures are the Database's errors.
core::Status Migrate(Database& database);

// The highest migration version embedded for `dialect`.
std::int64_t LatestSchemaVersion(Dialect dialect);

}  // namespace keybridge::storage
