// Contract tests for ProviderRepository and ApiTokenRepository (core/repositories.h): one typed
// suite holds every backend of contract_fixture.h (in-memory, SQLite, PostgreSQL) to the same
// behaviour, and a second one the SQL backends to what only a database has (the Database layer,
// migrations, key rotation, secrets at rest). Connections and flows are in
// connection_contract_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "contract/contract_fixture.h"
#include "core/check.h"
#include "crypto/key_ring.h"
#include "crypto/system_random.h"
#include "storage/database.h"
#include "storage/key_rotation.h"
#include "storage/migrator.h"
#include "storage/sealed_columns.h"
#include "storage/store.h"
#include "support/fake_clock.h"

namespace keybridge::storage::contract_test {
namespace {

using core::ErrorCode;

// --- Builders and comparisons.

void ExpectSameProvider(const core::Provider& actual, const core::Provider& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.kind, expected.kind);
  EXPECT_EQ(actual.app_slug, expected.app_slug);
  EXPECT_EQ(actual.client_id, expected.client_id);
  EXPECT_EQ(actual.client_secret.has_value(), expected.client_secret.has_value());
  if (actual.client_secret && expected.client_secret) {
    EXPECT_EQ(actual.client_secret->Reveal(), expected.client_secret->Reveal());
  }
  EXPECT_EQ(actual.display_name, expected.display_name);
  EXPECT_EQ(actual.scope, expected.scope);
  EXPECT_EQ(actual.url, expected.url);
  EXPECT_EQ(actual.use_pkce, expected.use_pkce);
  EXPECT_EQ(actual.image_registry_url, expected.image_registry_url);
  EXPECT_EQ(actual.oidc_issuer_url, expected.oidc_issuer_url);
  EXPECT_EQ(actual.created_by, expected.created_by);
  EXPECT_EQ(actual.created_at, expected.created_at);
  EXPECT_EQ(actual.updated_at, expected.updated_at);
  EXPECT_EQ(actual.managed_by_file, expected.managed_by_file);
  EXPECT_EQ(actual.secret_reference, expected.secret_reference);
}

core::ApiToken MakeToken(const std::string& id, std::int64_t created_at) {
  core::ApiToken token;
  token.id = id;
  token.user_id = core::UserId("user-" + id);
  token.name = "token " + id;
  token.is_admin = false;
  token.token_hash = "hash-of-" + id;
  token.created_at = core::FromUnixSeconds(created_at);
  return token;
}

// Forwards to another Database and runs a hook just before the first statement that rewrites a
// client secret, to stage a concurrent write at the worst moment.
class InterceptingDatabase final : public Database {
 public:
  InterceptingDatabase(Database& inner, std::function<void()> hook)
      : inner_(inner), hook_(std::move(hook)) {}

  core::Result<std::vector<Row>> Query(std::string_view sql, const Params& params) override {
    return inner_.Query(sql, params);
  }
  core::Result<std::int64_t> Execute(std::string_view sql, const Params& params) override {
    if (hook_ && sql.starts_with("UPDATE oauth2_clients SET client_secret")) {
      std::function<void()> hook = std::move(hook_);
      hook_ = nullptr;
      hook();
    }
    return inner_.Execute(sql, params);
  }
  core::Status ExecuteScript(std::string_view sql) override { return inner_.ExecuteScript(sql); }
  core::Status Transaction(const std::function<core::Status(Database&)>& body) override {
    return inner_.Transaction(body);
  }
  Dialect dialect() const override { return inner_.dialect(); }
  core::Status Ping() override { return inner_.Ping(); }

 private:
  Database& inner_;
  std::function<void()> hook_;
};

// Forwards to another Database and runs a hook before every query of a re-encryption pass after
// the first (those that look only for values under an old key).
class BeforeEachCheckDatabase final : public Database {
 public:
  BeforeEachCheckDatabase(Database& inner, std::function<void()> hook)
      : inner_(inner), hook_(std::move(hook)) {}

