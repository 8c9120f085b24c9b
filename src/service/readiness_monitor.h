// ReadinessMonitor: what /readyz reports, kept in memory so the probe itself never waits. A
// background thread pings the database every `interval` (each ping bounded by the pool's own
// wait deadline); /readyz reads the last result. A result older than `stale_after` counts as a
// failure: a ping stuck longer than that means the database is not answering.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/result.h"

namespace keybridge::service {

struct ReadinessMonitorOptions {
  core::Seconds interval{1};
  core::Seconds stale_after{5};
};

struct DatabaseReadiness {
  bool reachable = false;
  std::string problem;  // why not, for the log and the probe's answer; "" when reachable
  std::optional<core::TimePoint> checked_at;
};

class ReadinessMonitor {
 public:
  // `ping` is called from the monitor's thread; `clock` must outlive the monitor.
  ReadinessMonitor(std::function<core::Status()> ping, const core::Clock& clock,
                   ReadinessMonitorOptions options);
  ~ReadinessMonitor();  // stops the thread
  ReadinessMonitor(const ReadinessMonitor&) = delete;
  ReadinessMonitor& operator=(const ReadinessMonitor&) = delete;
  ReadinessMonitor(ReadinessMonitor&&) = delete;
  ReadinessMonitor& operator=(ReadinessMonitor&&) = delete;

  // Pings once now (so the first /readyz after start-up is answered), then every interval.
  void Start();
  void Stop();
  // One ping, recorded; the loop's step, and what tests call.
  void CheckNow();
  // The last result, from memory; not reachable if it is older than stale_after (or none yet).
  DatabaseReadiness Database() const;

 private:
  void Loop();

  std::function<core::Status()> ping_;
  const core::Clock& clock_;
  const ReadinessMonitorOptions options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  DatabaseReadiness last_;
  std::thread thread_;
};

}  // namespace keybridge::service
