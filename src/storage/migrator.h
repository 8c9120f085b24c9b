// Migrate: brings a database's schema up to the version this binary knows. The migrations are
// migrations/<sqlite|postgres>/NNNN_name.sql, embedded at build time; schema_migrations records
// which versions were applied. Adding a migration = adding a file and listing it in CMakeLists.
#pragma once

#include <cstdint>
#include <vector>

#include "storage/database.h"

namespace keybridge::storage {

// Applies every missing migration in version order, each in its own transaction together with
// its schema_migrations row. Idempotent, and safe when several processes start at once
// (PostgreSQL: pg_advisory_xact_lock; SQLite: BEGIN IMMEDIATE). kInternal, changing nothing, if
// the database already has a version newer than LatestSchemaVersion() (an older binary must not
// write to a newer schema); other failures are the Database's errors.
core::Status Migrate(Database& database);

// Migrate() as a binary whose newest migration is `version` would run it: applies the missing
// migrations up to and including `version`, and refuses a database already past it. Upgrade
// tests use it to build a database as an older release left it.
core::Status MigrateTo(Database& database, std::int64_t version);

// The highest migration version embedded for `dialect`.
std::int64_t LatestSchemaVersion(Dialect dialect);

// Every migration version embedded for `dialect`, ascending. Versions may have gaps (a number
// reserved by work merged later); both dialects have the same list.
std::vector<std::int64_t> SchemaVersions(Dialect dialect);

}  // namespace keybridge::storage