  core::Result<std::vector<Row>> Query(std::string_view sql, const Params& params) override {
    if (sql.find("NOT LIKE") != std::string_view::npos) {
      hook_();
    }
    return inner_.Query(sql, params);
  }
  core::Result<std::int64_t> Execute(std::string_view sql, const Params& params) override {
    return inner_.Execute(sql, params);
  }
  core::Status ExecuteScript(std::string_view sql) override { return inner_.ExecuteScript(sql); }
  core::Status Transaction(const std::function<core::Status(Database&)>& body) override {
    return inner_.Transaction(body);
  }
  Dialect dialect() const override { return inner_.dialect(); }
  core::Status Ping() override { return inner_.Ping(); }

 private:
  Database& inner_;
  std::function<void()> hook_;
};

// A server's key ring that has not looked at the key file since it was loaded (its clock never
// moves), and a store sealing with it: what a running server is until it notices a rotation.
struct StaleServer {
  testing::FakeClock clock;
  crypto::SystemRandom random;
  std::unique_ptr<crypto::KeyRing> keys;
  std::unique_ptr<Store> store;

  StaleServer(const std::string& key_file, const std::string& url) {
    crypto::KeyRing::Options options;
    options.clock = &clock;
    keys = std::move(crypto::KeyRing::LoadOrCreate(key_file, random, options)).value();
    store = std::move(OpenStore(url, *keys)).value();
  }
};

ReencryptOptions WithoutWaiting() {
  ReencryptOptions options;
  options.wait_for_servers = [](std::chrono::nanoseconds /*remaining*/) {
  };
  return options;
}

// --- The suites.

template <typename Backend>
class RepositoryContract : public Contract<Backend> {};

template <typename Backend>
class RepositoryStorageContract : public StoreContract<Backend> {
 protected:
  std::string RawClientSecret(const std::string& id) {
    return this->RawColumn("oauth2_clients", "client_secret", "id", id);
  }

  // The versions recorded in schema_migrations, ascending.
  std::vector<std::int64_t> AppliedMigrations(Database& database) {
    auto rows = database.Query("SELECT version FROM schema_migrations ORDER BY version", {});
    KEYBRIDGE_CHECK(rows.ok(), "schema_migrations unreadable");
    std::vector<std::int64_t> versions;
    for (const Row& row : *rows) {
      RowReader reader(row, "schema_migrations");
      versions.push_back(reader.Int(0));
    }
    return versions;
  }
};

TYPED_TEST_SUITE(RepositoryContract, AllBackends, BackendNames);
TYPED_TEST_SUITE(RepositoryStorageContract, SqlBackends, BackendNames);

// Providers.

TYPED_TEST(RepositoryContract, InsertedProviderIsFoundWithEveryField) {
  const core::Provider provider = MakeProvider("gitlab.example");

  ASSERT_TRUE(this->providers().Insert(provider).ok());
  auto found = this->providers().Find(core::ProviderId("gitlab.example"));

  ASSERT_TRUE(found.ok()) << found.error().message;
  ExpectSameProvider(*found, provider);
}

TYPED_TEST(RepositoryContract, FindOfUnknownProviderIsNotFound) {
  auto found = this->providers().Find(core::ProviderId("nobody.example"));

  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code, ErrorCode::kNotFound);
}

TYPED_TEST(RepositoryContract, ListIsOrderedByIdBytewise) {
  const std::vector<std::string> ids = {"gitlab.example", "a-c", "ab", "a.b", "github.com", "a_b"};
  for (const std::string& id : ids) {
    ASSERT_TRUE(this->providers().Insert(MakeProvider(id)).ok());
  }
  std::vector<std::string> expected = ids;
  std::sort(expected.begin(), expected.end());

  auto listed = this->providers().List();

  ASSERT_TRUE(listed.ok()) << listed.error().message;
  std::vector<std::string> listed_ids;
  for (const core::Provider& provider : *listed) {
    listed_ids.push_back(provider.id.value());
  }
  EXPECT_EQ(listed_ids, expected);
}

TYPED_TEST(RepositoryContract, DuplicateProviderIdIsConflict) {
  ASSERT_TRUE(this->providers().Insert(MakeProvider("github.com")).ok());

  core::Status again = this->providers().Insert(MakeProvider("github.com"));

  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_NE(again.error().message.find("github.com"), std::string::npos);
}

