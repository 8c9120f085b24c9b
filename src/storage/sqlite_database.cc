#include "storage/sqlite_database.h"

#include <sqlite3.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "storage/log.h"
#include "storage/pooled_database.h"

namespace keybridge::storage {
namespace {

// Readers run in parallel under WAL; there is only ever one writer, so a few connections suffice.
constexpr std::size_t kMaxConnections = 4;
constexpr int kBusyTimeoutMs = 5000;
// SQLITE_STATIC spelled without its C-style cast: bound values outlive the statement's execution.
const sqlite3_destructor_type kStaticValue = nullptr;

using Statement = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

core::Error SqliteError(sqlite3* db, int rc, std::string_view sql) {
  const int extended = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  std::string detail = std::string("sqlite ") + sqlite3_errstr(extended);
  if (db != nullptr) {
    detail += std::string(": ") + sqlite3_errmsg(db);
  }
  detail += "; sql: " + SqlForLog(sql);
  // The low byte of an extended result code is the primary code.
  switch (extended & 0xff) {
    case SQLITE_CONSTRAINT:
      if (extended == SQLITE_CONSTRAINT_UNIQUE || extended == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return core::MakeError(core::ErrorCode::kConflict, "already exists", std::move(detail));
      }
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
      return core::MakeError(core::ErrorCode::kUnavailable, "database unavailable",
                             std::move(detail));
    default:
      break;
  }
  return core::MakeError(core::ErrorCode::kInternal, "database error", std::move(detail));
}

class SqliteConnection final : public SqlConnection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [sql, statement] : statements_) {
      sqlite3_finalize(statement);
    }
    sqlite3_close_v2(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;
  SqliteConnection(SqliteConnection&&) = delete;
  SqliteConnection& operator=(SqliteConnection&&) = delete;

  core::Status Configure() {
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    KEYBRIDGE_ASSIGN_OR_RETURN(std::vector<Row> mode, Query("PRAGMA journal_mode=WAL", {}));
    if (mode.empty() || mode[0].empty() || mode[0][0] != SqlValue(std::string("wal"))) {
      Log()->warn("SQLite refused WAL mode; concurrent readers will wait for writers");
    }
    return ExecuteScript("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;");
  }

  core::Result<std::vector<Row>> Query(std::string_view sql, const Params& params) override {
    KEYBRIDGE_ASSIGN_OR_RETURN(Lease statement, Prepare(sql, params));
    std::vector<Row> rows;
    const int columns = sqlite3_column_count(statement.get());
    for (;;) {
      const int rc = sqlite3_step(statement.get());
      if (rc == SQLITE_DONE) {
        return rows;
      }
      if (rc != SQLITE_ROW) {
        return SqliteError(db_, rc, sql);
      }
      Row& row = rows.emplace_back();
      row.reserve(static_cast<std::size_t>(columns));
      for (int i = 0; i < columns; ++i) {
        row.push_back(ColumnValue(statement.get(), i));
      }
    }
  }

  core::Result<std::int64_t> Execute(std::string_view sql, const Params& params) override {
    KEYBRIDGE_ASSIGN_OR_RETURN(Lease statement, Prepare(sql, params));
    for (;;) {
      const int rc = sqlite3_step(statement.get());
      if (rc == SQLITE_DONE) {
        return static_cast<std::int64_t>(sqlite3_changes64(db_));
      }
      if (rc != SQLITE_ROW) {
        return SqliteError(db_, rc, sql);
      }
    }
  }

  core::Status ExecuteScript(std::string_view sql) override {
    const std::string text(sql);
    const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
      return SqliteError(db_, rc, sql);
    }
    return core::OkStatus();
  }

  core::Status Begin() override { return ExecuteScript("BEGIN IMMEDIATE"); }

  bool Reusable() override { return sqlite3_get_autocommit(db_) != 0; }

 private:
  // Compiling a statement costs more than running these small queries: statements are kept per
  // connection (the SQL strings are the code's own constants) and reset after each use. Beyond
  // kMaxCachedStatements distinct strings (generated SQL) they are finalized after use instead.
  static constexpr std::size_t kMaxCachedStatements = 256;
  struct Release {
    bool cached = true;
    void operator()(sqlite3_stmt* statement) const {
      if (cached) {
        sqlite3_reset(statement);
        sqlite3_clear_bindings(statement);
      } else {
        sqlite3_finalize(statement);
      }
    }
  };
  using Lease = std::unique_ptr<sqlite3_stmt, Release>;

