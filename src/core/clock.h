// Clock port: every use of "now" goes through this so tests can move time without sleeping.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace keybridge::core {

using TimePoint = std::chrono::system_clock::time_point;
using Seconds = std::chrono::seconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

inline std::int64_t ToUnixSeconds(TimePoint t) {
  return std::chrono::duration_cast<Seconds>(t.time_since_epoch()).count();
}
inline TimePoint FromUnixSeconds(std::int64_t s) {
  return TimePoint(Seconds(s));
}

// "2026-11-25T17:14:53Z" (ISO 8601, UTC, whole seconds).
std::string FormatIso8601(TimePoint t);

}  // namespace keybridge::core
