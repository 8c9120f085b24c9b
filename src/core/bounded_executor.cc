#include "core/bounded_executor.h"

#include <algorithm>

namespace keybridge::core {

BoundedExecutor::BoundedExecutor(BoundedExecutorOptions options) : options_(std::move(options)) {
  options_.threads = std::max<std::size_t>(options_.threads, 1);
  workers_.reserve(options_.threads);
  for (std::size_t i = 0; i < options_.threads; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

// Shutdown only throws if a thread cannot be joined; terminating then is the right outcome.
BoundedExecutor::~BoundedExecutor() {  // NOLINT(bugprone-exception-escape)
  Shutdown();
}

Error BoundedExecutor::FullError() const {
  return MakeError(options_.when_full,
                   "The server is busy (" + options_.name + "); retry in "
                       + std::to_string(options_.retry_after.count()) + " s",
                   "compartment " + options_.name + " is full")
      .WithRetryAfter(options_.retry_after);
}

Error BoundedExecutor::ShutdownError() const {
  return MakeError(ErrorCode::kUnavailable, "The server is shutting down; retry later",
                   "compartment " + options_.name + " is shut down")
      .WithRetryAfter(options_.retry_after);
}

Status BoundedExecutor::TrySubmit(std::function<void()> run, std::function<void()> on_cancel) {
  {
    const std::lock_guard lock(mutex_);
    if (shutting_down_) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      return ShutdownError();
    }
    // in_flight_ only grows under mutex_, so this never admits more than N + Q.
    if (queue_.size() + in_flight_.load(std::memory_order_relaxed)
        >= options_.threads + options_.queue_capacity) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      return FullError();
    }
    queue_.push_back(Task{std::move(run), std::move(on_cancel)});
    queued_.store(queue_.size(), std::memory_order_relaxed);
  }
  wake_.notify_one();
  return OkStatus();
}

void BoundedExecutor::WorkerLoop() {
  while (true) {
    Task task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return shutting_down_ || !queue_.empty(); });
      if (queue_.empty()) {
        return;  // shutting down and nothing left (Shutdown empties the queue itself)
      }
      task = std::move(queue_.front());
      queue_.pop_front();
      queued_.store(queue_.size(), std::memory_order_relaxed);
      in_flight_.fetch_add(1, std::memory_order_relaxed);
    }
    try {
      task.run();
    } catch (...) {
      // A throwing task is a bug in the task; the worker must survive it.
      failed_.fetch_add(1, std::memory_order_relaxed);
    }
    task = Task{};  // release captures before the slot counts as free
    completed_.fetch_add(1, std::memory_order_relaxed);
    in_flight_.fetch_sub(1, std::memory_order_release);
  }
}

void BoundedExecutor::Shutdown() {
  const std::lock_guard join_lock(join_mutex_);
  if (joined_) {
    return;
  }
  std::deque<Task> dropped;
  {
    const std::lock_guard lock(mutex_);
    shutting_down_ = true;
    dropped.swap(queue_);
    queued_.store(0, std::memory_order_relaxed);
  }
  wake_.notify_all();
  for (Task& task : dropped) {
    cancelled_.fetch_add(1, std::memory_order_relaxed);
    if (task.on_cancel) {
      try {
        task.on_cancel();
      } catch (...) {
        // Releasing a waiter must not stop the others from being released.
      }
    }
  }
  for (std::thread& worker : workers_) {
    worker.join();
  }
  joined_ = true;
}

BoundedExecutorStats BoundedExecutor::Stats() const {
  BoundedExecutorStats stats;
  stats.in_flight = in_flight_.load(std::memory_order_relaxed);
  stats.queued = queued_.load(std::memory_order_relaxed);
  stats.rejected = rejected_.load(std::memory_order_relaxed);
  stats.completed = completed_.load(std::memory_order_relaxed);
  stats.failed = failed_.load(std::memory_order_relaxed);
  stats.cancelled = cancelled_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace keybridge::core