  // Prepares (or reuses) the single statement in `sql` and binds params[i] to "$<i+1>".
  core::Result<Lease> Prepare(std::string_view sql, const Params& params) {
    sqlite3_stmt* raw = nullptr;
    Lease statement;
    if (const auto found = statements_.find(sql); found != statements_.end()) {
      raw = found->second;
      statement = Lease(raw, Release{true});
    } else {
      const char* tail = nullptr;
      const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &raw, &tail);
      Statement compiled(raw, &sqlite3_finalize);
      if (rc != SQLITE_OK) {
        return SqliteError(db_, rc, sql);
      }
      const std::string_view rest = tail == nullptr
                                        ? std::string_view()
                                        : sql.substr(static_cast<std::size_t>(tail - sql.data()));
      if (raw == nullptr || rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
        return core::MakeError(core::ErrorCode::kInternal, "database error",
                               "expected exactly one statement; sql: " + SqlForLog(sql));
      }
      const bool cached = statements_.size() < kMaxCachedStatements;
      if (cached) {
        statements_.emplace(std::string(sql), raw);
      }
      // The lease takes the statement over: reset after use when the cache keeps it, finalized
      // otherwise.
      statement = Lease(compiled.release(), Release{cached});
    }
    if (static_cast<std::size_t>(sqlite3_bind_parameter_count(raw)) != params.size()) {
      return core::MakeError(core::ErrorCode::kInternal, "database error",
                             "statement takes " + std::to_string(sqlite3_bind_parameter_count(raw))
                                 + " parameters, " + std::to_string(params.size())
                                 + " given; sql: " + SqlForLog(sql));
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      const std::string name = "$" + std::to_string(i + 1);
      const int index = sqlite3_bind_parameter_index(raw, name.c_str());
      if (index == 0) {
        return core::MakeError(core::ErrorCode::kInternal, "database error",
                               "placeholder " + name + " missing; sql: " + SqlForLog(sql));
      }
      const int bound = Bind(raw, index, params[i]);
      if (bound != SQLITE_OK) {
        return SqliteError(db_, bound, sql);
      }
    }
    return statement;
  }

  static int Bind(sqlite3_stmt* statement, int index, const SqlValue& value) {
    if (const auto* number = std::get_if<std::int64_t>(&value)) {
      return sqlite3_bind_int64(statement, index, *number);
    }
    if (const auto* text = std::get_if<std::string>(&value)) {
      return sqlite3_bind_text64(statement, index, text->data(), text->size(), kStaticValue,
                                 SQLITE_UTF8);
    }
    return sqlite3_bind_null(statement, index);
  }

  static SqlValue ColumnValue(sqlite3_stmt* statement, int column) {
    switch (sqlite3_column_type(statement, column)) {
      case SQLITE_NULL:
        return std::monostate{};
      case SQLITE_INTEGER:
        return static_cast<std::int64_t>(sqlite3_column_int64(statement, column));
      default: {
        // For TEXT, column_blob returns the UTF-8 bytes; it also covers BLOB and REAL.
        const auto* bytes = static_cast<const char*>(sqlite3_column_blob(statement, column));
        const int size = sqlite3_column_bytes(statement, column);
        return bytes == nullptr ? std::string()
                                : std::string(bytes, static_cast<std::size_t>(size));
      }
    }
  }

  std::map<std::string, sqlite3_stmt*, std::less<>> statements_;
  sqlite3* db_;
};

core::Result<std::unique_ptr<SqlConnection>> OpenConnection(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  // The handle must be closed even when opening failed.
  auto connection = std::make_unique<SqliteConnection>(raw);
  if (rc != SQLITE_OK) {
    core::Error error = SqliteError(raw, rc, "");
    return core::MakeError(core::ErrorCode::kUnavailable, "cannot open SQLite database " + path,
                           std::move(error.detail));
  }
  KEYBRIDGE_RETURN_IF_ERROR(connection->Configure());
  return std::unique_ptr<SqlConnection>(std::move(connection));
}

}  // namespace

core::Result<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path) {
  auto database = std::make_unique<PooledDatabase>(
      Dialect::kSqlite, [path] { return OpenConnection(path); }, kMaxConnections);
  // Open the first connection now, so a bad path fails at startup rather than on first use.
  KEYBRIDGE_RETURN_IF_ERROR(database->Ping());
  return std::unique_ptr<Database>(std::move(database));
}

}  // namespace keybridge::storage
