// The machinery every contract test file shares. Three backends implement the repository ports of
// core/repositories.h: InMemory (tests/support/in_memory_repositories.h, the fakes behind the
// service unit tests), SQLite and PostgreSQL (a migrated storage::Store with a fresh KeyRing).
// Each suite comes in two typed fixtures:
//   Contract<Backend>       the behaviour of the ports, run on AllBackends;
//   StoreContract<Backend>  what only a database has (bytes at rest, sealed columns, SQL
//                           transactions, migrations, key rotation), run on SqlBackends.
// A backend without a database cannot even instantiate StoreContract, so nothing about the
// database is skipped at run time: the split is in the types. SQLite always runs; PostgreSQL runs
// when KEYBRIDGE_TEST_POSTGRES_URL names a server where the test may create databases, and fails
// instead of skipping when KEYBRIDGE_REQUIRE_POSTGRES=1 (CI).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "core/check.h"
#include "core/provider.h"
#include "crypto/key_ring.h"
#include "crypto/system_random.h"
#include "storage/database.h"
#include "storage/store.h"
#include "support/in_memory_repositories.h"

namespace keybridge::storage::contract_test {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "kb-contract-XXXXXX").string();
    KEYBRIDGE_CHECK(::mkdtemp(pattern.data()) != nullptr, "mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline std::string RandomSuffix() {
  std::random_device device;
  std::uniform_int_distribution<int> digit(0, 35);
  std::string out;
  for (int i = 0; i < 12; ++i) {
    const int d = digit(device);
    out.push_back(static_cast<char>(d < 10 ? '0' + d : 'a' + d - 10));
  }
  return out;
}

inline std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// Runs a shell command and returns its stdout, or nullopt if it did not exit 0.
inline std::optional<std::string> Capture(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return std::nullopt;
  }
  std::string out;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0;) {
    out.append(buffer, n);
  }
  return ::pclose(pipe) == 0 ? std::optional(out) : std::nullopt;
}

// --- Backends: each opens fresh, empty repositories (Open) and closes them again (Close).

// The in-memory fakes, wired like one database (testing::InMemoryStore).
class InMemoryBackend {
 public:
  static constexpr const char* kName = "InMemory";

  void SetUp() {}
  void Open() {}
  void Close() {}

  core::ProviderRepository& providers() { return store_.providers; }
  core::ApiTokenRepository& api_tokens() { return store_.api_tokens; }
  core::ConnectionRepository& connections() { return store_.connections; }
  core::AuthorizationFlowRepository& flows() { return store_.flows; }
  core::IntegrationTrialRepository& trials() { return store_.trials; }
  core::SessionTokenRepository& session_tokens() { return store_.session_tokens; }
  core::BrowserSessionRepository& browser_sessions() { return store_.browser_sessions; }
  core::AuditRepository& audit() { return store_.audit; }

 private:
  testing::InMemoryStore store_;
};

// What SQLite and PostgreSQL share: a migrated Store on a fresh database, with a fresh KeyRing.
class SqlBackend {
 public:
  core::ProviderRepository& providers() { return *store_->providers; }
  core::ApiTokenRepository& api_tokens() { return *store_->api_tokens; }
  core::ConnectionRepository& connections() { return *store_->connections; }
  core::AuthorizationFlowRepository& flows() { return *store_->flows; }
  core::IntegrationTrialRepository& trials() { return *store_->trials; }
  core::SessionTokenRepository& session_tokens() { return *store_->session_tokens; }
  core::BrowserSessionRepository& browser_sessions() { return *store_->browser_sessions; }
  core::AuditRepository& audit() { return *store_->audit; }

  Store& store() { return *store_; }
  crypto::KeyRing& keys() { return *keys_; }
  const std::string& url() const { return url_; }
  std::string key_file() const { return (dir_.path() / "keys").string(); }
  void Close() { store_.reset(); }

 protected:
  void OpenAt(std::string url) {
    url_ = std::move(url);
    auto keys = crypto::KeyRing::LoadOrCreate(key_file(), random_);
    ASSERT_TRUE(keys.ok()) << keys.error().message;
    keys_ = std::move(keys).value();
    auto store = OpenStore(url_, *keys_);
    ASSERT_TRUE(store.ok()) << store.error().message << " / " << store.error().detail;
    store_ = std::move(store).value();
  }

  TempDir dir_;
  crypto::SystemRandom random_;
  std::string url_;
  std::unique_ptr<crypto::KeyRing> keys_;
  std::unique_ptr<Store> store_;
};

class SqliteBackend : public SqlBackend {
 public:
  static constexpr const char* kName = "Sqlite";

  void SetUp() {}
  void Open() { OpenAt(NewDatabaseUrl()); }
  void DropConnections() {}  // there is no server to lose
  std::string NewDatabaseUrl() {
    return "sqlite://" + (dir_.path() / ("kb_" + RandomSuffix() + ".db")).string();
  }
  // The database file and its WAL after a checkpoint: everything SQLite wrote to disk.
  std::string RawBytesAtRest() {
    EXPECT_TRUE(store_->database->Query("PRAGMA wal_checkpoint(TRUNCATE)", {}).ok());
    const std::string path = url_.substr(std::string_view("sqlite://").size());
    return ReadFile(path) + ReadFile(path + "-wal");
  }
};

class PostgresBackend : public SqlBackend {
 public:
  static constexpr const char* kName = "Postgres";

