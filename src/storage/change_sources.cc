// The two ChangeSources (storage/change_feed.h): PostgreSQL LISTEN/NOTIFY and SQLite's
// data_version. Each owns one dedicated connection, outside the pool, so a busy pool never delays
// a confirmation.
#include <libpq-fe.h>
#include <poll.h>
#include <sqlite3.h>

#include <array>
#include <memory>
#include <string>
#include <utility>

#include "storage/change_feed.h"

namespace keybridge::storage {
namespace {

using Clock = std::chrono::steady_clock;
using core::ErrorCode;

core::Error Unavailable(std::string message) {
  return core::MakeError(ErrorCode::kUnavailable, std::move(message));
}

// Waits until `fd` or `wake_fd` is readable, or `timeout` passes. Returns false on a poll error.
bool WaitReadable(int fd, int wake_fd, std::chrono::milliseconds timeout) {
  std::array<pollfd, 2> fds{pollfd{fd, POLLIN, 0}, pollfd{wake_fd, POLLIN, 0}};
  const int count = fd < 0 ? 1 : 2;
  pollfd* first = fd < 0 ? &fds[1] : fds.data();
  const int ready = ::poll(first, static_cast<nfds_t>(count),
                           static_cast<int>(std::max<std::int64_t>(0, timeout.count())));
  return ready >= 0;
}

std::chrono::milliseconds Left(Clock::time_point deadline) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
}

// "<table>:<key>"; a payload without a colon names a whole table.
Change ParsePayload(std::string_view payload) {
  const std::size_t colon = payload.find(':');
  if (colon == std::string_view::npos) {
    return Change{std::string(payload), ""};
  }
  return Change{std::string(payload.substr(0, colon)), std::string(payload.substr(colon + 1))};
}

class PostgresChangeSource final : public ChangeSource {
 public:
  explicit PostgresChangeSource(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  ~PostgresChangeSource() override { Close(); }
  PostgresChangeSource(const PostgresChangeSource&) = delete;
  PostgresChangeSource& operator=(const PostgresChangeSource&) = delete;
  PostgresChangeSource(PostgresChangeSource&&) = delete;
  PostgresChangeSource& operator=(PostgresChangeSource&&) = delete;

  core::Status Connect() override {
    Close();
    const std::array<const char*, 4> keywords = {"connect_timeout", "fallback_application_name",
                                                 "dbname", nullptr};
    const std::array<const char*, 4> values = {"5", "keybridge-changes", conninfo_.c_str(),
                                               nullptr};
    conn_ = PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1);
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      Close();
      return Unavailable("cannot connect to PostgreSQL");
    }
    const std::string listen = "LISTEN " + std::string(kChangeChannel);
    PGresult* result = PQexec(conn_, listen.c_str());
    const bool ok = result != nullptr && PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
    if (!ok) {
      Close();
      return Unavailable("cannot LISTEN on PostgreSQL");
    }
    return core::OkStatus();
  }

  core::Result<Clock::time_point> Poll(std::chrono::milliseconds wait,
                                       std::chrono::milliseconds round_trip_timeout, int wake_fd,
                                       const std::function<void(const Change&)>& deliver) override {
    if (conn_ == nullptr) {
      return Unavailable("not connected");
    }
    // Changes as they come, until the wait is over.
    const Clock::time_point wait_until = Clock::now() + wait;
    for (std::chrono::milliseconds left = wait; left.count() > 0; left = Left(wait_until)) {
      if (!WaitReadable(PQsocket(conn_), wake_fd, left) || PQconsumeInput(conn_) == 0) {
        return Unavailable("lost the PostgreSQL connection");
      }
      DrainNotifications(deliver);
      if (WakeRequested(wake_fd)) {
        break;
      }
    }
    // The round trip: PostgreSQL sends a listening session's pending notifications before it
    // reports a command complete, so once this answer is in, everything committed before it was
    // sent has been delivered.
    const Clock::time_point began = Clock::now();
    if (PQsendQuery(conn_, "SELECT 1") == 0) {
      return Unavailable("lost the PostgreSQL connection");
    }
    const Clock::time_point deadline = began + round_trip_timeout;
    bool answered = false;
    while (!answered) {
      if (PQconsumeInput(conn_) == 0) {
        return Unavailable("lost the PostgreSQL connection");
      }
      while (PQisBusy(conn_) == 0) {
        PGresult* result = PQgetResult(conn_);
        if (result == nullptr) {
          answered = true;
          break;
        }
        const bool ok = PQresultStatus(result) == PGRES_TUPLES_OK;
        PQclear(result);
        if (!ok) {
          return Unavailable("PostgreSQL refused the change feed's round trip");
        }
      }
      DrainNotifications(deliver);
      if (answered) {
        break;
      }
      const std::chrono::milliseconds left = Left(deadline);
      if (left.count() <= 0 || !WaitReadable(PQsocket(conn_), -1, left)) {
        return Unavailable("PostgreSQL did not answer the change feed within "
                           + std::to_string(round_trip_timeout.count()) + " ms");
      }
    }
    return began;
  }

