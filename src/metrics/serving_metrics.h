// ServingMetrics: the metric families of the serving core, registered once and ready to record:
//   keybridge_http_requests_total{route,method,status}       counter, recorded by http::Server
//   keybridge_http_request_duration_seconds{route}           histogram, recorded by http::Server
//   keybridge_compartment_in_flight{compartment}             gauge, read from each watched executor
//   keybridge_compartment_queued{compartment}                gauge, read from each watched executor
//   keybridge_compartment_rejected_total{compartment}        counter, read from each watched
//   executor keybridge_build_info{version}                            gauge, always 1
//   keybridge_token_refreshes_total{provider,outcome}         counter, recorded by TokenService
// Render() produces the whole exposition for a /metrics route.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/bounded_executor.h"
#include "metrics/metrics.h"

namespace keybridge::metrics {

class ServingMetrics {
 public:
  explicit ServingMetrics(std::string version);

  // One request answered. `route` is the matched route pattern ("" when none matched, recorded as
  // "unmatched" so that scanners cannot create a series per path); unknown methods are recorded
  // as "other" for the same reason.
  void RecordRequest(std::string_view route, std::string_view method, int status,
                     std::chrono::duration<double> duration);
  // One refresh request sent to a provider and how it ended ("refreshed", "rejected",
  // "unavailable", "lost_answer", "failed"): keybridge_token_refreshes_total{provider,outcome}.
  void RecordRefresh(std::string_view provider, std::string_view outcome);

  // Reports this executor's counters under its name at every Render. The executor must outlive
  // this object or be unwatched first.
  void WatchCompartment(const core::BoundedExecutor& executor);
  void UnwatchCompartment(const core::BoundedExecutor& executor);

  std::string Render() const { return registry_.Render(); }
  Registry& registry() { return registry_; }

  // The request-duration buckets, in seconds: a token read from memory takes well under a
  // millisecond, a provider round trip hundreds of milliseconds, a timeout tens of seconds.
  static std::vector<double> DurationBuckets();

 private:
  std::vector<Sample> CompartmentSamples(double (*field)(const core::BoundedExecutorStats&)) const;

  Registry registry_;
  Family<Counter>& requests_;
  Family<Histogram>& durations_;
  Family<Counter>& refreshes_;
  mutable std::mutex compartments_mutex_;
  std::vector<const core::BoundedExecutor*> compartments_;
};

}  // namespace keybridge::metrics
