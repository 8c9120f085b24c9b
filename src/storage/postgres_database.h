// PostgreSQL backend of Database: a bounded pool of libpq connections that reconnects when the
// server drops one.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "storage/database.h"

namespace keybridge::storage {

// `conninfo` is a libpq connection URI ("postgresql://user@host:5432/db?sslmode=require") or a
// key=value string; it may contain a password, so it is never logged or put in an error. Opens
// one connection now (kUnavailable with libpq's reason if that fails) and up to 8 on demand.
// Thread-safe.
core::Result<std::unique_ptr<Database>> OpenPostgresDatabase(const std::string& conninfo);

struct PostgresPoolOptions {
  std::size_t max_connections = 8;
  // How long a statement waits for a free pooled connection before it fails with kUnavailable.
  std::chrono::milliseconds acquire_timeout{2000};
};
core::Result<std::unique_ptr<Database>> OpenPostgresDatabase(const std::string& conninfo,
                                                             const PostgresPoolOptions& options);

}  // namespace keybridge::storage