 private:
  void DrainNotifications(const std::function<void(const Change&)>& deliver) {
    while (PGnotify* notify = PQnotifies(conn_)) {
      deliver(ParsePayload(notify->extra == nullptr ? "" : notify->extra));
      PQfreemem(notify);
    }
  }

  static bool WakeRequested(int wake_fd) {
    pollfd wake{wake_fd, POLLIN, 0};
    return ::poll(&wake, 1, 0) > 0;
  }

  void Close() {
    if (conn_ != nullptr) {
      PQfinish(conn_);
      conn_ = nullptr;
    }
  }

  const std::string conninfo_;
  PGconn* conn_ = nullptr;
};

class SqliteChangeSource final : public ChangeSource {
 public:
  explicit SqliteChangeSource(std::string path) : path_(std::move(path)) {}
  ~SqliteChangeSource() override { Close(); }
  SqliteChangeSource(const SqliteChangeSource&) = delete;
  SqliteChangeSource& operator=(const SqliteChangeSource&) = delete;
  SqliteChangeSource(SqliteChangeSource&&) = delete;
  SqliteChangeSource& operator=(SqliteChangeSource&&) = delete;

  core::Status Connect() override {
    Close();
    if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr)
            != SQLITE_OK
        || sqlite3_prepare_v2(db_, "PRAGMA data_version", -1, &statement_, nullptr) != SQLITE_OK) {
      Close();
      return Unavailable("cannot open the SQLite database for the change feed");
    }
    auto version = Version();
    if (!version.ok()) {
      Close();
      return std::move(version).TakeError();
    }
    version_ = *version;
    return core::OkStatus();
  }

  core::Result<Clock::time_point> Poll(std::chrono::milliseconds wait,
                                       std::chrono::milliseconds /*round_trip_timeout*/,
                                       int wake_fd,
                                       const std::function<void(const Change&)>& deliver) override {
    if (db_ == nullptr) {
      return Unavailable("not connected");
    }
    // SQLite cannot push: look every `wait` (a local file read, microseconds).
    WaitReadable(-1, wake_fd, wait);
    const Clock::time_point began = Clock::now();
    KEYBRIDGE_ASSIGN_OR_RETURN(const std::int64_t version, Version());
    if (version != version_) {
      version_ = version;
      deliver(Change{});
    }
    return began;
  }

 private:
  core::Result<std::int64_t> Version() {
    sqlite3_reset(statement_);
    if (sqlite3_step(statement_) != SQLITE_ROW) {
      return Unavailable("cannot read the SQLite data_version");
    }
    return static_cast<std::int64_t>(sqlite3_column_int64(statement_, 0));
  }

  void Close() {
    sqlite3_finalize(statement_);
    statement_ = nullptr;
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }

  const std::string path_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* statement_ = nullptr;
  std::int64_t version_ = 0;
};

}  // namespace

std::unique_ptr<ChangeSource> MakePostgresChangeSource(std::string conninfo) {
  return std::make_unique<PostgresChangeSource>(std::move(conninfo));
}

std::unique_ptr<ChangeSource> MakeSqliteChangeSource(std::string path) {
  return std::make_unique<SqliteChangeSource>(std::move(path));
}

}  // namespace keybridge::storage
