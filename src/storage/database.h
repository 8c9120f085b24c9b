// Database: the small SQL layer both backends implement, so every repository is written once.
// SQL uses `$1, $2, ...` placeholders on both SQLite and PostgreSQL; values are NULL, a 64-bit
// integer or a string (timestamps are unix seconds, booleans 0/1, ciphertexts text).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"

namespace keybridge::storage {

using SqlValue = std::variant<std::monostate /* NULL */, std::int64_t, std::string>;
using Params = std::vector<SqlValue>;
// One result row, in the column order of the SELECT. Integer columns (any width, and PostgreSQL
// booleans) arrive as std::int64_t, NULL as std::monostate, everything else as std::string.
using Row = std::vector<SqlValue>;

enum class Dialect { kSqlite, kPostgres };

// The connection pool behind a Database, as counted so far (GET /metrics).
struct PoolStats {
  std::size_t max_connections = 0;
  std::size_t in_use = 0;  // lent to a statement or transaction, or being opened
  std::size_t idle = 0;
  std::uint64_t waits = 0;             // statements that found no free connection and waited
  std::uint64_t wait_timeouts = 0;     // of those, the ones that gave up at the deadline
  std::uint64_t connect_failures = 0;  // new connections the database refused or never answered
};

// The databases OpenDatabase() returns are thread-safe; the one a Transaction() body receives
// belongs to that transaction and must not be used after the body returns.
//
// Error mapping shared by both backends: unique violation -> kConflict; lost connection, busy or
// locked database -> kUnavailable; anything else -> kInternal with the SQLSTATE / SQLite code in
// `detail`. Messages and details never contain parameter values (they may be secrets).
class Database {
 public:
  virtual ~Database() = default;

  virtual core::Result<std::vector<Row>> Query(std::string_view sql, const Params& params) = 0;
  // Returns the number of rows the statement inserted, updated or deleted.
  virtual core::Result<std::int64_t> Execute(std::string_view sql, const Params& params) = 0;
  // Runs several parameterless statements separated by ';' (migrations, DDL).
  virtual core::Status ExecuteScript(std::string_view sql) = 0;
  // Runs `body` on one connection inside a transaction: commits if it returns ok, rolls back and
  // returns its error otherwise. SQLite takes the write lock up front (BEGIN IMMEDIATE). Calling
  // Transaction() on the Database passed to `body` runs the inner body in the same transaction.
  virtual core::Status Transaction(const std::function<core::Status(Database&)>& body) = 0;
  virtual Dialect dialect() const = 0;
  // kUnavailable if the database cannot be reached.
  virtual core::Status Ping() = 0;
  // A database without a pool of its own (a transaction's) reports zeros.
  virtual PoolStats Stats() const { return {}; }
};

// Reads typed columns from a Row. A column of an unexpected type (a schema the code does not
// match) does not abort: the accessor returns an empty value and status() reports kInternal
// naming `table` and the column index.
class RowReader {
 public:
  RowReader(const Row& row, std::string_view table) : row_(row), table_(table) {}

  std::string Text(std::size_t column);
  std::int64_t Int(std::size_t column);
  bool Bool(std::size_t column) { return Int(column) != 0; }
  std::optional<std::string> OptionalText(std::size_t column);
  std::optional<std::int64_t> OptionalInt(std::size_t column);

  core::Status status() const;

 private:
  const SqlValue* At(std::size_t column);
  void Fail(std::size_t column);

  const Row& row_;
  std::string_view table_;
  std::optional<std::size_t> bad_column_;
};

}  // namespace keybridge::storage
