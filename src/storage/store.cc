#include "storage/store.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "storage/cached_repositories.h"
#include "storage/migrator.h"
#include "storage/postgres_database.h"
#include "storage/sql_api_token_repository.h"
#include "storage/sql_audit_repository.h"
#include "storage/sql_browser_session_repository.h"
#include "storage/sql_connection_repository.h"
#include "storage/sql_integration_trial_repository.h"
#include "storage/sql_provider_repository.h"
#include "storage/sql_session_token_repository.h"
#include "storage/sqlite_database.h"

namespace keybridge::storage {
namespace {

constexpr std::string_view kSqliteScheme = "sqlite://";
constexpr std::string_view kRedacted = "****";

core::Result<std::unique_ptr<Database>> OpenSqliteUrl(const std::string& path) {
  if (path.empty()) {
    return core::MakeError(core::ErrorCode::kInvalidArgument, "the sqlite:// URL has no path");
  }
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return core::MakeError(core::ErrorCode::kUnavailable,
                             "cannot create directory " + parent.string() + ": " + ec.message());
    }
  }
  return OpenSqliteDatabase(path);
}

// Replaces each value of `key=` in a query string with kRedacted.
void RedactQueryParameter(std::string& url, std::size_t query_start, std::string_view key) {
  for (std::size_t at = url.find(key, query_start); at != std::string::npos;
       at = url.find(key, at + 1)) {
    const char before = url[at - 1];
    if (before != '?' && before != '&') {
      continue;
    }
    const std::size_t value = at + key.size();
    const std::size_t end = std::min(url.find('&', value), url.size());
    url.replace(value, end - value, kRedacted);
  }
}

}  // namespace

std::string RedactDatabaseUrl(const std::string& database_url) {
  std::string url = database_url;
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    return url;
  }
  const std::size_t authority = scheme_end + 3;
  // The last '@' before the query ends the user info, even if an unencoded '/' or '@' sits in the
  // password; erring this way can only hide too much.
  std::size_t query = url.find('?', authority);
  const std::size_t at = url.rfind('@', query);
  if (at != std::string::npos && at >= authority) {
    const std::size_t colon = url.find(':', authority);
    if (colon < at) {
      url.replace(colon + 1, at - colon - 1, kRedacted);
    }
  }
  query = url.find('?', authority);
  if (query != std::string::npos) {
    RedactQueryParameter(url, query, "password=");
  }
  return url;
}

core::Result<std::unique_ptr<Database>> OpenDatabase(const std::string& database_url) {
  return OpenDatabase(database_url, PostgresPoolOptions{}.max_connections);
}

core::Result<std::unique_ptr<Database>> OpenDatabase(const std::string& database_url,
                                                     std::size_t postgres_connections) {
  core::Result<std::unique_ptr<Database>> database =
      [&]() -> core::Result<std::unique_ptr<Database>> {
    if (database_url.starts_with(kSqliteScheme)) {
      return OpenSqliteUrl(database_url.substr(kSqliteScheme.size()));
    }
    if (database_url.starts_with("postgresql://") || database_url.starts_with("postgres://")) {
      return OpenPostgresDatabase(database_url,
                                  PostgresPoolOptions{.max_connections = postgres_connections});
    }
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           "unsupported scheme: expected sqlite://path or postgresql://...");
  }();
  if (!database.ok()) {
    core::Error error = std::move(database).TakeError();
    error.message =
        "cannot open database " + RedactDatabaseUrl(database_url) + ": " + error.message;
    return error;
  }
  return database;
}

namespace {

// Wraps the hot-path repositories of `store` in caches fed by a ChangeFeed on its own connection.
void AddCaches(Store& store, const std::string& database_url, const StoreOptions& options) {
  std::unique_ptr<ChangeSource> source =
      database_url.starts_with(kSqliteScheme)
          ? MakeSqliteChangeSource(database_url.substr(kSqliteScheme.size()))
          : MakePostgresChangeSource(database_url);
  store.changes = std::make_unique<ChangeFeed>(std::move(source), options.change_feed);
  ChangeFeed& feed = *store.changes;
  auto connections = std::make_unique<CachedConnectionRepository>(std::move(store.connections),
                                                                  options.cache_entries, feed);
  auto sessions = std::make_unique<CachedSessionTokenRepository>(std::move(store.session_tokens),
                                                                 options.cache_entries, feed);
  auto api_tokens = std::make_unique<CachedApiTokenRepository>(std::move(store.api_tokens),
                                                               options.cache_entries, feed);
  auto providers = std::make_unique<CachedProviderRepository>(std::move(store.providers), feed);
  feed.Subscribe([connections = &connections->cache(), by_user = &connections->by_user(),
                  sessions = &sessions->cache(), api_tokens = &api_tokens->cache(),
                  providers = &providers->cache()](const Change& change) {
    if (change.table.empty()) {
      connections->Clear();
      by_user->Clear();
      sessions->Clear();
      api_tokens->Clear();
      providers->Clear();
    } else if (change.table == kConnectionsTable) {
      connections->Invalidate(change.key);
    } else if (change.table == kUserConnections) {
      by_user->Invalidate(change.key);
    } else if (change.table == kSessionTokensTable) {
      sessions->Invalidate(change.key);
    } else if (change.table == kApiTokensTable) {
      api_tokens->Invalidate(change.key);
    } else if (change.table == kProvidersTable) {
      providers->Clear();
    }
  });
  store.cache_stats = [connections = &connections->cache(), by_user = &connections->by_user(),
                       sessions = &sessions->cache(), api_tokens = &api_tokens->cache(),
                       providers = &providers->cache()] {
    return std::vector<ReadCacheStats>{connections->Stats(), by_user->Stats(), sessions->Stats(),
                                       api_tokens->Stats(), providers->Stats()};
  };
  store.connections = std::move(connections);
  store.session_tokens = std::move(sessions);
  store.api_tokens = std::move(api_tokens);
  store.providers = std::move(providers);
  feed.Start();
}

}  // namespace

core::Result<std::unique_ptr<Store>> OpenStore(const std::string& database_url,
                                               crypto::KeyRing& keys, const StoreOptions& options) {
  KEYBRIDGE_ASSIGN_OR_RETURN(std::unique_ptr<Database> database,
                             OpenDatabase(database_url, options.postgres_connections));
  core::Status migrated = Migrate(*database);
  if (!migrated.ok()) {
    core::Error error = std::move(migrated).TakeError();
    error.message =
        "cannot migrate database " + RedactDatabaseUrl(database_url) + ": " + error.message;
    return error;
  }
  auto store = std::make_unique<Store>();
  store->database = std::move(database);
  store->providers = std::make_unique<SqlProviderRepository>(*store->database, keys);
  store->api_tokens = std::make_unique<SqlApiTokenRepository>(*store->database);
  store->connections = std::make_unique<SqlConnectionRepository>(*store->database, keys);
  store->flows = std::make_unique<SqlAuthorizationFlowRepository>(*store->database, keys);
  store->trials = std::make_unique<SqlIntegrationTrialRepository>(*store->database, keys);
  store->session_tokens = std::make_unique<SqlSessionTokenRepository>(*store->database);
  store->browser_sessions = std::make_unique<SqlBrowserSessionRepository>(*store->database);
  store->audit = std::make_unique<SqlAuditRepository>(*store->database);
  if (options.cache_entries > 0) {
    AddCaches(*store, database_url, options);
  }
  return store;
}

}  // namespace keybridge::storage