  void SetUp() {
    // getenv: read on the test's main thread before the test starts any thread, and nothing in
    // the tests sets the environment.
    const char* base = std::getenv("KEYBRIDGE_TEST_POSTGRES_URL");  // NOLINT(concurrency-mt-unsafe)
    if (base == nullptr || *base == '\0') {
      const char* required =
          std::getenv("KEYBRIDGE_REQUIRE_POSTGRES");  // NOLINT(concurrency-mt-unsafe)
      if (required != nullptr && std::string_view(required) == "1") {
        FAIL() << "KEYBRIDGE_REQUIRE_POSTGRES=1 but KEYBRIDGE_TEST_POSTGRES_URL is not set";
      }
      GTEST_SKIP() << "set KEYBRIDGE_TEST_POSTGRES_URL to run the PostgreSQL contract tests";
    }
    base_url_ = base;
    auto admin = OpenDatabase(base_url_);
    ASSERT_TRUE(admin.ok()) << admin.error().message;
    admin_ = std::move(admin).value();
  }
  void Open() { OpenAt(NewDatabaseUrl()); }

  ~PostgresBackend() {
    Close();  // the store's connections first, then the databases they point to
    for (const std::string& name : databases_) {
      static_cast<void>(admin_->ExecuteScript("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"));
    }
  }

  std::string NewDatabaseUrl() {
    const std::string name = "kb_" + RandomSuffix();
    const core::Status created = admin_->ExecuteScript("CREATE DATABASE " + name);
    KEYBRIDGE_CHECK(created.ok(), "CREATE DATABASE failed");
    databases_.push_back(name);
    // Swap the path of the base URL for the new database, keeping any query string.
    const std::size_t authority = base_url_.find("://") + 3;
    const std::size_t path = std::min(base_url_.find_first_of("/?", authority), base_url_.size());
    const std::size_t query = std::min(base_url_.find('?', authority), base_url_.size());
    return base_url_.substr(0, path) + "/" + name + base_url_.substr(query);
  }

  // What a server restart does to every open connection of the test databases.
  void DropConnections() {
    for (const std::string& name : databases_) {
      auto killed = admin_->Query(
          "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = $1",
          {name});
      ASSERT_TRUE(killed.ok()) << killed.error().detail;
    }
  }

  // A plain-SQL pg_dump of the database: everything a backup would hold.
  std::string RawBytesAtRest() {
    const std::string pg_dump = fs::exists("/usr/lib/postgresql/15/bin/pg_dump")
                                    ? "/usr/lib/postgresql/15/bin/pg_dump"
                                    : "pg_dump";
    std::optional<std::string> dump = Capture(pg_dump + " --dbname='" + url_ + "'");
    EXPECT_TRUE(dump.has_value()) << "pg_dump failed";
    return dump.value_or("");
  }

 private:
  std::string base_url_;
  std::unique_ptr<Database> admin_;
  std::vector<std::string> databases_;
};

struct BackendNames {
  template <typename T>
  static std::string GetName(int /*index*/) {
    return T::kName;
  }
};

using AllBackends = ::testing::Types<InMemoryBackend, SqliteBackend, PostgresBackend>;
using SqlBackends = ::testing::Types<SqliteBackend, PostgresBackend>;

// --- Builders shared by the suites.

inline core::Provider MakeProvider(const std::string& id) {
  core::Provider provider;
  provider.id = core::ProviderId(id);
  provider.kind = core::ProviderKind::kGitLab;
  provider.app_slug = "app-" + id;
  provider.client_id = "client-" + id;
  provider.client_secret = core::Secret("secret-for-" + id);
  provider.display_name = "Display " + id;
  provider.scope = "read_user api";
  provider.url = "https://" + id + "/";
  provider.use_pkce = true;
  provider.image_registry_url = "https://registry." + id;
  provider.created_by = core::UserId("admin-1");
  provider.created_at = core::FromUnixSeconds(1'700'000'000);
  provider.updated_at = core::FromUnixSeconds(1'700'000'100);
  return provider;
}

// --- The fixtures.

// The repositories of a fresh `Backend`: the behaviour every backend promises.
template <typename Backend>
class Contract : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_.SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    backend_.Open();
  }

  void TearDown() override { backend_.Close(); }

  core::ProviderRepository& providers() { return backend_.providers(); }
  core::ApiTokenRepository& tokens() { return backend_.api_tokens(); }
  core::ConnectionRepository& connections() { return backend_.connections(); }
  core::AuthorizationFlowRepository& flows() { return backend_.flows(); }
  core::IntegrationTrialRepository& trials() { return backend_.trials(); }
  core::SessionTokenRepository& session_tokens() { return backend_.session_tokens(); }
  core::BrowserSessionRepository& browser_sessions() { return backend_.browser_sessions(); }
  core::AuditRepository& audit() { return backend_.audit(); }

  Backend backend_;
};

// Contract plus the database behind it: only SqlBackends have one.
template <typename Backend>
class StoreContract : public Contract<Backend> {
 protected:
  Database& db() { return *store().database; }
  Store& store() { return this->backend_.store(); }
  crypto::KeyRing& keys() { return this->backend_.keys(); }
  const std::string& url() const { return this->backend_.url(); }
  std::string key_file() const { return this->backend_.key_file(); }
  std::string RawBytesAtRest() { return this->backend_.RawBytesAtRest(); }

  // The stored text of a nullable text column of one row, "<NULL>" for NULL; aborts if the row
  // is missing (a broken test setup, not a contract violation).
  std::string RawColumn(std::string_view table, std::string_view column, std::string_view id_column,
                        const std::string& id) {
    auto rows = db().Query("SELECT " + std::string(column) + " FROM " + std::string(table)
                               + " WHERE " + std::string(id_column) + " = $1",
                           {id});
    KEYBRIDGE_CHECK(rows.ok() && rows->size() == 1, "row missing");
    RowReader reader(rows->front(), table);
    return reader.OptionalText(0).value_or("<NULL>");
  }
};

}  // namespace keybridge::storage::contract_test
