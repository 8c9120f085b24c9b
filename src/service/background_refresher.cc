#include "service/background_refresher.h"

#include <spdlog/spdlog.h>

namespace keybridge::service {

BackgroundRefresher::BackgroundRefresher(core::ConnectionRepository& connections,
                                         TokenService& tokens, const core::Clock& clock,
                                         core::Random& random, BackgroundRefresherOptions options)
    : connections_(connections),
      tokens_(tokens),
      clock_(clock),
      random_(random),
      options_(options) {}

BackgroundRefresher::~BackgroundRefresher() {
  Stop();
}

void BackgroundRefresher::Start() {
  std::lock_guard lock(mu_);
  if (!thread_.joinable()) {
    stopping_ = false;
    thread_ = std::thread([this] { Loop(); });
  }
}

void BackgroundRefresher::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

std::size_t BackgroundRefresher::RunOnce() {
  auto claimed = connections_.ClaimDueRefreshes(clock_.Now(), options_.claim_for, options_.batch);
  if (!claimed.ok()) {
    spdlog::warn("background refresh: cannot claim due connections: {}", claimed.error().message);
    return 0;
  }
  std::size_t refreshed = 0;
  for (const auto& id : *claimed) {
    auto status = tokens_.KeepAlive(id);
    if (status.ok()) {
      ++refreshed;
    } else {
      spdlog::warn("background refresh of connection {} failed: {}", id.value(),
                   status.error().message);
    }
  }
  if (!claimed->empty()) {
    spdlog::info("background refresh: {} of {} due connections refreshed", refreshed,
                 claimed->size());
  }
  return refreshed;
}

void BackgroundRefresher::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    // Jitter of +-20 % so replicas started together spread out.
    const auto byte = static_cast<unsigned char>(random_.Bytes(1)[0]);
    const auto base = std::chrono::duration_cast<std::chrono::milliseconds>(options_.interval);
    const auto jitter = base * (static_cast<int>(byte) - 128) / 640;
    wake_.wait_for(lock, base + jitter, [this] { return stopping_; });
    if (stopping_) {
      break;
    }
    lock.unlock();
    RunOnce();
    lock.lock();
  }
}

}  // namespace keybridge::service
