// AuditLog: events are queued without touching the repository, written in batches, bounded
// (overflow dropped and counted, never blocking), kept on a failed write, flushed on Stop, and
// pruned by retention; a token hand-out records the fingerprint, never the token.
#include "service/audit_log.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <vector>

#include "crypto/hash.h"
#include "support/fake_clock.h"
#include "support/in_memory_audit.h"

namespace keybridge::service {
namespace {

// Counts Append calls and can be told to fail; signals the first successful Append.
class RecordingRepository final : public core::AuditRepository {
 public:
  core::Status Append(const std::vector<core::AuditEvent>& events) override {
    std::lock_guard lock(mu_);
    ++appends_;
    if (fail_) {
      return core::MakeError(core::ErrorCode::kUnavailable, "database down");
    }
    batch_sizes_.push_back(events.size());
    static_cast<void>(inner_.Append(events));
    if (!signalled_) {
      signalled_ = true;
      first_append_.set_value();
    }
    return core::OkStatus();
  }
  core::Result<core::AuditPage> List(const core::AuditQuery& query) override {
    return inner_.List(query);
  }
  core::Result<std::int64_t> DeleteBefore(core::TimePoint before) override {
    return inner_.DeleteBefore(before);
  }
  void set_fail(bool fail) {
    std::lock_guard lock(mu_);
    fail_ = fail;
  }
  std::vector<std::size_t> batch_sizes() {
    std::lock_guard lock(mu_);
    return batch_sizes_;
  }
  int appends() {
    std::lock_guard lock(mu_);
    return appends_;
  }
  std::future<void> first_append() { return first_append_.get_future(); }
  std::int64_t stored() {
    core::AuditQuery all;
    all.limit = 1'000'000;
    return inner_.List(all)->total;
  }

 private:
  std::mutex mu_;
  bool fail_ = false;
  int appends_ = 0;
  bool signalled_ = false;
  std::promise<void> first_append_;
  std::vector<std::size_t> batch_sizes_;
  testing::InMemoryAuditRepository inner_;
};

core::AuditEvent Event(const std::string& user) {
  core::AuditEvent event;
  event.kind = core::AuditKind::kSignedIn;
  event.actor = core::UserId(user);
  return event;
}

TEST(AuditLogTest, RecordQueuesWithoutWritingAndStampsTheTime) {
  RecordingRepository repository;
  testing::FakeClock clock;
  AuditLog log(repository, clock);
  log.Record(Event("u1"));
  EXPECT_EQ(log.queued(), 1u);
  EXPECT_EQ(repository.appends(), 0);
  log.Flush();
  auto page = repository.List({});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 1u);
  EXPECT_EQ(page->events[0].time, clock.Now());
}

TEST(AuditLogTest, WritesInBatches) {
  RecordingRepository repository;
  testing::FakeClock clock;
  AuditLog log(repository, clock, {.capacity = 100, .batch = 3});
  for (int i = 0; i < 7; ++i) {
    log.Record(Event("u" + std::to_string(i)));
  }
  EXPECT_EQ(log.WriteBatch(), 3u);
  log.Flush();
  EXPECT_EQ(repository.batch_sizes(), (std::vector<std::size_t>{3, 3, 1}));
  EXPECT_EQ(log.written(), 7u);
  EXPECT_EQ(log.queued(), 0u);
}

TEST(AuditLogTest, FullQueueDropsAndCountsWithoutBlocking) {
  RecordingRepository repository;
  testing::FakeClock clock;
  AuditLog log(repository, clock, {.capacity = 2, .batch = 10});
  for (int i = 0; i < 5; ++i) {
    log.Record(Event("u" + std::to_string(i)));
  }
  EXPECT_EQ(log.queued(), 2u);
  EXPECT_EQ(log.dropped(), 3u);
  log.Flush();
  EXPECT_EQ(repository.stored(), 2);
}

TEST(AuditLogTest, FailedWriteKeepsTheBatchForTheNextAttempt) {
  RecordingRepository repository;
  testing::FakeClock clock;
  AuditLog log(repository, clock, {.capacity = 10, .batch = 10});
  log.Record(Event("u1"));
  log.Record(Event("u2"));
  repository.set_fail(true);
  EXPECT_EQ(log.WriteBatch(), 0u);
  EXPECT_EQ(log.queued(), 2u);
  EXPECT_EQ(log.dropped(), 0u);
  repository.set_fail(false);
  log.Flush();
  EXPECT_EQ(repository.stored(), 2);
  auto page = repository.List({});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->events[0].actor.value(), "u2");  // order kept: newest first
}

TEST(AuditLogTest, BackgroundThreadWritesAFullBatchAndStopFlushesTheRest) {
  RecordingRepository repository;
  testing::FakeClock clock;
  AuditLog log(repository, clock, {.capacity = 100, .batch = 2});
  auto first = repository.first_append();
  log.Start();
  log.Record(Event("u1"));
  log.Record(Event("u2"));  // a full batch wakes the writer
  first.wait();
  log.Record(Event("u3"));
  log.Stop();
  EXPECT_EQ(repository.stored(), 3);
  EXPECT_EQ(log.queued(), 0u);
}

TEST(AuditLogTest, PruneDeletesOlderThanRetentionAndZeroKeepsEverything) {
  RecordingRepository repository;
  testing::FakeClock clock;
  AuditLog log(repository, clock, {.retention = core::Seconds(100)});
  log.Record(Event("old"));
  clock.Advance(core::Seconds(50));
  log.Record(Event("new"));
  log.Flush();
  clock.Advance(core::Seconds(60));  // "old" is 110 s old, "new" 60 s
  auto pruned = log.Prune();
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 1);
  EXPECT_EQ(repository.stored(), 1);

  AuditLog forever(repository, clock, {.retention = core::Seconds(0)});
  clock.Advance(core::Seconds(1'000));
  auto none = forever.Prune();
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
  EXPECT_EQ(repository.stored(), 1);
}

TEST(AuditLogTest, TokenHandoutRecordsFingerprintCallerKindAndSessionTokenNotTheToken) {
  RecordingRepository repository;
  testing::FakeClock clock;
  AuditLog log(repository, clock);
  core::Connection connection;
  connection.id = core::ConnectionId("01CONN");
  connection.provider_id = core::ProviderId("gitlab");
  core::TokenSet token;
  token.access_token = core::Secret("glpat-secret-access-token");
  connection.token = token;
  core::Caller caller = core::Caller::User(core::UserId("u1"));
  caller.session_scope = core::SessionScope{};
  caller.session_scope->token_id = "st-1";
  log.TokenHandedOut(caller, connection, "git-credential", "https://gitlab/group/project");
  log.Flush();
  auto page = repository.List({});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 1u);
  const core::AuditEvent& event = page->events[0];
  EXPECT_EQ(event.kind, core::AuditKind::kTokenHandout);
  EXPECT_EQ(event.caller_kind, "session-token");
  EXPECT_EQ(event.session_token_id, "st-1");
  EXPECT_EQ(event.consumer, "git-credential");
  EXPECT_EQ(event.target, "https://gitlab/group/project");
  EXPECT_EQ(event.token_fingerprint, crypto::Sha256Hex("glpat-secret-access-token").substr(0, 12));
  EXPECT_EQ(event.token_fingerprint.size(), 12u);
  EXPECT_EQ(event.changes.find("glpat"), std::string::npos);
}

}  // namespace
}  // namespace keybridge::service
