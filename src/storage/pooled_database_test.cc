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
