#include "core/bounded_executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <latch>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace keybridge::core {
namespace {

// Holds every task that calls Wait() until Open(); counts how many are inside.
class Gate {
 public:
  void Wait() {
    std::unique_lock lock(mutex_);
    ++inside_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
  }
  void WaitUntilInside(int n) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return inside_ >= n; });
  }
  void Open() {
    const std::lock_guard lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int inside_ = 0;
  bool open_ = false;
};

BoundedExecutorOptions Options(std::size_t threads, std::size_t queue) {
  BoundedExecutorOptions options;
  options.name = "probe";
  options.threads = threads;
  options.queue_capacity = queue;
  options.retry_after = std::chrono::seconds(3);
  return options;
}

TEST(BoundedExecutor, RunsWorkAndReturnsItsResult) {
  BoundedExecutor executor(Options(2, 2));

  auto future = executor.Submit<int>([]() -> Result<int> { return 42; });

  ASSERT_TRUE(future.ok());
  auto result = future->get();
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, 42);
}

TEST(BoundedExecutor, NeverRunsMoreThanItsThreadsAtOnceAndRefusesPastTheQueue) {
  BoundedExecutor executor(Options(2, 1));
  Gate gate;
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  std::function<Result<int>()> hold = [&]() -> Result<int> {
    const int now = ++running;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
    gate.Wait();
    --running;
    return now;
  };

  auto first = executor.Submit<int>(hold);
  auto second = executor.Submit<int>(hold);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  gate.WaitUntilInside(2);
  auto third = executor.Submit<int>(hold);  // queued: both threads busy
  ASSERT_TRUE(third.ok());
  const auto refused = executor.Submit<int>(hold);

  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(refused.error().message.find("probe"), std::string::npos);
  const BoundedExecutorStats full = executor.Stats();
  EXPECT_EQ(full.in_flight, 2U);
  EXPECT_EQ(full.queued, 1U);
  EXPECT_EQ(full.rejected, 1U);

  gate.Open();
  for (auto* future : {&*first, &*second, &*third}) {
    EXPECT_TRUE(future->get().ok());
  }
  executor.Shutdown();  // nothing left queued: joins, so the counters are final
  EXPECT_EQ(peak.load(), 2);
  const BoundedExecutorStats done = executor.Stats();
  EXPECT_EQ(done.completed, 3U);
  EXPECT_EQ(done.cancelled, 0U);
  EXPECT_EQ(done.in_flight, 0U);
  EXPECT_EQ(done.queued, 0U);
}

TEST(BoundedExecutor, ZeroQueueIsAPureConcurrencyLimit) {
  BoundedExecutor executor(Options(1, 0));
  Gate gate;

  ASSERT_TRUE(executor.TrySubmit([&] { gate.Wait(); }).ok());
  gate.WaitUntilInside(1);

  EXPECT_FALSE(executor.TrySubmit([] {}).ok());
  gate.Open();
}

TEST(BoundedExecutor, AcceptsAgainOnceATaskFinishes) {
  BoundedExecutor executor(Options(1, 0));
  auto first = executor.Submit<int>([]() -> Result<int> { return 1; });
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->get().ok());

  // The slot is freed just after the result is handed over; a retry loop without sleeping
  // shows the compartment does not stay full.
  Result<std::future<Result<int>>> second = MakeError(ErrorCode::kInternal, "");
  while (!(second = executor.Submit<int>([]() -> Result<int> { return 2; })).ok()) {
    std::this_thread::yield();
  }
  EXPECT_EQ(*second->get(), 2);
}

TEST(BoundedExecutor, AThrowingTaskBecomesAnErrorAndTheWorkerSurvives) {
  BoundedExecutor executor(Options(1, 4));

  auto thrown = executor.Submit<int>([]() -> Result<int> { throw std::runtime_error("boom"); });
  auto raw = executor.TrySubmit([] { throw 7; });
  auto after = executor.Submit<int>([]() -> Result<int> { return 5; });

  ASSERT_TRUE(thrown.ok());
  auto error = thrown->get();
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error().code, ErrorCode::kInternal);
  EXPECT_NE(error.error().detail.find("boom"), std::string::npos);
  EXPECT_TRUE(raw.ok());
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after->get(), 5);  // the single worker is still alive
  executor.Shutdown();
  EXPECT_EQ(executor.Stats().failed, 2U);
  EXPECT_EQ(executor.Stats().completed, 3U);
}

TEST(BoundedExecutor, ShutdownCancelsQueuedWorkReleasesWaitersAndRefusesNewWork) {
  BoundedExecutor executor(Options(1, 2));
  Gate gate;
  ASSERT_TRUE(executor.TrySubmit([&] { gate.Wait(); }).ok());
  gate.WaitUntilInside(1);
  auto queued_a = executor.Submit<int>([]() -> Result<int> { return 1; });
  auto queued_b = executor.Submit<int>([]() -> Result<int> { return 2; });
  ASSERT_TRUE(queued_a.ok());
  ASSERT_TRUE(queued_b.ok());

  // Shutdown waits for the running task; open the gate only once the queue has been dropped.
  std::thread stopper([&] { executor.Shutdown(); });
  auto a = queued_a->get();  // released by Shutdown, not by the task running
  auto b = queued_b->get();
  gate.Open();
  stopper.join();

  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, ErrorCode::kUnavailable);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(executor.Stats().cancelled, 2U);
  EXPECT_EQ(executor.Stats().completed, 1U);
  const Status late = executor.TrySubmit([] {});
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::kUnavailable);
  executor.Shutdown();  // idempotent
}

TEST(BoundedExecutor, RunsTasksInParallelUpToItsThreads) {
  BoundedExecutor executor(Options(3, 0));
  std::latch all_inside(3);
  std::vector<std::future<Result<int>>> futures;

  for (int i = 0; i < 3; ++i) {
    auto future = executor.Submit<int>([&, i]() -> Result<int> {
      all_inside.arrive_and_wait();  // deadlocks unless three tasks run at once
      return i;
    });
    ASSERT_TRUE(future.ok());
    futures.push_back(std::move(*future));
  }

  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(*futures[static_cast<std::size_t>(i)].get(), i);
  }
}

}  // namespace
}  // namespace keybridge::core
