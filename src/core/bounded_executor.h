// BoundedExecutor: a named compartment of N worker threads with a queue of at most Q tasks, for
// work that waits on the outside world (providers, repository probes, JWKS, the database). When
// N tasks run and Q wait, TrySubmit refuses at once with kUnavailable instead of queueing without
// bound, so a slow dependency fills its own compartment and nothing else. It lives in core
// because it needs only the standard library and every layer (http, service, net, metrics) uses
// it or reads its counters.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/result.h"

namespace keybridge::core {

struct BoundedExecutorOptions {
  std::string name = "default";     // the compartment label in errors and metrics
  std::size_t threads = 4;          // concurrency limit N (at least 1)
  std::size_t queue_capacity = 16;  // tasks allowed to wait for a thread, Q (may be 0)
  // What a refused caller is told to wait before retrying (HTTP Retry-After).
  std::chrono::seconds retry_after{1};
  // The code of the "full" refusal: kUnavailable (503) when the server is busy, kTooManyRequests
  // (429) for a compartment that rations what callers may ask for (the anonymous repository
  // probe).
  ErrorCode when_full = ErrorCode::kUnavailable;
};

// A snapshot of the live counters; each field is read atomically, the set is not one instant.
struct BoundedExecutorStats {
  std::size_t in_flight = 0;    // tasks running on a worker now
  std::size_t queued = 0;       // tasks accepted and waiting for a worker
  std::uint64_t rejected = 0;   // TrySubmit refusals (full or shut down) since construction
  std::uint64_t completed = 0;  // tasks that ran to the end (including those that threw)
  std::uint64_t failed = 0;     // of those, tasks that threw
  std::uint64_t cancelled = 0;  // accepted tasks dropped by Shutdown before they ran
};

class BoundedExecutor {
 public:
  // Starts the worker threads; throws std::system_error (start-up only) if it cannot.
  explicit BoundedExecutor(BoundedExecutorOptions options);
  ~BoundedExecutor();  // Shutdown()
  BoundedExecutor(const BoundedExecutor&) = delete;
  BoundedExecutor& operator=(const BoundedExecutor&) = delete;
  BoundedExecutor(BoundedExecutor&&) = delete;
  BoundedExecutor& operator=(BoundedExecutor&&) = delete;

  // Accepts `run` or refuses at once with kUnavailable (full, or shut down). An exception thrown
  // by `run` is caught and counted as failed; the worker lives on. If Shutdown drops the task
  // before it runs, `on_cancel` (if any) is called instead, on the thread calling Shutdown, so a
  // caller waiting for the task is always released.
  Status TrySubmit(std::function<void()> run, std::function<void()> on_cancel = {});

  // Runs `work` on a worker and hands its result to `done` exactly once (on the worker thread):
  // the value, the Error it returned, kInternal if it threw, or kUnavailable if Shutdown dropped
  // it. When the compartment is full, returns kUnavailable and never calls `done`.
  template <typename T>
  Status TrySubmit(std::function<Result<T>()> work, std::function<void(Result<T>)> done) {
    auto shared_done = std::make_shared<std::function<void(Result<T>)>>(std::move(done));
    auto run = [this, work = std::move(work), shared_done] {
      (*shared_done)(RunCatching(work));
    };
    auto cancel = [this, shared_done] {
      (*shared_done)(Result<T>(ShutdownError()));
    };
    return TrySubmit(std::move(run), std::move(cancel));
  }

  // The same with a future: a refusal is the outer error; the future always becomes ready.
  template <typename T>
  Result<std::future<Result<T>>> Submit(std::function<Result<T>()> work) {
    auto promise = std::make_shared<std::promise<Result<T>>>();
    std::future<Result<T>> future = promise->get_future();
    Status accepted = TrySubmit<T>(
        std::move(work), [promise](Result<T> result) { promise->set_value(std::move(result)); });
    if (!accepted.ok()) {
      return std::move(accepted).TakeError();
    }
    return future;
  }

  // Refuses new tasks, drops the queued ones (their on_cancel runs), lets running tasks finish
  // and joins the workers. Idempotent. Must not be called from one of this executor's tasks.
  void Shutdown();

  BoundedExecutorStats Stats() const;
  const std::string& name() const { return options_.name; }
  std::chrono::seconds retry_after() const { return options_.retry_after; }
  std::size_t threads() const { return options_.threads; }
  std::size_t queue_capacity() const { return options_.queue_capacity; }

 private:
  struct Task {
    std::function<void()> run;
    std::function<void()> on_cancel;
  };

  template <typename T>
  Result<T> RunCatching(const std::function<Result<T>()>& work) {
    try {
      return work();
    } catch (const std::exception& e) {
      failed_.fetch_add(1, std::memory_order_relaxed);
      return MakeError(ErrorCode::kInternal, "",
                       "task in compartment " + options_.name + " threw: " + e.what());
    } catch (...) {
      failed_.fetch_add(1, std::memory_order_relaxed);
      return MakeError(ErrorCode::kInternal, "",
                       "task in compartment " + options_.name + " threw a non-exception");
    }
  }
  Error FullError() const;
  Error ShutdownError() const;
  void WorkerLoop();

  BoundedExecutorOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Task> queue_;
  bool shutting_down_ = false;
  bool joined_ = false;
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::atomic<std::uint64_t> completed_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> cancelled_{0};
  std::mutex join_mutex_;
  std::vector<std::thread> workers_;
};

}  // namespace keybridge::core
