// ChangeFeed: tells this process's read caches what changed in the database, whichever process
// changed it, and whether it can vouch right now that nothing is missing. It is what makes the
// revocation promise hold (ARCHITECTURE.md, "Caches"): a revoked session token, a deleted
// connection or a token refreshed by another replica is seen by every replica within
// `promise` (1 s).
//
// One thread per process holds a dedicated connection (its ChangeSource) and loops: deliver the
// changes that arrived, then confirm with a round trip to the database that every change committed
// before the round trip began has been delivered. The caches answer only while the last
// confirmation began less than `promise` ago (Current()). So a change committed at time T is
// either delivered by T + promise, or the caches stop answering by then: a lost connection, a
// stalled database or a stuck thread can make keybridge slower (reads go to the database), never
// stale. After a reconnect the subscribers are told that everything may have changed.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"

namespace keybridge::storage {

// One changed row: its table and key (the key the caches use: a connection id, a token hash...).
// An empty table means anything may have changed.
struct Change {
  std::string table;
  std::string key;
};

// A dedicated connection that reports changes. Used by the ChangeFeed's thread only.
class ChangeSource {
 public:
  virtual ~ChangeSource() = default;
  // (Re)connects and starts listening. kUnavailable if the database cannot be reached.
  virtual core::Status Connect() = 0;
  // Delivers changes as they arrive for about `wait` (returning early when `wake_fd` becomes
  // readable), then makes a round trip to the database. Returns when that round trip began: every
  // change committed before then has been delivered. kUnavailable when the connection is lost or
  // the round trip took longer than `round_trip_timeout` (Connect again).
  virtual core::Result<std::chrono::steady_clock::time_point> Poll(
      std::chrono::milliseconds wait, std::chrono::milliseconds round_trip_timeout, int wake_fd,
      const std::function<void(const Change&)>& deliver) = 0;
};

// PostgreSQL: LISTEN on the channel the triggers of migration 0007 notify (NOTIFY is
// transactional: a change is announced when, and only if, it commits). `conninfo` as for
// OpenPostgresDatabase; never logged.
std::unique_ptr<ChangeSource> MakePostgresChangeSource(std::string conninfo);
// SQLite: `PRAGMA data_version`, which changes when another connection (or process, such as
// `keybridge tokens revoke`) commits; it cannot say what changed, so it reports everything.
std::unique_ptr<ChangeSource> MakeSqliteChangeSource(std::string path);

// What a ReadCache asks before it answers (ChangeFeed in production, a switch in tests).
class CacheValidity {
 public:
  virtual ~CacheValidity() = default;
  // Whether cached rows may be used now. Lock-free, cheap: asked on every cache read.
  virtual bool Current() const = 0;
};

// The PostgreSQL channel.
inline constexpr std::string_view kChangeChannel = "keybridge_changes";

class ChangeFeed final : public CacheValidity {
 public:
  struct Options {
    // The staleness the caches may show at most.
    std::chrono::milliseconds promise{1000};
    // How long each Poll waits for changes before its round trip.
    std::chrono::milliseconds poll_interval{200};
    // A round trip slower than this drops the connection (the caches stopped answering already).
    std::chrono::milliseconds round_trip_timeout{2000};
  };

  ChangeFeed(std::unique_ptr<ChangeSource> source, Options options);
  ~ChangeFeed() override;  // stops the thread
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;
  ChangeFeed(ChangeFeed&&) = delete;
  ChangeFeed& operator=(ChangeFeed&&) = delete;

  // Called on the feed's thread for every change; Change{"", ""} after every (re)connect. Add all
  // subscribers before Start().
  void Subscribe(std::function<void(const Change&)> subscriber);
  void Start();

  // Whether the caches may answer now: the last confirmation began less than `promise` ago.
  bool Current() const override;
  // Whether the source is connected (for /readyz and metrics).
  bool Connected() const { return connected_.load(std::memory_order_relaxed); }
  std::uint64_t Reconnects() const { return reconnects_.load(std::memory_order_relaxed); }

 private:
  void Run();
  void Deliver(const Change& change);

  std::unique_ptr<ChangeSource> source_;
  const Options options_;
  std::vector<std::function<void(const Change&)>> subscribers_;
  // Steady-clock nanoseconds until which the caches may answer.
  std::atomic<std::int64_t> current_until_{0};
  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> reconnects_{0};
  std::atomic<bool> stopping_{false};
  int wake_read_ = -1;
  int wake_write_ = -1;
  std::thread thread_;
};

}  // namespace keybridge::storage
