// Upgrades on SQLite and PostgreSQL: a database that an older release migrated and filled is
// migrated to the newest schema, and what it held stays readable through the repositories.
// 0006 renamed the provider columns of oauth2_connections and oauth2_flows (client_id ->
// provider_id): the rows, the sealed token, the unique (user, provider) pair, the foreign key to
// the provider and the index must all survive the rename.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "contract/contract_fixture.h"
#include "core/connection.h"
#include "storage/database.h"
#include "storage/migrator.h"
#include "storage/sealed_columns.h"
#include "storage/sql_connection_repository.h"
#include "storage/sql_provider_repository.h"
#include "storage/token_codec.h"

namespace keybridge::storage::contract_test {
namespace {

using namespace std::chrono_literals;  // NOLINT(google-build-using-namespace): literals only

constexpr std::int64_t kBeforeProviderIdColumns = 5;
const core::ConnectionId kConnectionId("01HZZZZZZZZZZZZZZZZZZZZZZ1");
constexpr const char* kStateHash =
    "5f1d0c3a9e0b4b0e8f3e2d1c0b9a8f7e6d5c4b3a29180f0e1d2c3b4a59687766";
constexpr std::int64_t kCreated = 1'700'000'000;

template <typename Backend>
class Upgrade : public StoreContract<Backend> {
 protected:
  // A fresh database migrated only up to `version`, as an older keybridge left it.
  std::unique_ptr<Database> DatabaseAt(std::int64_t version) {
    auto database = OpenDatabase(this->backend_.NewDatabaseUrl());
    KEYBRIDGE_CHECK(database.ok(), "cannot open a fresh database");
    const core::Status migrated = MigrateTo(**database, version);
    EXPECT_TRUE(migrated.ok()) << migrated.error().message << " / " << migrated.error().detail;
    return std::move(database).value();
  }

