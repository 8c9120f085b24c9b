// AuditLog: the audit trail's writer. Record() is called on the request path — even on an I/O
// thread answering from memory (ARCHITECTURE.md, "Request lifecycle") — so it never waits on
// the database: it writes one structured log line and puts the event in a bounded queue; a
// background thread appends the queue to the AuditRepository in batches and, hourly, deletes
// events older than the retention. A full queue drops the event (the log line still has it) and
// counts it; Stop() (and the destructor) writes what is queued.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/audit.h"
#include "core/caller.h"
#include "core/clock.h"
#include "core/connection.h"
#include "core/provider.h"

namespace keybridge::service {

struct AuditLogOptions {
  std::size_t capacity = 100'000;  // queued events at most
  std::size_t batch = 500;         // events per INSERT transaction
  // Events older than this are deleted; zero keeps them forever.
  core::Seconds retention = std::chrono::hours(24 * 90);
  std::chrono::milliseconds prune_interval = std::chrono::hours(1);
  // After a failed write, the thread waits this long before trying the same batch again.
  std::chrono::milliseconds retry_after = std::chrono::seconds(1);
};

// The first 12 hex digits of SHA-256 of `token`: enough to tell which token a client was given
// (compare with the fingerprint of a token it presents) without storing anything usable.
std::string TokenFingerprint(std::string_view token);

// An integration's change as JSON {"field": {"before": …, "after": …}} over its fields that are not
// secret (the client secret is never named; a missing side is null: created or deleted).
std::string ProviderChanges(const core::Provider* before, const core::Provider* after);

class AuditLog {
 public:
  AuditLog(core::AuditRepository& repository, const core::Clock& clock,
           AuditLogOptions options = {});
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Starts the background writer. Without it (unit tests) events stay queued until WriteBatch()
  // or Flush().
  void Start();
  // Stops the writer and writes everything still queued (shutdown).
  void Stop();

  // Stamps `event.time` (when unset) and records it; never blocks on I/O.
  void Record(core::AuditEvent event);
  // A token handed out to `caller` for `connection` by `consumer` ("api", "git-credential", …),
  // with the repository or image it was for when known.
  void TokenHandedOut(const core::Caller& caller, const core::Connection& connection,
                      std::string_view consumer, std::string_view target = {});
  // A change made by `caller` (kind other than kTokenHandout).
  void Changed(core::AuditKind kind, const core::Caller& caller, std::string provider_id,
               std::string connection_id = {}, std::string changes = {});

  // Writes up to one batch from the queue now; returns how many were written (0 on failure, the
  // batch then stays queued).
  std::size_t WriteBatch();
  // Writes until the queue is empty or a write fails.
  void Flush();
  // Deletes events older than the retention (nothing when it is zero); returns how many.
  core::Result<std::int64_t> Prune();

  // Reading the trail (from the database, after writing this replica's queue; not the hot path).
  // kPermissionDenied unless the caller is an administrator.
  core::Result<core::AuditPage> List(const core::Caller& caller, const core::AuditQuery& query);
  // The caller's own events (query.user is replaced by the caller); kPermissionDenied for a
  // session token, kUnauthenticated for anonymous callers.
  core::Result<core::AuditPage> ListOwn(const core::Caller& caller, core::AuditQuery query);

  std::uint64_t dropped() const { return dropped_.load(); }
  std::uint64_t written() const { return written_.load(); }
  std::size_t queued() const;

 private:
  // Queues without a log line (Record and TokenHandedOut write their own).
  void Enqueue(core::AuditEvent event);
  void Run();

  core::AuditRepository& repository_;
  const core::Clock& clock_;
  const AuditLogOptions options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<core::AuditEvent> queue_;
  bool stopping_ = false;
  std::mutex write_mu_;  // one writer at a time: the thread, Flush() or WriteBatch()
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> written_{0};
  std::thread thread_;
};

}  // namespace keybridge::service
