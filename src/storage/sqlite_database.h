// SQLite backend of Database: a small pool of connections to one database file in WAL mode, so
// readers never wait for the writer and writers queue on the busy timeout.
#pragma once

#include <memory>
#include <string>

#include "storage/database.h"

namespace keybridge::storage {

// Opens (creating if needed) the database file at `path`; the parent directory must exist. Every
// connection runs with journal_mode=WAL, busy_timeout=5000 ms, foreign_keys=ON and
// synchronous=NORMAL. kUnavailable if the file cannot be opened. Thread-safe.
core::Result<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path);

}  // namespace keybridge::storage
