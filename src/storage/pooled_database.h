// PooledDatabase: the Database both backends share. It owns a bounded pool of native
// connections (SqlConnection, one per backend) and implements transactions, reconnection and
// thread-safety once. Internal to storage/.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "storage/database.h"

namespace keybridge::storage {

// One native connection. Used by one thread at a time; the pool guarantees that.
class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  virtual core::Result<std::vector<Row>> Query(std::string_view sql, const Params& params) = 0;
  virtual core::Result<std::int64_t> Execute(std::string_view sql, const Params& params) = 0;
  virtual core::Status ExecuteScript(std::string_view sql) = 0;
  // Starts a transaction (SQLite: BEGIN IMMEDIATE, so the write lock is taken up front).
  virtual core::Status Begin() = 0;
  // Whether the connection may go back to the pool: still connected and no transaction open.
  virtual bool Reusable() = 0;
};

// The start of `sql`, whitespace collapsed, for error details. SQL text holds only placeholders,
// never values, so it is safe to log.
std::string SqlForLog(std::string_view sql);

using ConnectionFactory = std::function<core::Result<std::unique_ptr<SqlConnection>>()>;

class PooledDatabase final : public Database {
 public:
  // Opens at most `max_connections` connections, lazily; callers beyond that wait for one, but
  // only up to `acquire_timeout`: past it they get kUnavailable ("the database is busy; retry
  // shortly") instead of holding a request thread forever behind a pool that is used up.
  PooledDatabase(Dialect dialect, ConnectionFactory factory, std::size_t max_connections,
                 std::chrono::milliseconds acquire_timeout = kDefaultAcquireTimeout);
  static constexpr std::chrono::milliseconds kDefaultAcquireTimeout{2000};
  ~PooledDatabase() override;
  PooledDatabase(const PooledDatabase&) = delete;
  PooledDatabase& operator=(const PooledDatabase&) = delete;
  PooledDatabase(PooledDatabase&&) = delete;
  PooledDatabase& operator=(PooledDatabase&&) = delete;

  core::Result<std::vector<Row>> Query(std::string_view sql, const Params& params) override;
  core::Result<std::int64_t> Execute(std::string_view sql, const Params& params) override;
  core::Status ExecuteScript(std::string_view sql) override;
  core::Status Transaction(const std::function<core::Status(Database&)>& body) override;
  Dialect dialect() const override { return dialect_; }
  core::Status Ping() override;
  PoolStats Stats() const override;

 private:
  class Lease;
  core::Result<Lease> Acquire();
  void Release(std::unique_ptr<SqlConnection> connection);
  // Closes every idle connection, once one of them was found dead.
  void DropIdle();

  const Dialect dialect_;
  const ConnectionFactory factory_;
  const std::size_t max_connections_;
  const std::chrono::milliseconds acquire_timeout_;
  mutable std::mutex mu_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<SqlConnection>> idle_;
  std::size_t open_ = 0;  // idle + leased + being opened
  std::uint64_t waits_ = 0;
  std::uint64_t wait_timeouts_ = 0;
  std::uint64_t connect_failures_ = 0;
};

}  // namespace keybridge::storage
