#include "metrics/serving_metrics.h"

#include <algorithm>
#include <array>
#include <utility>

namespace keybridge::metrics {
namespace {

std::string_view MethodLabel(std::string_view method) {
  static constexpr std::array<std::string_view, 7> kKnown = {"GET",   "HEAD",   "POST",   "PUT",
                                                             "PATCH", "DELETE", "OPTIONS"};
  const auto* it = std::find(kKnown.begin(), kKnown.end(), method);
  return it == kKnown.end() ? std::string_view("other") : *it;
}

}  // namespace

std::vector<double> ServingMetrics::DurationBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

ServingMetrics::ServingMetrics(std::string version)
    : requests_(registry_.AddCounter("keybridge_http_requests_total",
                                     "HTTP requests answered, by route pattern, method and status.",
                                     {"route", "method", "status"})),
      durations_(registry_.AddHistogram(
          "keybridge_http_request_duration_seconds",
          "Time from a request's complete header to its answer being written, by route pattern.",
          {"route"}, DurationBuckets())),
      refreshes_(registry_.AddCounter(
          "keybridge_token_refreshes_total",
          "Refresh requests sent to providers, by integration and how they ended.",
          {"provider", "outcome"})) {
  registry_.AddCallback("keybridge_compartment_in_flight", "Tasks running in a compartment now.",
                        MetricType::kGauge, {"compartment"}, [this] {
                          return CompartmentSamples([](const core::BoundedExecutorStats& s) {
                            return static_cast<double>(s.in_flight);
                          });
                        });
  registry_.AddCallback("keybridge_compartment_queued",
                        "Tasks waiting for a thread in a compartment now.", MetricType::kGauge,
                        {"compartment"}, [this] {
                          return CompartmentSamples([](const core::BoundedExecutorStats& s) {
                            return static_cast<double>(s.queued);
                          });
                        });
  registry_.AddCallback(
      "keybridge_compartment_rejected_total",
      "Tasks refused because their compartment was full or shutting down (answered 503).",
      MetricType::kCounter, {"compartment"}, [this] {
        return CompartmentSamples(
            [](const core::BoundedExecutorStats& s) { return static_cast<double>(s.rejected); });
      });
  AddDatabasePoolFamilies();
  registry_
      .AddGauge("keybridge_build_info", "Always 1; the version label names the build.", {"version"})
      .WithLabels({std::move(version)})
      .Set(1);
}

// Rendered only once app/ has watched a pool (no samples before): a pool that waits often is too
// small for the load, wait timeouts are requests answered 503, and connect failures count while
// the database is down or refusing connections.
void ServingMetrics::AddDatabasePoolFamilies() {
  registry_.AddCallback(
      "keybridge_db_pool_max", "Connections the database pool may open.", MetricType::kGauge, {},
      [this] {
        return DatabasePoolSamples([](const DatabasePoolSnapshot& pool) {
          return std::vector<Sample>{{{}, static_cast<double>(pool.max_connections)}};
        });
      });
  registry_.AddCallback(
      "keybridge_db_pool_connections",
      "Open database connections: in_use (lent to a statement or transaction, or being opened) "
      "or idle.",
      MetricType::kGauge, {"state"}, [this] {
        return DatabasePoolSamples([](const DatabasePoolSnapshot& pool) {
          return std::vector<Sample>{{{"in_use"}, static_cast<double>(pool.in_use)},
                                     {{"idle"}, static_cast<double>(pool.idle)}};
        });
      });
  registry_.AddCallback(
      "keybridge_db_pool_waits_total",
      "Statements that found every pooled database connection in use and waited for one.",
      MetricType::kCounter, {}, [this] {
        return DatabasePoolSamples([](const DatabasePoolSnapshot& pool) {
          return std::vector<Sample>{{{}, static_cast<double>(pool.waits)}};
        });
      });
  registry_.AddCallback(
      "keybridge_db_pool_wait_timeouts_total",
      "Waits for a pooled database connection that ended at the deadline (answered 503).",
      MetricType::kCounter, {}, [this] {
        return DatabasePoolSamples([](const DatabasePoolSnapshot& pool) {
          return std::vector<Sample>{{{}, static_cast<double>(pool.wait_timeouts)}};
        });
      });
  registry_.AddCallback(
      "keybridge_db_pool_connect_failures_total",
      "New database connections that could not be opened (the database down or refusing).",
      MetricType::kCounter, {}, [this] {
        return DatabasePoolSamples([](const DatabasePoolSnapshot& pool) {
          return std::vector<Sample>{{{}, static_cast<double>(pool.connect_failures)}};
        });
      });
}

void ServingMetrics::WatchDatabasePool(std::function<DatabasePoolSnapshot()> source) {
  const std::lock_guard lock(database_pool_mutex_);
  database_pool_ = std::move(source);
}

std::vector<Sample> ServingMetrics::DatabasePoolSamples(
    const std::function<std::vector<Sample>(const DatabasePoolSnapshot&)>& samples) const {
  const std::lock_guard lock(database_pool_mutex_);
  if (!database_pool_) {
    return {};
  }
  return samples(database_pool_());
}

void ServingMetrics::RecordRefresh(std::string_view provider, std::string_view outcome) {
  refreshes_.WithLabels({std::string(provider), std::string(outcome)}).Increment();
}

void ServingMetrics::RecordRequest(std::string_view route, std::string_view method, int status,
                                   std::chrono::duration<double> duration) {
  const std::string route_label = route.empty() ? std::string("unmatched") : std::string(route);
  requests_.WithLabels({route_label, std::string(MethodLabel(method)), std::to_string(status)})
      .Increment();
  durations_.WithLabels({route_label}).Observe(duration.count());
}

void ServingMetrics::WatchCompartment(const core::BoundedExecutor& executor) {
  const std::lock_guard lock(compartments_mutex_);
  if (std::find(compartments_.begin(), compartments_.end(), &executor) == compartments_.end()) {
    compartments_.push_back(&executor);
  }
}

void ServingMetrics::UnwatchCompartment(const core::BoundedExecutor& executor) {
  const std::lock_guard lock(compartments_mutex_);
  std::erase(compartments_, &executor);
}

std::vector<Sample> ServingMetrics::CompartmentSamples(
    double (*field)(const core::BoundedExecutorStats&)) const {
  const std::lock_guard lock(compartments_mutex_);
  std::vector<Sample> samples;
  samples.reserve(compartments_.size());
  for (const core::BoundedExecutor* executor : compartments_) {
    samples.push_back({{executor->name()}, field(executor->Stats())});
  }
  return samples;
}

}  // namespace keybridge::metrics
