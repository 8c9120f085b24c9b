#include "core/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>

namespace keybridge::core {
namespace {

class SteppedClock final : public Clock {
 public:
  TimePoint Now() const override { return now_.load(); }
  void Advance(Seconds by) { now_.store(now_.load() + by); }

 private:
  std::atomic<TimePoint> now_{FromUnixSeconds(1'700'000'000)};
};

TEST(RateLimiter, ABurstThenOneRequestPerIntervalWithTheWaitAsRetryAfter) {
  SteppedClock clock;
  RateLimiter limiter(clock, {.what = "repository checks", .per_minute = 6, .burst = 3});

  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limiter.Admit("192.0.2.1").ok()) << i;
  }
  Status refused = limiter.Admit("192.0.2.1");

  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kTooManyRequests);
  EXPECT_EQ(refused.error().message,
            "Too many repository checks from your address; try again later.");
  EXPECT_EQ(refused.error().retry_after, Seconds(10)) << "6 per minute: one every 10 s";
  EXPECT_TRUE(limiter.Admit("192.0.2.2").ok()) << "other clients keep their own bucket";
  clock.Advance(Seconds(10));
  EXPECT_TRUE(limiter.Admit("192.0.2.1").ok());
  EXPECT_FALSE(limiter.Admit("192.0.2.1").ok());
}

TEST(RateLimiter, MemoryIsBoundedAndFullBucketsGoFirst) {
  SteppedClock clock;
  RateLimiter limiter(clock, {.per_minute = 6, .burst = 2, .max_keys = 3});
  ASSERT_TRUE(limiter.Admit("a").ok());
  ASSERT_TRUE(limiter.Admit("a").ok());  // "a" is empty now
  ASSERT_TRUE(limiter.Admit("b").ok());
  clock.Advance(Seconds(10));  // "a" has 1 again, "b" is full
  ASSERT_TRUE(limiter.Admit("c").ok());

  ASSERT_TRUE(limiter.Admit("d").ok());  // room is made by forgetting "b"

  EXPECT_EQ(limiter.KeyCount(), 3U);
  EXPECT_TRUE(limiter.Admit("a").ok());
  EXPECT_FALSE(limiter.Admit("a").ok()) << "a client that spent its burst is not forgotten";
}

}  // namespace
}  // namespace keybridge::core
