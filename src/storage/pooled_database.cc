#include "storage/pooled_database.h"

#include <utility>

#include "core/memory_only.h"
#include "storage/log.h"

namespace keybridge::storage {

// Hands a connection to one caller and gives it back to the pool (or closes it, if it is broken
// or a transaction was left open) when it goes out of scope.
class PooledDatabase::Lease {
 public:
  Lease(PooledDatabase* pool, std::unique_ptr<SqlConnection> connection, bool was_idle)
      : pool_(pool), connection_(std::move(connection)), was_idle_(was_idle) {}
  Lease(Lease&& other) noexcept
      : pool_(other.pool_), connection_(std::move(other.connection_)), was_idle_(other.was_idle_) {}
  Lease& operator=(Lease&&) = delete;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease() {
    if (connection_) {
      pool_->Release(std::move(connection_));
    }
  }

  SqlConnection& operator*() { return *connection_; }
  SqlConnection* operator->() { return connection_.get(); }
  // True if the connection had been idle in the pool, so the server may have dropped it meanwhile.
  bool WasIdle() const { return was_idle_; }

 private:
  PooledDatabase* pool_;
  std::unique_ptr<SqlConnection> connection_;
  bool was_idle_;
};

namespace {

// The Database handed to a transaction body: every statement runs on the transaction's connection.
class TransactionScope final : public Database {
 public:
  TransactionScope(SqlConnection& connection, Dialect dialect)
      : connection_(connection), dialect_(dialect) {}

  core::Result<std::vector<Row>> Query(std::string_view sql, const Params& params) override {
    return connection_.Query(sql, params);
  }
  core::Result<std::int64_t> Execute(std::string_view sql, const Params& params) override {
    return connection_.Execute(sql, params);
  }
  core::Status ExecuteScript(std::string_view sql) override {
    return connection_.ExecuteScript(sql);
  }
  core::Status Transaction(const std::function<core::Status(Database&)>& body) override {
    return body(*this);
  }
  Dialect dialect() const override { return dialect_; }
  core::Status Ping() override {
    KEYBRIDGE_RETURN_IF_ERROR(connection_.Query("SELECT 1", {}));
    return core::OkStatus();
  }

 private:
  SqlConnection& connection_;
  Dialect dialect_;
};

// A statement failed because the connection itself is gone (server restart, idle timeout), not
// because of the statement: the connection is no longer reusable.
template <typename T>
bool LostConnection(const core::Result<T>& result, SqlConnection& connection) {
  return !result.ok() && result.error().code == core::ErrorCode::kUnavailable
         && !connection.Reusable();
}

}  // namespace

std::string SqlForLog(std::string_view sql) {
  constexpr std::size_t kMaxLength = 120;
  std::string out;
  for (const char c : sql) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (space) {
      if (!out.empty() && out.back() != ' ') {
        out.push_back(' ');
      }
    } else {
      out.push_back(c);
    }
    if (out.size() >= kMaxLength) {
      out += "...";
      break;
    }
  }
  return out;
}

PooledDatabase::PooledDatabase(Dialect dialect, ConnectionFactory factory,
                               std::size_t max_connections,
                               std::chrono::milliseconds acquire_timeout)
    : dialect_(dialect),
      factory_(std::move(factory)),
      max_connections_(max_connections),
      acquire_timeout_(acquire_timeout) {}

PooledDatabase::~PooledDatabase() = default;

core::Result<PooledDatabase::Lease> PooledDatabase::Acquire() {
  if (core::MemoryOnlyScope::Active()) {
    // An I/O thread never waits on the database (core/memory_only.h): the route continues on its
    // database compartment.
    return core::MakeError(core::ErrorCode::kWouldWait, "", "a query on a memory-only thread");
  }
  std::unique_lock lock(mu_);
  const auto free = [this] {
    return !idle_.empty() || open_ < max_connections_;
  };
  if (!free()) {
    ++waits_;
    if (!available_.wait_for(lock, acquire_timeout_, free)) {
      ++wait_timeouts_;
      return core::MakeError(core::ErrorCode::kUnavailable, "the database is busy; retry shortly",
                             "no pooled database connection became free within "
                                 + std::to_string(acquire_timeout_.count()) + " ms");
    }
  }
  if (!idle_.empty()) {
    std::unique_ptr<SqlConnection> connection = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(connection), /*was_idle=*/true);
  }
  ++open_;
  lock.unlock();
  core::Result<std::unique_ptr<SqlConnection>> connection = factory_();
  if (!connection.ok()) {
    lock.lock();
    --open_;
    ++connect_failures_;
    available_.notify_one();
    return std::move(connection).TakeError();
  }
  return Lease(this, std::move(connection).value(), /*was_idle=*/false);
}

