// Contract tests for the Database layer (parameters, transactions, dropped connections) and
// migrations, on every backend of contract_fixture.h where the port allows it and on the SQL
// backends for what only a database has. Providers and API tokens are in
// repository_contract_test.cc.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "contract/repository_contract_support.h"
#include "storage/migrator.h"
#include "storage/store.h"

namespace keybridge::storage::contract_test {
namespace {

using core::ErrorCode;

TYPED_TEST_SUITE(RepositoryContract, AllBackends, BackendNames);
TYPED_TEST_SUITE(RepositoryStorageContract, SqlBackends, BackendNames);

// The Database layer.

TYPED_TEST(RepositoryContract, AwkwardStringsRoundTripThroughParameters) {
  const std::string awkward = "O'Brien\"; DROP TABLE api_tokens; -- $1 ? \xc3\xbc \\ %";
  core::ApiToken token = MakeToken("tok1", 1'700'000'000);
  token.name = awkward;

  ASSERT_TRUE(this->tokens().Insert(token).ok());
  auto found = this->tokens().FindByHash("hash-of-tok1");

  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->name, awkward);
}

TYPED_TEST(RepositoryStorageContract, TransactionRollsBackWhenTheBodyFails) {
  core::Status status = this->db().Transaction([](Database& tx) -> core::Status {
    KEYBRIDGE_RETURN_IF_ERROR(
        tx.Execute("INSERT INTO api_tokens (id, user_id, name, is_admin, token_hash, created_at) "
                   "VALUES ($1, $2, $3, $4, $5, $6)",
                   {std::string("tok1"), std::string("u"), std::string("n"), std::int64_t{0},
                    std::string("h1"), std::int64_t{1}}));
    return core::MakeError(ErrorCode::kInvalidArgument, "changed my mind");
  });

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(this->tokens().FindByHash("h1").error().code, ErrorCode::kNotFound);
}

TYPED_TEST(RepositoryStorageContract, TransactionCommitsWhenTheBodySucceeds) {
  core::Status status = this->db().Transaction([](Database& tx) -> core::Status {
    KEYBRIDGE_RETURN_IF_ERROR(
        tx.Execute("INSERT INTO api_tokens (id, user_id, name, is_admin, token_hash, created_at) "
                   "VALUES ($1, $2, $3, $4, $5, $6)",
                   {std::string("tok1"), std::string("u"), std::string("n"), std::int64_t{0},
                    std::string("h1"), std::int64_t{1}}));
    return core::OkStatus();
  });

  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_TRUE(this->tokens().FindByHash("h1").ok());
}

TYPED_TEST(RepositoryStorageContract, WrongParameterCountIsInternalError) {
  auto rows = this->db().Query("SELECT id FROM api_tokens WHERE id = $1",
                               {std::string("a"), std::string("b")});

  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().code, ErrorCode::kInternal);
  EXPECT_TRUE(this->store().Ping().ok());
}

TYPED_TEST(RepositoryStorageContract, ReadsRecoverWhenTheServerDropsConnections) {
  ASSERT_TRUE(this->providers().Insert(MakeProvider("gitlab.example")).ok());

  this->backend_.DropConnections();
  auto found = this->providers().Find(core::ProviderId("gitlab.example"));

  ASSERT_TRUE(found.ok()) << found.error().message << " / " << found.error().detail;
  EXPECT_TRUE(this->store().Ping().ok());
}

TYPED_TEST(RepositoryStorageContract,
           WritesFailAtMostOnceAsUnavailableWhenTheServerDropsConnections) {
  this->backend_.DropConnections();

  core::Status first = this->providers().Insert(MakeProvider("a.example"));
  core::Status second = this->providers().Insert(MakeProvider("b.example"));

  if (!first.ok()) {
    EXPECT_EQ(first.error().code, ErrorCode::kUnavailable) << first.error().detail;
  }
  EXPECT_TRUE(second.ok()) << second.error().message;
}

// Migrations.

TYPED_TEST(RepositoryStorageContract, MigrateIsIdempotent) {
  ASSERT_TRUE(this->providers().Insert(MakeProvider("gitlab.example")).ok());

  core::Status first = Migrate(this->db());
  core::Status second = Migrate(this->db());

  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(this->AppliedMigrations(this->db()), SchemaVersions(this->db().dialect()));
  EXPECT_TRUE(this->providers().Find(core::ProviderId("gitlab.example")).ok());
}

TYPED_TEST(RepositoryStorageContract, ConcurrentMigrationsApplyEachVersionOnce) {
  const std::string url = this->backend_.NewDatabaseUrl();
  std::vector<std::unique_ptr<Database>> databases;
  for (int i = 0; i < 4; ++i) {
    auto database = OpenDatabase(url);
    ASSERT_TRUE(database.ok()) << database.error().message;
    databases.push_back(std::move(database).value());
  }
  std::vector<core::Status> results(databases.size(), core::OkStatus());

  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < databases.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = Migrate(*databases[i]); });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }

  for (const core::Status& result : results) {
    EXPECT_TRUE(result.ok()) << result.error().message << " / " << result.error().detail;
  }
  EXPECT_EQ(this->AppliedMigrations(*databases[0]), SchemaVersions(databases[0]->dialect()));
}

TYPED_TEST(RepositoryStorageContract, BothDialectsHaveTheSameMigrationVersions) {
  EXPECT_EQ(SchemaVersions(Dialect::kSqlite), SchemaVersions(Dialect::kPostgres));
  EXPECT_EQ(SchemaVersions(this->db().dialect()).back(), LatestSchemaVersion(this->db().dialect()));
}

TYPED_TEST(RepositoryStorageContract, RefusesADatabaseWithANewerSchema) {
  const std::int64_t future = LatestSchemaVersion(this->db().dialect()) + 1;
  ASSERT_TRUE(this->db()
                  .Execute("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                           {future, std::int64_t{1'700'000'000}})
                  .ok());

  core::Status migrated = Migrate(this->db());
  auto reopened = OpenStore(this->url(), this->keys());

  ASSERT_FALSE(migrated.ok());
  EXPECT_EQ(migrated.error().code, ErrorCode::kInternal);
  EXPECT_NE(migrated.error().message.find("newer"), std::string::npos) << migrated.error().message;
  ASSERT_FALSE(reopened.ok());
  EXPECT_NE(reopened.error().message.find("newer"), std::string::npos);
}

}  // namespace
}  // namespace keybridge::storage::contract_test
