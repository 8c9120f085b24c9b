// RateLimiter: a token bucket per key (a client address), for work anyone may ask for. Each key
// may spend `burst` requests at once and regains `per_minute` per minute. Memory is bounded: at
// most `max_keys` buckets; when full, buckets that have refilled completely (they carry no state
// worth keeping) are dropped first, else the one idle longest. Thread-safe; answers from memory.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

#include "core/clock.h"
#include "core/result.h"

namespace keybridge::core {

struct RateLimiterOptions {
  std::string what = "requests";  // named in the refusal: "Too many <what> from your address"
  double per_minute = 30;
  double burst = 10;
  std::size_t max_keys = 10000;
};

class RateLimiter {
 public:
  // `clock` must outlive the limiter.
  RateLimiter(const Clock& clock, RateLimiterOptions options);

  // Spends one request of `key`'s bucket, or kTooManyRequests with the seconds until one is
  // available as retry_after.
  Status Admit(const std::string& key);
  std::size_t KeyCount() const;

 private:
  struct Bucket {
    double tokens = 0;
    TimePoint updated{};
  };
  void Refill(Bucket& bucket, TimePoint now) const;
  void MakeRoom(TimePoint now);

  const Clock& clock_;
  const RateLimiterOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace keybridge::core
