// The machinery every contract test file shares: the storage backends (each makes fresh, empty
// databases and shows the bytes a database keeps at rest) and StoreContract, the typed fixture
// that opens a migrated Store with a fresh KeyRing on one of them. SQLite always runs; PostgreSQL
// runs when KEYBRIDGE_TEST_POSTGRES_URL names a server where the test may create databases, and
// fails instead of skipping when KEYBRIDGE_REQUIRE_POSTGRES=1 (CI).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
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
#include <utility>
#include <vector>

#include "core/check.h"
#include "core/provider.h"
#include "crypto/key_ring.h"
#include "crypto/system_random.h"
#include "storage/database.h"
#include "storage/store.h"

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

// --- Backends: each makes fresh, empty databases and shows the bytes a database keeps at rest.

class SqliteBackend {
 public:
  static constexpr const char* kName = "Sqlite";

  void SetUp() {}
  void DropConnections() {}  // there is no server to lose
  std::string NewDatabaseUrl() {
    return "sqlite://" + (dir_.path() / ("kb_" + RandomSuffix() + ".db")).string();
  }
  // The database file and its WAL after a checkpoint: everything SQLite wrote to disk.
  std::string RawBytesAtRest(Database& database, const std::string& url) {
    EXPECT_TRUE(database.Query("PRAGMA wal_checkpoint(TRUNCATE)", {}).ok());
    const std::string path = url.substr(std::string_view("sqlite://").size());
    return ReadFile(path) + ReadFile(path + "-wal");
  }

 private:
  TempDir dir_;
};

class PostgresBackend {
 public:
  static constexpr const char* kName = "Postgres";

  void SetUp() {
    const char* base = std::getenv("KEYBRIDGE_TEST_POSTGRES_URL");
    if (base == nullptr || *base == '\0') {
      const char* required = std::getenv("KEYBRIDGE_REQUIRE_POSTGRES");
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

  ~PostgresBackend() {
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
  std::string RawBytesAtRest(Database& /*database*/, const std::string& url) {
    const std::string pg_dump = fs::exists("/usr/lib/postgresql/15/bin/pg_dump")
                                    ? "/usr/lib/postgresql/15/bin/pg_dump"
                                    : "pg_dump";
    std::optional<std::string> dump = Capture(pg_dump + " --dbname='" + url + "'");
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

using Backends = ::testing::Types<SqliteBackend, PostgresBackend>;

// --- Builders shared by the suites.

inline core::Provider MakeProvider(const std::string& id) {
  core::Provider provider;
  provider.id = id;
  provider.kind = core::ProviderKind::kGitLab;
  provider.app_slug = "app-" + id;
  provider.client_id = "client-" + id;
  provider.client_secret = core::Secret("secret-for-" + id);
  provider.display_name = "Display " + id;
  provider.scope = "read_user api";
  provider.url = "https://" + id + "/";
  provider.use_pkce = true;
  provider.image_registry_url = "https://registry." + id;
  provider.created_by = "admin-1";
  provider.created_at = core::FromUnixSeconds(1'700'000'000);
  provider.updated_at = core::FromUnixSeconds(1'700'000'100);
  return provider;
}

// --- The fixture: a fresh, migrated Store on a fresh database of `Backend`.

template <typename Backend>
class StoreContract : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_.SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    url_ = backend_.NewDatabaseUrl();
    auto keys = crypto::KeyRing::LoadOrCreate((dir_.path() / "keys").string(), random_);
    ASSERT_TRUE(keys.ok()) << keys.error().message;
    keys_ = std::move(keys).value();
    auto store = OpenStore(url_, *keys_);
    ASSERT_TRUE(store.ok()) << store.error().message << " / " << store.error().detail;
    store_ = std::move(store).value();
  }

  void TearDown() override { store_.reset(); }

  Database& db() { return *store_->database; }
  core::ProviderRepository& providers() { return *store_->providers; }
  core::ApiTokenRepository& tokens() { return *store_->api_tokens; }
  core::ConnectionRepository& connections() { return *store_->connections; }
  core::AuthorizationFlowRepository& flows() { return *store_->flows; }

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

  // Declared first, destroyed last: it drops the databases the store still points to.
  Backend backend_;
  TempDir dir_;
  crypto::SystemRandom random_;
  std::string url_;
  std::unique_ptr<crypto::KeyRing> keys_;
  std::unique_ptr<Store> store_;
};

}  // namespace keybridge::storage::contract_test
