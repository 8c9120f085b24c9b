// Store: the opened database and every repository over it; app/ builds one from the configured
// database URL and hands the repositories to the services.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/audit.h"
#include "core/repositories.h"
#include "crypto/key_ring.h"
#include "storage/change_feed.h"
#include "storage/database.h"
#include "storage/postgres_database.h"
#include "storage/read_cache.h"

namespace keybridge::storage {

struct Store {
  // Declared first so that it is destroyed last: the repositories refer to it.
  std::unique_ptr<Database> database;
  std::unique_ptr<core::ProviderRepository> providers;
  std::unique_ptr<core::ApiTokenRepository> api_tokens;
  std::unique_ptr<core::ConnectionRepository> connections;
  std::unique_ptr<core::AuthorizationFlowRepository> flows;
  std::unique_ptr<core::IntegrationTrialRepository> trials;
  std::unique_ptr<core::SessionTokenRepository> session_tokens;
  std::unique_ptr<core::BrowserSessionRepository> browser_sessions;
  std::unique_ptr<core::AuditRepository> audit;  // never cached: written in batches, read rarely
  // Set when the store caches (StoreOptions::cache_entries > 0). Declared after the repositories
  // so that it is destroyed first: its thread feeds their caches.
  std::unique_ptr<ChangeFeed> changes;
  // Each cache's counters (empty without caches), for metrics.
  std::function<std::vector<ReadCacheStats>()> cache_stats = [] {
    return std::vector<ReadCacheStats>{};
  };

  // kUnavailable if the database cannot be reached (readiness probe).
  core::Status Ping() const { return database->Ping(); }
};

// Opens a database without migrating it. Accepted URLs:
//   sqlite://relative/path.db, sqlite:///absolute/path.db  (the parent directory is created)
//   postgresql://... or postgres://...                     (a libpq connection URI)
// kInvalidArgument for another scheme or an empty path; kUnavailable if the database cannot be
// opened or reached. Messages name the URL with its password replaced by "****".
core::Result<std::unique_ptr<Database>> OpenDatabase(const std::string& database_url);
// As above, with a PostgreSQL pool of `postgres_connections`.
core::Result<std::unique_ptr<Database>> OpenDatabase(const std::string& database_url,
                                                     std::size_t postgres_connections);

struct StoreOptions {
  // Entries per read cache (connections, session tokens, API tokens; storage/
  // cached_repositories.h); 0 reads the database every time. The caches only answer while a
  // ChangeFeed on a dedicated connection vouches for them.
  std::size_t cache_entries = 0;
  ChangeFeed::Options change_feed{};
  // PostgreSQL connections in the pool: as many as threads that query at once (app/ passes the
  // database compartment's threads), so none of them waits for a connection behind another.
  std::size_t postgres_connections = 8;
};

// OpenDatabase(), then Migrate(), then the repositories (cached ones, with a started ChangeFeed,
// when options.cache_entries > 0). `keys` must outlive the store.
core::Result<std::unique_ptr<Store>> OpenStore(const std::string& database_url,
                                               crypto::KeyRing& keys,
                                               const StoreOptions& options = {});

// `database_url` with the password (in the user-info part or a password= query parameter)
// replaced by "****", for logs and error messages.
std::string RedactDatabaseUrl(const std::string& database_url);

}  // namespace keybridge::storage
