#include "metrics/serving_metrics.h"

#include <algorithm>
#include <array>

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
  registry_
      .AddGauge("keybridge_build_info", "Always 1; the version label names the build.", {"version"})
      .WithLabels({std::move(version)})
      .Set(1);
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