  // The names of the indexes on `table`.
  static std::vector<std::string> IndexNames(Database& db, const std::string& table) {
    auto rows = db.dialect() == Dialect::kSqlite
                    ? db.Query(
                        "SELECT name FROM sqlite_master WHERE type = 'index' "
                        "AND tbl_name = $1",
                        {table})
                    : db.Query("SELECT indexname FROM pg_indexes WHERE tablename = $1", {table});
    KEYBRIDGE_CHECK(rows.ok(), "cannot list indexes");
    std::vector<std::string> names;
    for (const Row& row : *rows) {
      RowReader reader(row, table);
      names.push_back(reader.Text(0));
    }
    return names;
  }
};

TYPED_TEST_SUITE(Upgrade, SqlBackends, BackendNames);

TYPED_TEST(Upgrade, ConnectionsAndFlowsWrittenBeforeTheProviderIdRenameStayReadable) {
  std::unique_ptr<Database> db = this->DatabaseAt(kBeforeProviderIdColumns);
  ASSERT_FALSE(this->HasFailure());
  SqlProviderRepository providers(*db, this->keys());
  // The provider as that release wrote it (the repository now writes columns of later
  // migrations, such as 0013's managed_by_file).
  ASSERT_TRUE(db->Execute("INSERT INTO oauth2_clients (id, kind, app_slug, client_id, "
                          "client_secret, display_name, scope, url, use_pkce, image_registry_url, "
                          "oidc_issuer_url, created_by_id, creation_date, updated_at) VALUES "
                          "('gitlab', 'gitlab', '', 'client-gitlab', NULL, 'GitLab', 'api', "
                          "'https://gitlab/', 1, NULL, NULL, 'admin-1', $1, $1)",
                          {kCreated})
                  .ok());
  core::TokenSet token;
  token.access_token = core::Secret("access-before-upgrade");
  token.refresh_token = core::Secret("refresh-before-upgrade");
  token.obtained_at = core::FromUnixSeconds(kCreated);
  token.expires_at = token.obtained_at + 7200s;
  auto sealed = this->keys().Seal(EncodeTokenSet(token),
                                  kConnectionToken.AssociatedData(kConnectionId.value()));
  ASSERT_TRUE(sealed.ok());
  // The statements of the release before 0006, with its column names.
  ASSERT_TRUE(db->Execute("INSERT INTO oauth2_connections (id, user_id, client_id, status, "
                          "status_reason, token, token_version, expires_at, refresh_due_at, "
                          "creation_date, updated_at) VALUES ($1, 'alice', 'gitlab', 'connected', "
                          "'', $2, 1, NULL, NULL, $3, $3)",
                          {kConnectionId.value(), *sealed, kCreated})
                  .ok());
  ASSERT_TRUE(
      db->Execute("INSERT INTO oauth2_flows (state_hash, user_id, client_id, "
                  "connection_id, code_verifier, next_url, browser_binding_hash, "
                  "creation_date, expires_at) VALUES ($1, 'alice', 'gitlab', $2, NULL, "
                  "'', 'binding', $3, $4)",
                  {std::string(kStateHash), kConnectionId.value(), kCreated, kCreated + 600})
          .ok());

  const core::Status migrated = Migrate(*db);

  ASSERT_TRUE(migrated.ok()) << migrated.error().message << " / " << migrated.error().detail;
  SqlConnectionRepository connections(*db, this->keys());
  SqlAuthorizationFlowRepository flows(*db, this->keys());
  auto found = connections.Find(kConnectionId);
  ASSERT_TRUE(found.ok()) << found.error().message << " / " << found.error().detail;
  EXPECT_EQ(found->user_id, "alice");
  EXPECT_EQ(found->provider_id, "gitlab");
  EXPECT_EQ(found->status, core::ConnectionStatus::kConnected);
  EXPECT_EQ(found->token_version, 1);
  ASSERT_TRUE(found->token.has_value());
  EXPECT_EQ(found->token->access_token.Reveal(), "access-before-upgrade");
  auto listed = connections.ListForUser(core::UserId("alice"));
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1U);
  EXPECT_EQ(listed->front().id, kConnectionId);
  auto count = connections.CountForProvider(core::ProviderId("gitlab"));
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 1);
  // The unique (user, provider) pair still holds: a reconnect finds the old row.
  core::Connection candidate;
  candidate.id = core::ConnectionId("01HZZZZZZZZZZZZZZZZZZZZZZ2");
  candidate.user_id = core::UserId("alice");
  candidate.provider_id = core::ProviderId("gitlab");
  candidate.created_at = core::FromUnixSeconds(kCreated + 60);
  auto reconnected = connections.FindOrInsert(candidate);
  ASSERT_TRUE(reconnected.ok()) << reconnected.error().detail;
  EXPECT_EQ(reconnected->id, kConnectionId);
  auto flow = flows.Take(kStateHash);
  ASSERT_TRUE(flow.ok()) << flow.error().detail;
  EXPECT_EQ(flow->provider_id, "gitlab");
  EXPECT_EQ(flow->connection_id, kConnectionId);
  // The index named after the column follows it.
  const std::vector<std::string> indexes = this->IndexNames(*db, "oauth2_connections");
  EXPECT_NE(std::find(indexes.begin(), indexes.end(), "ix_oauth2_connections_provider_id"),
            indexes.end());
  EXPECT_EQ(std::find(indexes.begin(), indexes.end(), "ix_oauth2_connections_client_id"),
            indexes.end());
  // 0013: an integration from before is not managed by an integrations file.
  auto provider = providers.Find(core::ProviderId("gitlab"));
  ASSERT_TRUE(provider.ok()) << provider.error().message;
  EXPECT_FALSE(provider->managed_by_file);
  EXPECT_FALSE(provider->secret_reference.has_value());
  // The foreign key to the provider still cascades.
  ASSERT_TRUE(providers.Delete(core::ProviderId("gitlab")).ok());
  auto gone = connections.Find(kConnectionId);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, core::ErrorCode::kNotFound);
}

TYPED_TEST(Upgrade, MigrateToStopsAtTheGivenVersion) {
  std::unique_ptr<Database> db = this->DatabaseAt(kBeforeProviderIdColumns);
  ASSERT_FALSE(this->HasFailure());

  auto old_column = db->Query("SELECT client_id FROM oauth2_connections", {});
  auto new_column = db->Query("SELECT provider_id FROM oauth2_connections", {});

  EXPECT_TRUE(old_column.ok());
  EXPECT_FALSE(new_column.ok());
  ASSERT_TRUE(Migrate(*db).ok());
  EXPECT_FALSE(db->Query("SELECT client_id FROM oauth2_connections", {}).ok());
  EXPECT_TRUE(db->Query("SELECT provider_id FROM oauth2_flows", {}).ok());
}

}  // namespace
}  // namespace keybridge::storage::contract_test
