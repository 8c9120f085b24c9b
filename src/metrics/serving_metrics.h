// ServingMetrics: the metric families of the serving core, registered once and ready to record:
//   keybridge_http_requests_total{route,method,status}       counter, recorded by http::Server
//   keybridge_http_request_duration_seconds{route}           histogram, recorded by http::Server
//   keybridge_compartment_in_flight{compartment}             gauge, read from each watched executor
//   keybridge_compartment_queued{compartment}                gauge, read from each watched executor
//   keybridge_compartment_rejected_total{compartment}        counter, read from each watched
//                                                            executor
//   keybridge_db_pool_max                                    gauge, read from the database pool
//   keybridge_db_pool_connections{state}                     gauge (in_use, idle), same
//   keybridge_db_pool_waits_total                            counter, same
//   keybridge_db_pool_wait_timeouts_total                    counter, same
//   keybridge_db_pool_connect_failures_total                 counter, same
//   keybridge_build_info{version}                            gauge, always 1
//   keybridge_token_refreshes_total{provider,outcome}         counter, recorded by TokenService
// Render() produces the whole exposition for a /metrics route.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/bounded_executor.h"
#include "metrics/metrics.h"

namespace keybridge::metrics {

// The database connection pool as counted so far. app/ fills it from storage's own stats, so that
// metrics needs no storage types.
struct DatabasePoolSnapshot {
  std::size_t max_connections = 0;
  std::size_t in_use = 0;  // lent to a statement or transaction, or being opened
  std::size_t idle = 0;
  std::uint64_t waits = 0;  // statements that found every connection in use and waited
  std::uint64_t wait_timeouts = 0;
  std::uint64_t connect_failures = 0;
};

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

  // Reports the database pool through `source`, called at every Render; an empty function stops
  // it (the keybridge_db_pool_* families then have no samples). Whatever `source` reads must
  // outlive it or be unwatched first.
  void WatchDatabasePool(std::function<DatabasePoolSnapshot()> source);

  std::string Render() const { return registry_.Render(); }
  Registry& registry() { return registry_; }

  // The request-duration buckets, in seconds: a token read from memory takes well under a
  // millisecond, a provider round trip hundreds of milliseconds, a timeout tens of seconds.
  static std::vector<double> DurationBuckets();

 private:
  void AddDatabasePoolFamilies();
  std::vector<Sample> CompartmentSamples(double (*field)(const core::BoundedExecutorStats&)) const;
  std::vector<Sample> DatabasePoolSamples(
      const std::function<std::vector<Sample>(const DatabasePoolSnapshot&)>& samples) const;

  Registry registry_;
  Family<Counter>& requests_;
  Family<Histogram>& durations_;
  Family<Counter>& refreshes_;
  mutable std::mutex compartments_mutex_;
  std::vector<const core::BoundedExecutor*> compartments_;
  mutable std::mutex database_pool_mutex_;
  std::function<DatabasePoolSnapshot()> database_pool_;
};

}  // namespace keybridge::metrics
