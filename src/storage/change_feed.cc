#include "storage/change_feed.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "storage/log.h"

namespace keybridge::storage {
namespace {

std::int64_t SteadyNanos(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// Waits until `fd` is readable or `timeout` passes.
void WaitOn(int fd, std::chrono::milliseconds timeout) {
  pollfd wake{fd, POLLIN, 0};
  ::poll(&wake, 1, static_cast<int>(timeout.count()));
}

}  // namespace

ChangeFeed::ChangeFeed(std::unique_ptr<ChangeSource> source, Options options)
    : source_(std::move(source)), options_(options) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::runtime_error("cannot create the change feed's wake-up pipe");  // start-up only
  }
  wake_read_ = fds[0];
  wake_write_ = fds[1];
}

ChangeFeed::~ChangeFeed() {
  stopping_.store(true);
  const char byte = 0;
  [[maybe_unused]] const ssize_t written = ::write(wake_write_, &byte, 1);
  if (thread_.joinable()) {
    thread_.join();
  }
  ::close(wake_read_);
  ::close(wake_write_);
}

void ChangeFeed::Subscribe(std::function<void(const Change&)> subscriber) {
  subscribers_.push_back(std::move(subscriber));
}

void ChangeFeed::Start() {
  thread_ = std::thread([this] { Run(); });
}

bool ChangeFeed::Current() const {
  return SteadyNanos(std::chrono::steady_clock::now())
         < current_until_.load(std::memory_order_acquire);
}

void ChangeFeed::Deliver(const Change& change) {
  for (const auto& subscriber : subscribers_) {
    subscriber(change);
  }
}

void ChangeFeed::Run() {
  constexpr std::chrono::milliseconds kFirstRetry{100};
  constexpr std::chrono::milliseconds kMaxRetry{2000};
  std::chrono::milliseconds retry = kFirstRetry;
  bool connected = false;
  bool ever_connected = false;
  bool just_connected = false;
  while (!stopping_.load()) {
    if (!connected) {
      if (core::Status status = source_->Connect(); !status.ok()) {
        Log()->warn("change feed: cannot connect ({}); caches stay off, retrying in {} ms",
                    status.error().message, retry.count());
        WaitOn(wake_read_, retry);
        retry = std::min(retry * 2, kMaxRetry);
        continue;
      }
      connected = true;
      connected_.store(true);
      retry = kFirstRetry;
      if (ever_connected) {
        reconnects_.fetch_add(1);
        Log()->info("change feed: reconnected; caches start empty");
      }
      ever_connected = true;
      just_connected = true;
      // Anything may have changed while nobody listened.
      Deliver(Change{});
    }
    // Right after connecting, confirm at once: the caches start answering a round trip later.
    const std::chrono::milliseconds wait =
        just_connected ? std::chrono::milliseconds(0) : options_.poll_interval;
    just_connected = false;
    core::Result<std::chrono::steady_clock::time_point> began =
        source_->Poll(wait, options_.round_trip_timeout, wake_read_,
                      [this](const Change& change) { Deliver(change); });
    if (!began.ok()) {
      current_until_.store(0, std::memory_order_release);
      connected = false;
      connected_.store(false);
      Log()->warn("change feed: {}; caches off until it reconnects", began.error().message);
      continue;
    }
    current_until_.store(SteadyNanos(*began + options_.promise), std::memory_order_release);
  }
  current_until_.store(0, std::memory_order_release);
}

}  // namespace keybridge::storage
