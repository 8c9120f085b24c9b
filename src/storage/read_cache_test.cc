#include "storage/read_cache.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>

#include "storage/change_feed.h"

namespace keybridge::storage {
namespace {

struct Switch final : CacheValidity {
  bool Current() const override { return current; }
  bool current = true;
};

TEST(ReadCacheTest, AnswersWhatWasFilled) {
  Switch feed;
  ReadCache<std::string> cache("things", 4, feed);

  EXPECT_FALSE(cache.Get("a").has_value());
  cache.Fill("a", "A", cache.BeginFill());

  EXPECT_EQ(cache.Get("a"), "A");
  const ReadCacheStats stats = cache.Stats();
  EXPECT_EQ(stats.hits, 1U);
  EXPECT_EQ(stats.misses, 1U);
  EXPECT_EQ(stats.entries, 1U);
}

TEST(ReadCacheTest, NeitherAnswersNorFillsWhileTheFeedCannotVouch) {
  Switch feed;
  ReadCache<std::string> cache("things", 4, feed);
  cache.Fill("a", "A", cache.BeginFill());

  feed.current = false;
  EXPECT_FALSE(cache.Get("a").has_value());
  cache.Fill("b", "B", cache.BeginFill());
  feed.current = true;

  EXPECT_FALSE(cache.Get("b").has_value());
  EXPECT_EQ(cache.Stats().bypassed, 1U);
}

TEST(ReadCacheTest, AFillThatRacedAnInvalidationIsDropped) {
  // A reader read the old row, another replica changed it and its notification arrived, then
  // the reader tries to store what it read: it must not.
  Switch feed;
  ReadCache<std::string> cache("things", 4, feed);
  const auto ticket = cache.BeginFill();
  cache.Invalidate("a");
  cache.Fill("a", "old", ticket);

  EXPECT_FALSE(cache.Get("a").has_value());
  cache.Fill("a", "new", cache.BeginFill());
  EXPECT_EQ(cache.Get("a"), "new");
}

TEST(ReadCacheTest, InvalidateAndClearDropEntries) {
  Switch feed;
  ReadCache<std::string> cache("things", 4, feed);
  cache.Fill("a", "A", cache.BeginFill());
  cache.Fill("b", "B", cache.BeginFill());

  cache.Invalidate("a");
  EXPECT_FALSE(cache.Get("a").has_value());
  EXPECT_EQ(cache.Get("b"), "B");
  cache.Clear();
  EXPECT_FALSE(cache.Get("b").has_value());
  EXPECT_EQ(cache.Stats().invalidations, 2U);
}

TEST(ReadCacheTest, EvictsTheLeastRecentlyUsedWhenFull) {
  Switch feed;
  ReadCache<std::string> cache("things", 2, feed);
  cache.Fill("a", "A", cache.BeginFill());
  cache.Fill("b", "B", cache.BeginFill());
  ASSERT_EQ(cache.Get("a"), "A");  // b is now the least recently used

  cache.Fill("c", "C", cache.BeginFill());

  EXPECT_FALSE(cache.Get("b").has_value());
  EXPECT_EQ(cache.Get("a"), "A");
  EXPECT_EQ(cache.Get("c"), "C");
  EXPECT_EQ(cache.Stats().evictions, 1U);
  EXPECT_EQ(cache.Stats().entries, 2U);
}

// A ChangeSource the test drives: each Poll takes the next scripted step, waiting for one if
// there is none yet.
class ScriptedSource final : public ChangeSource {
 public:
  struct Step {
    std::vector<Change> changes;
    bool fail = false;
  };

  void Push(Step step) {
    std::lock_guard lock(mu_);
    steps_.push_back(std::move(step));
    cv_.notify_all();
  }
  int connects() const {
    std::lock_guard lock(mu_);
    return connects_;
  }

  core::Status Connect() override {
    std::lock_guard lock(mu_);
    ++connects_;
    return core::OkStatus();
  }
  core::Result<std::chrono::steady_clock::time_point> Poll(
      std::chrono::milliseconds /*wait*/, std::chrono::milliseconds /*round_trip_timeout*/,
      int wake_fd, const std::function<void(const Change&)>& deliver) override {
    std::unique_lock lock(mu_);
    // Wakes up for a step or for the feed's stop (its wake pipe).
    while (steps_.empty()) {
      if (cv_.wait_for(lock, std::chrono::milliseconds(20)) == std::cv_status::timeout
          && WakeRequested(wake_fd)) {
        return core::MakeError(core::ErrorCode::kUnavailable, "stopping");
      }
    }
    Step step = std::move(steps_.front());
    steps_.pop_front();
    lock.unlock();
    if (step.fail) {
      return core::MakeError(core::ErrorCode::kUnavailable, "connection lost");
    }
    const auto began = std::chrono::steady_clock::now();
    for (const Change& change : step.changes) {
      deliver(change);
    }
    return began;
  }

