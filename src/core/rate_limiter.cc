#include "core/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace keybridge::core {

RateLimiter::RateLimiter(const Clock& clock, RateLimiterOptions options)
    : clock_(clock), options_(std::move(options)) {}

void RateLimiter::Refill(Bucket& bucket, TimePoint now) const {
  const double minutes = std::chrono::duration<double>(now - bucket.updated).count() / 60.0;
  if (minutes > 0) {
    bucket.tokens = std::min(options_.burst, bucket.tokens + minutes * options_.per_minute);
    bucket.updated = now;
  }
}

void RateLimiter::MakeRoom(TimePoint now) {
  // Full buckets carry nothing: forgetting them changes no answer.
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    Refill(it->second, now);
    it = it->second.tokens >= options_.burst ? buckets_.erase(it) : std::next(it);
  }
  if (buckets_.size() < options_.max_keys) {
    return;
  }
  auto oldest = std::min_element(
      buckets_.begin(), buckets_.end(),
      [](const auto& a, const auto& b) { return a.second.updated < b.second.updated; });
  buckets_.erase(oldest);
}

Status RateLimiter::Admit(const std::string& key) {
  const TimePoint now = clock_.Now();
  std::lock_guard lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= options_.max_keys) {
      MakeRoom(now);
    }
    it = buckets_.emplace(key, Bucket{options_.burst, now}).first;
  }
  Bucket& bucket = it->second;
  Refill(bucket, now);
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return OkStatus();
  }
  const double wait_seconds = (1.0 - bucket.tokens) * 60.0 / options_.per_minute;
  return MakeError(ErrorCode::kTooManyRequests,
                   "Too many " + options_.what + " from your address; try again later.")
      .WithRetryAfter(Seconds(static_cast<std::int64_t>(std::ceil(wait_seconds))));
}

std::size_t RateLimiter::KeyCount() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace keybridge::core