TYPED_TEST(RepositoryContract, UpdateReplacesEveryField) {
  ASSERT_TRUE(this->providers().Insert(MakeProvider("gitlab.example")).ok());
  core::Provider changed = MakeProvider("gitlab.example");
  changed.kind = core::ProviderKind::kGenericOidc;
  changed.app_slug = "";
  changed.client_id = "new-client";
  changed.client_secret = core::Secret("new-secret");
  changed.display_name = "Renamed";
  changed.scope = "openid";
  changed.url = "https://login.example/";
  changed.use_pkce = false;
  changed.image_registry_url = std::nullopt;
  changed.oidc_issuer_url = "https://login.example/realms/x";
  changed.created_by = core::UserId("admin-2");
  changed.created_at = core::FromUnixSeconds(1'600'000'000);
  changed.updated_at = core::FromUnixSeconds(1'800'000'000);

  ASSERT_TRUE(this->providers().Update(changed).ok());
  auto found = this->providers().Find(core::ProviderId("gitlab.example"));

  ASSERT_TRUE(found.ok()) << found.error().message;
  ExpectSameProvider(*found, changed);
}

TYPED_TEST(RepositoryContract, UpdateOfUnknownProviderIsNotFound) {
  core::Status updated = this->providers().Update(MakeProvider("nobody.example"));

  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.error().code, ErrorCode::kNotFound);
}

TYPED_TEST(RepositoryContract, DeleteReportsWhetherARowWasDeleted) {
  ASSERT_TRUE(this->providers().Insert(MakeProvider("gitlab.example")).ok());

  auto first = this->providers().Delete(core::ProviderId("gitlab.example"));
  auto second = this->providers().Delete(core::ProviderId("gitlab.example"));

  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*second);
  EXPECT_EQ(this->providers().Find(core::ProviderId("gitlab.example")).error().code,
            ErrorCode::kNotFound);
}

TYPED_TEST(RepositoryContract, AbsentOptionalsRoundTripAbsent) {
  core::Provider provider = MakeProvider("public-client.example");
  provider.client_secret = std::nullopt;
  provider.image_registry_url = std::nullopt;
  provider.oidc_issuer_url = std::nullopt;

  ASSERT_TRUE(this->providers().Insert(provider).ok());
  auto found = this->providers().Find(provider.id);

  ASSERT_TRUE(found.ok()) << found.error().message;
  ExpectSameProvider(*found, provider);
}

// Migration 0013: an integration applied from an integrations file keeps that mark and the
// reference its secret came from, whichever source, across inserts and updates.
TYPED_TEST(RepositoryContract, IntegrationsFileMarkAndSecretReferenceRoundTrip) {
  core::Provider provider = MakeProvider("gitlab.example");
  provider.managed_by_file = true;
  provider.secret_reference =
      core::SecretReference{core::SecretReference::Source::kFile, "secrets/gitlab.txt"};
  ASSERT_TRUE(this->providers().Insert(provider).ok());
  auto inserted = this->providers().Find(provider.id);
  core::Provider by_env = provider;
  by_env.secret_reference = core::SecretReference{core::SecretReference::Source::kEnv, "GL_SECRET"};
  ASSERT_TRUE(this->providers().Update(by_env).ok());
  auto updated = this->providers().Find(provider.id);
  core::Provider released = provider;
  released.managed_by_file = false;
  released.secret_reference = std::nullopt;
  ASSERT_TRUE(this->providers().Update(released).ok());
  auto unmanaged = this->providers().Find(provider.id);

  ASSERT_TRUE(inserted.ok() && updated.ok() && unmanaged.ok());
  ExpectSameProvider(*inserted, provider);
  ExpectSameProvider(*updated, by_env);
  ExpectSameProvider(*unmanaged, released);
  EXPECT_FALSE(MakeProvider("x").managed_by_file) << "integrations are not file-managed by default";
}

TYPED_TEST(RepositoryStorageContract, AbsentClientSecretIsStoredAsNull) {
  core::Provider provider = MakeProvider("public-client.example");
  provider.client_secret = std::nullopt;

  ASSERT_TRUE(this->providers().Insert(provider).ok());

  EXPECT_EQ(this->RawClientSecret(provider.id.value()), "<NULL>");
}

