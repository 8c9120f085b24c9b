#include "storage/postgres_database.h"

#include <libpq-fe.h>

#include <array>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "storage/pooled_database.h"

namespace keybridge::storage {
namespace {

// Type OIDs from pg_type.h (stable since PostgreSQL 7); integers and booleans are read as int64.
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

// Notices ("relation already exists, skipping") would go to stderr by default.
void IgnoreNotice(void* /*arg*/, const char* /*message*/) {}

// libpq's messages can run over several lines ("... failed: Connection refused\n\tIs the server
// running on that host ...?\n"): one line, for logs.
std::string Trimmed(const char* text) {
  std::string out;
  for (const char* c = text == nullptr ? "" : text; *c != '\0'; ++c) {
    const bool space = *c == '\n' || *c == '\t' || *c == ' ';
    if (!space) {
      out.push_back(*c);
    } else if (!out.empty() && out.back() != ' ') {
      out.push_back(' ');
    }
  }
  while (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  return out;
}

// Only identifiers (SQLSTATE, constraint, table, column) go into the detail: the primary message
// can quote a parameter value ("invalid input syntax for type bigint: ...").
core::Error PostgresError(PGconn* conn, const PGresult* result, std::string_view sql) {
  const auto field = [result](int code) -> std::string {
    const char* value = result == nullptr ? nullptr : PQresultErrorField(result, code);
    return value == nullptr ? "" : value;
  };
  const std::string sqlstate = field(PG_DIAG_SQLSTATE);
  std::string detail;
  if (sqlstate.empty()) {
    // A client-side failure (lost connection): libpq's own text, which holds no values.
    detail = "libpq: " + Trimmed(PQerrorMessage(conn));
  } else {
    detail = "SQLSTATE " + sqlstate;
    for (const auto& [name, code] :
         {std::pair{"constraint", PG_DIAG_CONSTRAINT_NAME}, std::pair{"table", PG_DIAG_TABLE_NAME},
          std::pair{"column", PG_DIAG_COLUMN_NAME}}) {
      if (const std::string value = field(code); !value.empty()) {
        detail += std::string(" ") + name + "=" + value;
      }
    }
  }
  detail += "; sql: " + SqlForLog(sql);

  if (sqlstate == "23505") {
    return core::MakeError(core::ErrorCode::kConflict, "already exists", std::move(detail));
  }
  // Class 08: connection exception; 57P0x: server shutting down; 40001/40P01: serialization
  // failure or deadlock, which a retry resolves.
  const bool transient = PQstatus(conn) != CONNECTION_OK || sqlstate.starts_with("08")
                         || sqlstate.starts_with("57P") || sqlstate == "40001"
                         || sqlstate == "40P01";
  if (transient) {
    return core::MakeError(core::ErrorCode::kUnavailable, "database unavailable",
                           std::move(detail));
  }
  return core::MakeError(core::ErrorCode::kInternal, "database error", std::move(detail));
}

SqlValue FieldValue(const PGresult* result, int row, int column) {
  if (PQgetisnull(result, row, column) != 0) {
    return std::monostate{};
  }
  const char* text = PQgetvalue(result, row, column);
  const auto length = static_cast<std::size_t>(PQgetlength(result, row, column));
  switch (PQftype(result, column)) {
    case kBoolOid:
      return std::int64_t{*text == 't' ? 1 : 0};
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
      // libpq's text values are NUL-terminated and the server's integers well-formed.
      return static_cast<std::int64_t>(std::strtoll(text, nullptr, 10));
    default:
      return std::string(text, length);
  }
}

class PostgresConnection final : public SqlConnection {
 public:
  explicit PostgresConnection(PGconn* conn) : conn_(conn) {}
  ~PostgresConnection() override { PQfinish(conn_); }
  PostgresConnection(const PostgresConnection&) = delete;
  PostgresConnection& operator=(const PostgresConnection&) = delete;
  PostgresConnection(PostgresConnection&&) = delete;
  PostgresConnection& operator=(PostgresConnection&&) = delete;

  core::Result<std::vector<Row>> Query(std::string_view sql, const Params& params) override {
    KEYBRIDGE_ASSIGN_OR_RETURN(ResultPtr result, Run(sql, params));
    const int rows = PQntuples(result.get());
    const int columns = PQnfields(result.get());
    std::vector<Row> out(static_cast<std::size_t>(rows));
    for (int r = 0; r < rows; ++r) {
      Row& row = out[static_cast<std::size_t>(r)];
      row.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        row.push_back(FieldValue(result.get(), r, c));
      }
    }
    return out;
  }

  core::Result<std::int64_t> Execute(std::string_view sql, const Params& params) override {
    KEYBRIDGE_ASSIGN_OR_RETURN(ResultPtr result, Run(sql, params));
    // "" for commands that report no row count, which strtoll reads as 0.
    return static_cast<std::int64_t>(std::strtoll(PQcmdTuples(result.get()), nullptr, 10));
  }

  core::Status ExecuteScript(std::string_view sql) override {
    const std::string text(sql);
    KEYBRIDGE_RETURN_IF_ERROR(Check(PQexec(conn_, text.c_str()), sql));
    return core::OkStatus();
  }

  core::Status Begin() override { return ExecuteScript("BEGIN"); }

  bool Reusable() override {
    return PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
  }

 private:
  // Sends integers typed as bigint and everything else untyped, so the server infers the column
  // type exactly as it would for a literal.
  core::Result<ResultPtr> Run(std::string_view sql, const Params& params) {
    const std::string text(sql);
    std::vector<std::string> numbers(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<Oid> types(params.size(), 0);
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (const auto* number = std::get_if<std::int64_t>(&params[i])) {
        numbers[i] = std::to_string(*number);
        values[i] = numbers[i].c_str();
        types[i] = kInt8Oid;
      } else if (const auto* string = std::get_if<std::string>(&params[i])) {
        values[i] = string->c_str();
      }
    }
    const int count = static_cast<int>(params.size());
    // Named prepared statements, one per SQL text and parameter typing, parsed and planned once
    // per connection (a token read is two small queries; re-parsing them was a large part of its
    // cost, docs/benchmarks.md). They live as long as the session (not rolled back with a
    // transaction); a connection that breaks is dropped by the pool together with this map.
    std::string key = text;
    key.push_back('\0');
    for (const Oid type : types) {
      key.push_back(type == kInt8Oid ? 'i' : 'u');
    }
    auto found = prepared_.find(key);
    if (found == prepared_.end()) {
      if (prepared_.size() >= kMaxPreparedStatements) {
        return Check(PQexecParams(conn_, text.c_str(), count, types.data(), values.data(), nullptr,
                                  nullptr, 0),
                     sql);
      }
      std::string name = "kb_" + std::to_string(prepared_.size());
      KEYBRIDGE_ASSIGN_OR_RETURN(
          [[maybe_unused]] ResultPtr prepared,
          Check(PQprepare(conn_, name.c_str(), text.c_str(), count, types.data()), sql));
      found = prepared_.emplace(std::move(key), std::move(name)).first;
    }
    return Check(
        PQexecPrepared(conn_, found->second.c_str(), count, values.data(), nullptr, nullptr, 0),
        sql);
  }

  core::Result<ResultPtr> Check(PGresult* raw, std::string_view sql) {
    ResultPtr result(raw, &PQclear);
    const ExecStatusType status =
        result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return PostgresError(conn_, result.get(), sql);
    }
    return result;
  }

