#include "service/readiness_monitor.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace keybridge::service {

ReadinessMonitor::ReadinessMonitor(std::function<core::Status()> ping, const core::Clock& clock,
                                   ReadinessMonitorOptions options)
    : ping_(std::move(ping)), clock_(clock), options_(options) {}

ReadinessMonitor::~ReadinessMonitor() {
  Stop();
}

void ReadinessMonitor::Start() {
  CheckNow();
  thread_ = std::thread([this] { Loop(); });
}

void ReadinessMonitor::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void ReadinessMonitor::CheckNow() {
  const core::Status status = ping_();
  DatabaseReadiness now;
  now.reachable = status.ok();
  now.checked_at = clock_.Now();
  if (!status.ok()) {
    now.problem = status.error().message;
  }
  std::lock_guard lock(mu_);
  if (last_.reachable != now.reachable && last_.checked_at) {
    // Transitions only, so a long outage is two log lines, not one per second.
    if (now.reachable) {
      spdlog::info("the database answers again");
    } else {
      spdlog::warn("the database does not answer: {}{}{}", now.problem,
                   status.error().detail.empty() ? "" : ": ", status.error().detail);
    }
  }
  last_ = std::move(now);
}

DatabaseReadiness ReadinessMonitor::Database() const {
  std::lock_guard lock(mu_);
  DatabaseReadiness result = last_;
  if (!result.checked_at) {
    result.reachable = false;
    result.problem = "the database has not been checked yet";
  } else if (clock_.Now() - *result.checked_at > options_.stale_after) {
    result.reachable = false;
    result.problem = "the database has not answered a check for over "
                     + std::to_string(options_.stale_after.count()) + " s";
  }
  return result;
}

void ReadinessMonitor::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (wake_.wait_for(lock, options_.interval, [this] { return stopping_; })) {
      break;
    }
    lock.unlock();
    CheckNow();
    lock.lock();
  }
}

}  // namespace keybridge::service
