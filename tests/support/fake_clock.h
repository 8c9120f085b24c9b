// FakeClock: a Clock that only moves when a test advances it.
#pragma once

#include <atomic>

#include "core/clock.h"

namespace keybridge::testing {

class FakeClock final : public core::Clock {
 public:
  explicit FakeClock(core::TimePoint start = core::FromUnixSeconds(1'700'000'000)) : now_(start) {}
  core::TimePoint Now() const override { return now_.load(); }
  void Advance(core::Seconds by) { now_.store(now_.load() + by); }
  void Set(core::TimePoint t) { now_.store(t); }

 private:
  std::atomic<core::TimePoint> now_;
};

}  // namespace keybridge::testing
