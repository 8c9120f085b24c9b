// BackgroundRefresher: keeps idle users connected. Every interval (with jitter, so replicas do
// not move in lockstep) it claims connections whose refresh is due (core::RefreshDueAt) and
// refreshes them through TokenService, i.e. with the same single-flight and refresh lock as
// reads. Claims are atomic in the store, so each due connection is handled by one replica.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "core/random.h"
#include "core/repositories.h"
#include "service/token_service.h"

namespace keybridge::service {

struct BackgroundRefresherOptions {
  core::Seconds interval{60};
  core::Seconds claim_for{600};  // another replica may retry a claimed connection after this
  std::size_t batch = 100;
};

class BackgroundRefresher {
 public:
  // All references must outlive the refresher.
  BackgroundRefresher(core::ConnectionRepository& connections, TokenService& tokens,
                      const core::Clock& clock, core::Random& random,
                      BackgroundRefresherOptions options);
  ~BackgroundRefresher();  // stops the thread
  BackgroundRefresher(const BackgroundRefresher&) = delete;
  BackgroundRefresher& operator=(const BackgroundRefresher&) = delete;

  void Start();
  void Stop();
  // One pass: claims due connections and refreshes them. Returns how many were refreshed
  // successfully. Used by the loop, and by tests with a FakeClock.
  std::size_t RunOnce();

 private:
  void Loop();

  core::ConnectionRepository& connections_;
  TokenService& tokens_;
  const core::Clock& clock_;
  core::Random& random_;
  const BackgroundRefresherOptions options_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace keybridge::service