 private:
  static bool WakeRequested(int fd) {
    pollfd wake{fd, POLLIN, 0};
    return ::poll(&wake, 1, 0) > 0;
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Step> steps_;
  int connects_ = 0;
};

// Records what the feed delivered and lets the test wait for a count.
struct Recorder {
  void operator()(const Change& change) {
    std::lock_guard lock(mu);
    seen.push_back(change);
    cv.notify_all();
  }
  bool WaitFor(std::size_t count) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return seen.size() >= count; });
  }
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Change> seen;
};

TEST(ChangeFeedTest, VouchesOnlyAfterAConfirmationAndSaysEverythingChangedOnConnect) {
  auto source = std::make_unique<ScriptedSource>();
  ScriptedSource& script = *source;
  ChangeFeed feed(std::move(source), ChangeFeed::Options{.promise = std::chrono::seconds(60)});
  Recorder recorder;
  feed.Subscribe([&](const Change& change) { recorder(change); });
  feed.Start();

  ASSERT_TRUE(recorder.WaitFor(1));
  EXPECT_TRUE(recorder.seen[0].table.empty());  // "everything" after connecting
  EXPECT_FALSE(feed.Current());                 // nothing confirmed yet

  script.Push({{Change{"session_tokens", "abc"}}});
  ASSERT_TRUE(recorder.WaitFor(2));
  EXPECT_EQ(recorder.seen[1].table, "session_tokens");
  EXPECT_EQ(recorder.seen[1].key, "abc");
  // The confirmation is stored right after the changes are delivered.
  script.Push({});
  ScriptedSource::Step marker{{Change{"marker", ""}}};
  script.Push(marker);
  ASSERT_TRUE(recorder.WaitFor(3));
  EXPECT_TRUE(feed.Current());
}

TEST(ChangeFeedTest, ALostConnectionStopsTheCachesAtOnceAndReconnectsWithEverythingChanged) {
  auto source = std::make_unique<ScriptedSource>();
  ScriptedSource& script = *source;
  ChangeFeed feed(std::move(source), ChangeFeed::Options{.promise = std::chrono::seconds(60)});
  Recorder recorder;
  feed.Subscribe([&](const Change& change) { recorder(change); });
  feed.Start();
  script.Push({{Change{"marker", "1"}}});
  script.Push({});
  script.Push({{Change{"marker", "2"}}});
  ASSERT_TRUE(recorder.WaitFor(3));
  ASSERT_TRUE(feed.Current());

  script.Push({.changes = {}, .fail = true});
  ASSERT_TRUE(recorder.WaitFor(4));  // the reconnect's "everything"

  EXPECT_TRUE(recorder.seen[3].table.empty());
  EXPECT_EQ(script.connects(), 2);
  EXPECT_EQ(feed.Reconnects(), 1U);
  EXPECT_FALSE(feed.Current());  // not until the new connection confirms
}

TEST(ChangeFeedTest, AConfirmationOlderThanThePromiseNoLongerVouches) {
  auto source = std::make_unique<ScriptedSource>();
  ScriptedSource& script = *source;
  ChangeFeed feed(std::move(source),
                  ChangeFeed::Options{.promise = std::chrono::milliseconds(500)});
  Recorder recorder;
  feed.Subscribe([&](const Change& change) { recorder(change); });
  feed.Start();
  script.Push({});
  script.Push({{Change{"marker", ""}}});
  ASSERT_TRUE(recorder.WaitFor(2));  // the first Poll's confirmation is stored
  EXPECT_TRUE(feed.Current());

  // The next Poll never returns (a stalled database): the promise runs out on its own, and the
  // caches stop answering although nothing said the connection was lost.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (feed.Current() && std::chrono::steady_clock::now() < deadline) {
  }

  EXPECT_FALSE(feed.Current());
}

}  // namespace
}  // namespace keybridge::storage