  static constexpr std::size_t kMaxPreparedStatements = 256;
  PGconn* conn_;
  std::map<std::string, std::string, std::less<>> prepared_;  // SQL + typing -> statement name
};

core::Result<std::unique_ptr<SqlConnection>> Connect(const std::string& conninfo) {
  // Entries before "dbname" are defaults the URI may override (libpq expands dbname in place).
  const std::array<const char*, 4> keywords = {"connect_timeout", "fallback_application_name",
                                               "dbname", nullptr};
  const std::array<const char*, 4> values = {"10", "keybridge", conninfo.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1);
  auto connection = std::make_unique<PostgresConnection>(conn);
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    const std::string reason = conn == nullptr ? "out of memory" : Trimmed(PQerrorMessage(conn));
    // The reason names the server's address (and may name the user): it goes to the detail,
    // which is logged, while the message, which callers see in a 503 and in /readyz, stays the
    // one a lost connection gives. OpenPostgresDatabase shows the reason at start-up.
    return core::MakeError(core::ErrorCode::kUnavailable, "database unavailable",
                           "cannot connect to PostgreSQL: libpq: " + reason);
  }
  PQsetNoticeProcessor(conn, &IgnoreNotice, nullptr);
  return std::unique_ptr<SqlConnection>(std::move(connection));
}

}  // namespace

core::Result<std::unique_ptr<Database>> OpenPostgresDatabase(const std::string& conninfo) {
  return OpenPostgresDatabase(conninfo, PostgresPoolOptions{});
}

core::Result<std::unique_ptr<Database>> OpenPostgresDatabase(const std::string& conninfo,
                                                             const PostgresPoolOptions& options) {
  auto database = std::make_unique<PooledDatabase>(
      Dialect::kPostgres, [conninfo] { return Connect(conninfo); }, options.max_connections,
      options.acquire_timeout);
  if (core::Status ping = database->Ping(); !ping.ok()) {
    // At start-up the reader is the operator, who needs the reason.
    core::Error error = std::move(ping).TakeError();
    error.message += " (" + error.detail + ")";
    return error;
  }
  return std::unique_ptr<Database>(std::move(database));
}

}  // namespace keybridge::storage