TYPED_TEST(RepositoryContract, EmptyClientSecretIsKeptDistinctFromNone) {
  core::Provider provider = MakeProvider("gitlab.example");
  provider.client_secret = core::Secret("");

  ASSERT_TRUE(this->providers().Insert(provider).ok());
  auto found = this->providers().Find(provider.id);

  ASSERT_TRUE(found.ok()) << found.error().message;
  ExpectSameProvider(*found, provider);
}

TYPED_TEST(RepositoryStorageContract, ClientSecretIsStoredSealedWithTheActiveKey) {
  ASSERT_TRUE(this->providers().Insert(MakeProvider("gitlab.example")).ok());

  const std::string raw = this->RawClientSecret("gitlab.example");

  EXPECT_TRUE(raw.starts_with("kb1.")) << raw;
  EXPECT_EQ(crypto::KeyRing::KeyIdOf(raw), this->keys().ActiveKeyId());
  EXPECT_EQ(raw.find("secret-for-gitlab.example"), std::string::npos);
}

TYPED_TEST(RepositoryStorageContract,
           CiphertextMovedToAnotherRowIsDecryptionFailureNamingTheProvider) {
  ASSERT_TRUE(this->providers().Insert(MakeProvider("github.com")).ok());
  ASSERT_TRUE(this->providers().Insert(MakeProvider("gitlab.example")).ok());
  const std::string stolen = this->RawClientSecret("github.com");
  ASSERT_TRUE(this->db()
                  .Execute("UPDATE oauth2_clients SET client_secret = $1 WHERE id = $2",
                           {stolen, std::string("gitlab.example")})
                  .ok());

  auto found = this->providers().Find(core::ProviderId("gitlab.example"));

  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code, ErrorCode::kDecryptionFailed);
  EXPECT_NE(found.error().message.find("gitlab.example"), std::string::npos);
  EXPECT_EQ(found.error().message.find(stolen), std::string::npos);
  EXPECT_EQ(found.error().detail.find(stolen), std::string::npos);
}

// API tokens.

