#include "storage/pooled_database.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "core/memory_only.h"

namespace keybridge::storage {
namespace {

using std::chrono_literals::operator""ms;

// A connection that answers every statement with one row and is always reusable.
class FakeConnection final : public SqlConnection {
 public:
  core::Result<std::vector<Row>> Query(std::string_view, const Params&) override {
    return std::vector<Row>{Row{SqlValue(std::int64_t{1})}};
  }
  core::Result<std::int64_t> Execute(std::string_view, const Params&) override { return 1; }
  core::Status ExecuteScript(std::string_view) override { return core::OkStatus(); }
  core::Status Begin() override { return core::OkStatus(); }
  bool Reusable() override { return true; }
};

ConnectionFactory FakeFactory(int* opened) {
  return [opened]() -> core::Result<std::unique_ptr<SqlConnection>> {
    ++*opened;
    return std::unique_ptr<SqlConnection>(std::make_unique<FakeConnection>());
  };
}

// The only connection is held by a transaction; a statement on the pool from inside it (what a
// busy pool looks like to a request) must fail with kUnavailable once the deadline has passed
// instead of waiting forever.
TEST(PooledDatabaseTest, WaitingForAConnectionEndsAtTheDeadline) {
  int opened = 0;
  PooledDatabase pool(Dialect::kPostgres, FakeFactory(&opened), 1, 50ms);
  std::optional<core::Result<std::vector<Row>>> inner;

  const core::Status outer = pool.Transaction([&](Database&) -> core::Status {
    inner = pool.Query("SELECT 1", {});
    return core::OkStatus();
  });

  ASSERT_TRUE(outer.ok());
  ASSERT_TRUE(inner.has_value());
  ASSERT_FALSE(inner->ok());
  EXPECT_EQ(inner->error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(inner->error().message, "the database is busy; retry shortly");
  EXPECT_EQ(opened, 1);
  // The connection went back to the pool: the next statement gets it.
  EXPECT_TRUE(pool.Query("SELECT 1", {}).ok());
  EXPECT_EQ(opened, 1);
  const PoolStats stats = pool.Stats();
  EXPECT_EQ(stats.max_connections, 1U);
  EXPECT_EQ(stats.in_use, 0U);
  EXPECT_EQ(stats.idle, 1U);
  EXPECT_EQ(stats.waits, 1U);
  EXPECT_EQ(stats.wait_timeouts, 1U);
}

TEST(PooledDatabaseTest, AFreeConnectionIsHandedOutWithoutWaiting) {
  int opened = 0;
  PooledDatabase pool(Dialect::kPostgres, FakeFactory(&opened), 2, 50ms);
  std::optional<core::Result<std::vector<Row>>> inner;

  const core::Status outer = pool.Transaction([&](Database&) -> core::Status {
    inner = pool.Query("SELECT 1", {});
    return core::OkStatus();
  });

  ASSERT_TRUE(outer.ok());
  ASSERT_TRUE(inner.has_value());
  EXPECT_TRUE(inner->ok());
  EXPECT_EQ(opened, 2);
  EXPECT_EQ(pool.Stats().waits, 0U);
}

TEST(PooledDatabaseTest, StatsCountConnectionsInUseAndIdle) {
  int opened = 0;
  PooledDatabase pool(Dialect::kPostgres, FakeFactory(&opened), 4, 50ms);
  std::optional<PoolStats> during;

  ASSERT_TRUE(pool.Transaction([&](Database&) -> core::Status {
                    return pool.Transaction([&](Database&) -> core::Status {
                      during = pool.Stats();
                      return core::OkStatus();
                    });
                  })
                  .ok());

  ASSERT_TRUE(during.has_value());
  EXPECT_EQ(during->max_connections, 4U);
  EXPECT_EQ(during->in_use, 2U);
  EXPECT_EQ(during->idle, 0U);
  EXPECT_EQ(pool.Stats().in_use, 0U);
  EXPECT_EQ(pool.Stats().idle, 2U);
}

// A database server the fake connections talk to: it can be stopped, started and restarted. A
// restart ends every session opened before it, as PostgreSQL's does; a connection notices only
// when it next runs a statement.
struct FakeServer {
  bool up = true;
  int generation = 0;
  int opened = 0;
};

class ServerConnection final : public SqlConnection {
 public:
  explicit ServerConnection(FakeServer& server) : server_(server), generation_(server.generation) {}
  core::Result<std::vector<Row>> Query(std::string_view, const Params&) override {
    KEYBRIDGE_RETURN_IF_ERROR(Alive());
    return std::vector<Row>{Row{SqlValue(std::int64_t{1})}};
  }
  core::Result<std::int64_t> Execute(std::string_view, const Params&) override {
    KEYBRIDGE_RETURN_IF_ERROR(Alive());
    return 1;
  }
  core::Status ExecuteScript(std::string_view) override { return Alive(); }
  core::Status Begin() override { return Alive(); }
  bool Reusable() override { return !lost_; }

 private:
  core::Status Alive() {
    lost_ = lost_ || !server_.up || server_.generation != generation_;
    if (lost_) {
      return core::MakeError(core::ErrorCode::kUnavailable, "database unavailable",
                             "server closed the connection unexpectedly");
    }
    return core::OkStatus();
  }

  FakeServer& server_;
  int generation_;
  bool lost_ = false;
};

ConnectionFactory ServerFactory(FakeServer& server) {
  return [&server]() -> core::Result<std::unique_ptr<SqlConnection>> {
    if (!server.up) {
      return core::MakeError(core::ErrorCode::kUnavailable, "database unavailable",
                             "cannot connect to PostgreSQL: libpq: Connection refused");
    }
    ++server.opened;
    return std::unique_ptr<SqlConnection>(std::make_unique<ServerConnection>(server));
  };
}

// Leaves `count` connections idle in the pool, each opened by one of `count` nested transactions.
void OpenIdleConnections(PooledDatabase& pool, int count) {
  if (count == 0) {
    return;
  }
  ASSERT_TRUE(pool.Transaction([&](Database&) -> core::Status {
                    OpenIdleConnections(pool, count - 1);
                    return core::OkStatus();
                  })
                  .ok());
}

// After a quick restart every idle connection is dead. The first read finds one dead and retries:
// the retry must open a fresh connection, not take the next dead one (which failed a read per
// idle connection after every database restart), and the dead ones are closed.
TEST(PooledDatabaseTest, AfterARestartTheFirstReadSucceedsAndDeadIdleConnectionsAreClosed) {
  FakeServer server;
  PooledDatabase pool(Dialect::kPostgres, ServerFactory(server), 4, 50ms);
  OpenIdleConnections(pool, 3);
  ASSERT_EQ(pool.Stats().idle, 3U);
  ASSERT_EQ(server.opened, 3);

  ++server.generation;  // restarted
  const auto rows = pool.Query("SELECT 1", {});

  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(server.opened, 4);
  EXPECT_EQ(pool.Stats().idle, 1U) << "only the fresh connection is kept";
  EXPECT_EQ(pool.Stats().in_use, 0U);
  EXPECT_TRUE(pool.Transaction([](Database& db) -> core::Status {
                    KEYBRIDGE_RETURN_IF_ERROR(db.Execute("UPDATE t SET x = 1", {}));
                    return core::OkStatus();
                  })
                  .ok());
  EXPECT_TRUE(pool.Execute("UPDATE t SET x = 1", {}).ok());
}

// While the server is down, statements fail at once with kUnavailable (no waiting for a
// connection), nothing leaks from the pool, and once it is back the next statement succeeds.
TEST(PooledDatabaseTest, WhileTheServerIsDownStatementsFailAtOnceAndRecoverWhenItIsBack) {
  FakeServer server;
  PooledDatabase pool(Dialect::kPostgres, ServerFactory(server), 2, 50ms);
  OpenIdleConnections(pool, 2);

  server.up = false;
  const auto read = pool.Query("SELECT 1", {});
  const auto write = pool.Execute("UPDATE t SET x = 1", {});
  const core::Status transaction =
      pool.Transaction([](Database&) -> core::Status { return core::OkStatus(); });
  const core::Status ping = pool.Ping();
  const PoolStats down = pool.Stats();
  server.up = true;
  const auto again = pool.Query("SELECT 1", {});

  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(read.error().detail, "cannot connect to PostgreSQL: libpq: Connection refused");
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.error().code, core::ErrorCode::kUnavailable);
  ASSERT_FALSE(transaction.ok());
  EXPECT_EQ(transaction.error().code, core::ErrorCode::kUnavailable);
  ASSERT_FALSE(ping.ok());
  EXPECT_EQ(down.in_use, 0U);
  EXPECT_EQ(down.idle, 0U);
  EXPECT_EQ(down.waits, 0U) << "a refused connection must not make anyone wait";
  EXPECT_EQ(down.connect_failures, 4U);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(pool.Stats().idle, 1U);
}

TEST(PooledDatabaseTest, AMemoryOnlyThreadNeverQueriesOrWaits) {
  int opened = 0;
  PooledDatabase pool(Dialect::kPostgres, FakeFactory(&opened), 1, 50ms);
  core::Result<std::vector<Row>> during = std::vector<Row>{};
  {
    core::MemoryOnlyScope io_thread;
    during = pool.Query("SELECT 1", {});
  }

  ASSERT_FALSE(during.ok());
  EXPECT_EQ(during.error().code, core::ErrorCode::kWouldWait);
  EXPECT_EQ(opened, 0);
  EXPECT_TRUE(pool.Query("SELECT 1", {}).ok()) << "only while the scope lives";
}

}  // namespace
}  // namespace keybridge::storage