void PooledDatabase::Release(std::unique_ptr<SqlConnection> connection) {
  const bool reusable = connection->Reusable();
  if (!reusable) {
    connection.reset();  // closes it; the server rolls back whatever was open
  }
  std::lock_guard lock(mu_);
  if (reusable) {
    idle_.push_back(std::move(connection));
  } else {
    --open_;
  }
  available_.notify_one();
}

// A restart of the database server ends every session at once, so when one pooled connection
// turns out to be dead the idle ones are almost surely dead too: closing them all lets the retry,
// and the statements after it, open fresh connections instead of each finding a dead one (after
// a quick restart that would be one failed request per idle connection).
void PooledDatabase::DropIdle() {
  std::vector<std::unique_ptr<SqlConnection>> dropped;
  {
    std::lock_guard lock(mu_);
    dropped.swap(idle_);
    open_ -= dropped.size();
  }
  available_.notify_all();
  // `dropped` closes them here, outside the lock.
}

PoolStats PooledDatabase::Stats() const {
  std::lock_guard lock(mu_);
  return {.max_connections = max_connections_,
          .in_use = open_ - idle_.size(),
          .idle = idle_.size(),
          .waits = waits_,
          .wait_timeouts = wait_timeouts_,
          .connect_failures = connect_failures_};
}

// Reads are retried once on a fresh connection when a pooled one turns out to be dead: that is
// what a database restart looks like to every idle connection. Writes are not retried, since the
// server may have applied them before the connection broke.
core::Result<std::vector<Row>> PooledDatabase::Query(std::string_view sql, const Params& params) {
  for (int attempt = 0;; ++attempt) {
    KEYBRIDGE_ASSIGN_OR_RETURN(Lease lease, Acquire());
    core::Result<std::vector<Row>> rows = lease->Query(sql, params);
    if (LostConnection(rows, *lease)) {
      DropIdle();
      if (attempt == 0 && lease.WasIdle()) {
        Log()->warn("database connection lost; reconnecting");
        continue;
      }
    }
    return rows;
  }
}

core::Result<std::int64_t> PooledDatabase::Execute(std::string_view sql, const Params& params) {
  KEYBRIDGE_ASSIGN_OR_RETURN(Lease lease, Acquire());
  core::Result<std::int64_t> changed = lease->Execute(sql, params);
  if (LostConnection(changed, *lease)) {
    DropIdle();
  }
  return changed;
}

core::Status PooledDatabase::ExecuteScript(std::string_view sql) {
  KEYBRIDGE_ASSIGN_OR_RETURN(Lease lease, Acquire());
  core::Status status = lease->ExecuteScript(sql);
  if (LostConnection(status, *lease)) {
    DropIdle();
  }
  return status;
}

core::Status PooledDatabase::Transaction(const std::function<core::Status(Database&)>& body) {
  for (int attempt = 0;; ++attempt) {
    KEYBRIDGE_ASSIGN_OR_RETURN(Lease lease, Acquire());
    core::Status begun = lease->Begin();
    if (LostConnection(begun, *lease)) {
      DropIdle();
      if (attempt == 0 && lease.WasIdle()) {
        // Nothing has run yet, so starting over on a fresh connection is safe.
        Log()->warn("database connection lost; reconnecting");
        continue;
      }
    }
    KEYBRIDGE_RETURN_IF_ERROR(begun);
    TransactionScope scope(*lease, dialect_);
    core::Status status = body(scope);
    if (status.ok()) {
      status = lease->ExecuteScript("COMMIT");
      if (status.ok()) {
        return status;
      }
    }
    // If the rollback fails too, the transaction stays open and Release() closes the connection.
    static_cast<void>(lease->ExecuteScript("ROLLBACK"));
    if (LostConnection(status, *lease)) {
      DropIdle();
    }
    return status;
  }
}

core::Status PooledDatabase::Ping() {
  KEYBRIDGE_RETURN_IF_ERROR(Query("SELECT 1", {}));
  return core::OkStatus();
}

}  // namespace keybridge::storage