TYPED_TEST(RepositoryContract, ApiTokenIsFoundByHashWithEveryField) {
  core::ApiToken token = MakeToken("tok1", 1'700'000'000);
  token.is_admin = true;
  token.expires_at = core::FromUnixSeconds(1'800'000'000);

  ASSERT_TRUE(this->tokens().Insert(token).ok());
  auto found = this->tokens().FindByHash("hash-of-tok1");

  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->id, "tok1");
  EXPECT_EQ(found->user_id, "user-tok1");
  EXPECT_EQ(found->name, "token tok1");
  EXPECT_TRUE(found->is_admin);
  EXPECT_EQ(found->token_hash, "hash-of-tok1");
  EXPECT_EQ(found->created_at, core::FromUnixSeconds(1'700'000'000));
  EXPECT_EQ(found->expires_at, core::FromUnixSeconds(1'800'000'000));
  EXPECT_EQ(found->revoked_at, std::nullopt);
}

TYPED_TEST(RepositoryContract, UnknownApiTokenHashIsNotFound) {
  auto found = this->tokens().FindByHash("hash-of-nothing");

  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code, ErrorCode::kNotFound);
}

TYPED_TEST(RepositoryContract, DuplicateApiTokenIdOrHashIsConflict) {
  ASSERT_TRUE(this->tokens().Insert(MakeToken("tok1", 1'700'000'000)).ok());
  core::ApiToken same_id = MakeToken("tok1", 1'700'000'000);
  same_id.token_hash = "another-hash";
  core::ApiToken same_hash = MakeToken("tok2", 1'700'000'000);
  same_hash.token_hash = "hash-of-tok1";

  core::Status by_id = this->tokens().Insert(same_id);
  core::Status by_hash = this->tokens().Insert(same_hash);

  ASSERT_FALSE(by_id.ok());
  EXPECT_EQ(by_id.error().code, ErrorCode::kConflict);
  ASSERT_FALSE(by_hash.ok());
  EXPECT_EQ(by_hash.error().code, ErrorCode::kConflict);
}

TYPED_TEST(RepositoryContract, ErrorsNeverEchoParameterValues) {
  core::ApiToken token = MakeToken("tok1", 1'700'000'000);
  token.token_hash = "distinctive-hash-value-9d2e";
  ASSERT_TRUE(this->tokens().Insert(token).ok());
  token.id = "tok2";

  core::Status duplicate = this->tokens().Insert(token);

  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().message.find("distinctive-hash-value"), std::string::npos);
  EXPECT_EQ(duplicate.error().detail.find("distinctive-hash-value"), std::string::npos);
}

TYPED_TEST(RepositoryContract, ApiTokensAreListedByCreationTimeThenId) {
  ASSERT_TRUE(this->tokens().Insert(MakeToken("tok-c", 1'700'000'200)).ok());
  ASSERT_TRUE(this->tokens().Insert(MakeToken("tok-b", 1'700'000'100)).ok());
  ASSERT_TRUE(this->tokens().Insert(MakeToken("tok-a", 1'700'000'200)).ok());

  auto listed = this->tokens().List();

  ASSERT_TRUE(listed.ok()) << listed.error().message;
  std::vector<std::string> ids;
  for (const core::ApiToken& token : *listed) {
    ids.push_back(token.id);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"tok-b", "tok-a", "tok-c"}));
}

TYPED_TEST(RepositoryContract, RevokeKeepsTheFirstRevocationTime) {
  ASSERT_TRUE(this->tokens().Insert(MakeToken("tok1", 1'700'000'000)).ok());

  auto first = this->tokens().Revoke("tok1", core::FromUnixSeconds(1'700'000'500));
  auto second = this->tokens().Revoke("tok1", core::FromUnixSeconds(1'700'000'900));
  auto unknown = this->tokens().Revoke("tok-unknown", core::FromUnixSeconds(1'700'000'900));

  ASSERT_TRUE(first.ok() && second.ok() && unknown.ok());
  EXPECT_TRUE(*first);
  EXPECT_TRUE(*second);
  EXPECT_FALSE(*unknown);
  auto found = this->tokens().FindByHash("hash-of-tok1");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->revoked_at, core::FromUnixSeconds(1'700'000'500));
}

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

// Concurrency.

TYPED_TEST(RepositoryContract, FiftyConcurrentWritersAndReadersDoNotError) {
  constexpr int kThreads = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;

  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([this, i, &failures] {
      const std::string id = "concurrent-" + std::to_string(i) + ".example";
      const auto count = [&failures](bool ok) {
        if (!ok) {
          ++failures;
        }
      };
      count(this->providers().Insert(MakeProvider(id)).ok());
      count(this->tokens().Insert(MakeToken("tok-" + std::to_string(i), 1'700'000'000 + i)).ok());
      count(this->providers().Find(core::ProviderId(id)).ok());
      count(this->providers().List().ok());
      count(this->tokens().List().ok());
      core::Provider updated = MakeProvider(id);
      updated.display_name = "updated";
      count(this->providers().Update(updated).ok());
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }

  EXPECT_EQ(failures.load(), 0);
  auto providers = this->providers().List();
  ASSERT_TRUE(providers.ok());
  EXPECT_EQ(providers->size(), static_cast<std::size_t>(kThreads));
  auto tokens = this->tokens().List();
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->size(), static_cast<std::size_t>(kThreads));
}

// Key rotation.

TYPED_TEST(RepositoryStorageContract, ReencryptSecretsMovesEveryCiphertextToTheNewKey) {
  for (const char* id : {"a.example", "b.example", "c.example"}) {
    ASSERT_TRUE(this->providers().Insert(MakeProvider(id)).ok());
  }
  core::Provider public_client = MakeProvider("public.example");
  public_client.client_secret = std::nullopt;
  ASSERT_TRUE(this->providers().Insert(public_client).ok());
  const std::string old_key = this->keys().ActiveKeyId();
  auto new_key = this->keys().Rotate();
  ASSERT_TRUE(new_key.ok()) << new_key.error().message;
  ASSERT_NE(*new_key, old_key);

  auto report = ReencryptSecrets(this->store(), this->keys());
  auto again = ReencryptSecrets(this->store(), this->keys());

  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->reencrypted, 3);
  EXPECT_EQ(report->already_current, 0);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->reencrypted, 0);
  EXPECT_EQ(again->already_current, 3);
  for (const char* id : {"a.example", "b.example", "c.example"}) {
    EXPECT_EQ(crypto::KeyRing::KeyIdOf(this->RawClientSecret(id)), *new_key) << id;
    auto found = this->providers().Find(core::ProviderId(id));
    ASSERT_TRUE(found.ok()) << found.error().message;
    ASSERT_TRUE(found->client_secret.has_value());
    EXPECT_EQ(found->client_secret->Reveal(), std::string("secret-for-") + id);
  }
  EXPECT_EQ(this->RawClientSecret("public.example"), "<NULL>");
}

TYPED_TEST(RepositoryStorageContract, ReencryptSecretsNeverOverwritesAConcurrentWrite) {
  ASSERT_TRUE(this->providers().Insert(MakeProvider("a.example")).ok());
  ASSERT_TRUE(this->providers().Insert(MakeProvider("b.example")).ok());
  ASSERT_TRUE(this->keys().Rotate().ok());
  // An administrator changes a.example's secret after the rotation read the old ciphertext.
  InterceptingDatabase racing(this->db(), [this] {
    core::Provider rewritten = MakeProvider("a.example");
    rewritten.client_secret = core::Secret("written-concurrently");
    ASSERT_TRUE(this->providers().Update(rewritten).ok());
  });

  auto report = ReencryptSecrets(racing, this->keys());

  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->reencrypted, 1);
  EXPECT_EQ(report->already_current, 1);
  auto found = this->providers().Find(core::ProviderId("a.example"));
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->client_secret->Reveal(), "written-concurrently");
  EXPECT_EQ(crypto::KeyRing::KeyIdOf(this->RawClientSecret("b.example")),
            this->keys().ActiveKeyId());
}

TYPED_TEST(RepositoryStorageContract,
           ReencryptSecretsPassesAgainOverValuesAServerWroteUnderTheOldKey) {
  ASSERT_TRUE(this->providers().Insert(MakeProvider("a.example")).ok());
  ASSERT_TRUE(this->providers().Insert(MakeProvider("b.example")).ok());
  StaleServer server(this->key_file(), this->url());
  const std::string old_key = this->keys().ActiveKeyId();
  auto new_key = this->keys().Rotate();
  ASSERT_TRUE(new_key.ok()) << new_key.error().message;
  ReencryptOptions options;
  int waits = 0;
  std::chrono::nanoseconds left{-1};
  // While the rotation waits for the servers, one that has not reloaded yet rewrites a secret.
  options.wait_for_servers = [&](std::chrono::nanoseconds remaining) {
    ++waits;
    left = remaining;
    core::Provider rewritten = MakeProvider("a.example");
    rewritten.client_secret = core::Secret("written-by-a-stale-server");
    ASSERT_TRUE(server.store->providers->Update(rewritten).ok());
    ASSERT_EQ(crypto::KeyRing::KeyIdOf(this->RawClientSecret("a.example")), old_key);
  };

  auto report = ReencryptSecrets(this->store(), this->keys(), options);

  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(waits, 1);
  EXPECT_GT(left, std::chrono::nanoseconds::zero());
  EXPECT_LE(left, options.settle);
  EXPECT_EQ(report->passes, 3) << "the first, the one re-sealing the stale write, an empty one";
  EXPECT_EQ(report->reencrypted, 3);
  const std::string raw = this->RawClientSecret("a.example");
  EXPECT_EQ(crypto::KeyRing::KeyIdOf(raw), *new_key);
  auto opened = this->keys().Open(raw, kProviderClientSecret.AssociatedData("a.example"));
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, "written-by-a-stale-server");
  EXPECT_EQ(crypto::KeyRing::KeyIdOf(this->RawClientSecret("b.example")), *new_key);
}

TYPED_TEST(RepositoryStorageContract, ReencryptSecretsGivesUpNamingTheRowThatKeepsComingBack) {
  ASSERT_TRUE(this->providers().Insert(MakeProvider("a.example")).ok());
  StaleServer server(this->key_file(), this->url());
  ASSERT_TRUE(this->keys().Rotate().ok());
  BeforeEachCheckDatabase rewriting(this->db(), [&server] {
    core::Provider rewritten = MakeProvider("a.example");
    rewritten.display_name = "rewritten by a server that never reloads";
    ASSERT_TRUE(server.store->providers->Update(rewritten).ok());
  });
  ReencryptOptions options = WithoutWaiting();
  options.max_passes = 4;

  auto report = ReencryptSecrets(rewriting, this->keys(), options);

  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(report.error().message.find("oauth2_clients row 'a.example'"), std::string::npos)
      << report.error().message;
  EXPECT_NE(report.error().message.find("4 passes"), std::string::npos) << report.error().message;
}

TYPED_TEST(RepositoryStorageContract, RetireKeyRefusesWhileAValueNeedsItThenRemovesIt) {
  ASSERT_TRUE(this->providers().Insert(MakeProvider("a.example")).ok());
  ASSERT_TRUE(this->providers().Insert(MakeProvider("b.example")).ok());
  const std::string old_key = this->keys().ActiveKeyId();
  auto new_key = this->keys().Rotate();
  ASSERT_TRUE(new_key.ok()) << new_key.error().message;

  const core::Status needed = RetireKey(this->store(), this->keys(), old_key);
  const core::Status active = RetireKey(this->store(), this->keys(), *new_key);
  const core::Status unknown = RetireKey(this->store(), this->keys(), "0badc0de");

  ASSERT_FALSE(needed.ok());
  EXPECT_EQ(needed.error().code, ErrorCode::kConflict);
  EXPECT_NE(needed.error().message.find("2 stored values (2 in oauth2_clients.client_secret)"),
            std::string::npos)
      << needed.error().message;
  EXPECT_NE(needed.error().message.find("keybridge keys rotate"), std::string::npos);
  ASSERT_FALSE(active.ok());
  EXPECT_EQ(active.error().code, ErrorCode::kConflict);
  EXPECT_NE(active.error().message.find("active key"), std::string::npos);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(this->keys().KeyIds(), (std::vector<std::string>{old_key, *new_key}));

  ASSERT_TRUE(ReencryptSecrets(this->store(), this->keys(), WithoutWaiting()).ok());
  const core::Status retired = RetireKey(this->store(), this->keys(), old_key);

  ASSERT_TRUE(retired.ok()) << retired.error().message;
  EXPECT_EQ(this->keys().KeyIds(), std::vector<std::string>{*new_key});
  auto counts = CountSealedValues(this->db());
  ASSERT_TRUE(counts.ok()) << counts.error().message;
  ASSERT_EQ(counts->size(), 1U);
  EXPECT_EQ(counts->front().key_id, *new_key);
  EXPECT_EQ(counts->front().table, "oauth2_clients");
  EXPECT_EQ(counts->front().values, 2);
  crypto::SystemRandom random;
  auto reloaded = crypto::KeyRing::LoadOrCreate(this->key_file(), random);
  ASSERT_TRUE(reloaded.ok());
  auto opened = (*reloaded)->Open(this->RawClientSecret("b.example"),
                                  kProviderClientSecret.AssociatedData("b.example"));
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, "secret-for-b.example");
}

// Secrets are sealed at rest (storage/sealed_columns.h): neither the database files nor a dump hold
// the plaintext client secret, while the (non-secret) provider id is there.
TYPED_TEST(RepositoryStorageContract, ClientSecretNeverAppearsAtRest) {
  const std::string secret = "kb-distinctive-client-secret-7f3a91c2";
  core::Provider provider = MakeProvider("at-rest-probe.example");
  provider.client_secret = core::Secret(secret);
  ASSERT_TRUE(this->providers().Insert(provider).ok());
  provider.display_name = "updated once";
  ASSERT_TRUE(this->providers().Update(provider).ok());

  const std::string raw = this->RawBytesAtRest();

  ASSERT_FALSE(raw.empty());
  EXPECT_NE(raw.find("at-rest-probe.example"), std::string::npos);
  EXPECT_EQ(raw.find(secret), std::string::npos);
}

}  // namespace
}  // namespace keybridge::storage::contract_test
