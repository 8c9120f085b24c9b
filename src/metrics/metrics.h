// Metrics: counters, gauges and histograms with label sets, and their rendering to the
// Prometheus text exposition format (version 0.0.4). Recording is lock-free (atomics); only
// finding a label set's series takes its family's reader lock, and callers on a hot path can keep
// the returned reference, which stays valid as long as the Registry.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keybridge::metrics {

using LabelValues = std::vector<std::string>;

class Counter {
 public:
  void Increment(double amount = 1.0);  // negative amounts are ignored (counters only go up)
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double amount) { value_.fetch_add(amount, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // `upper_bounds` sorted ascending, without +Inf (always present).
  explicit Histogram(const std::vector<double>& upper_bounds);
  void Observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0.0;
  };
  Snapshot Read() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket, not cumulative; +Inf last
  std::atomic<double> sum_{0.0};
};

enum class MetricType { kCounter, kGauge, kHistogram };

// One metric name with its help text and label names; series are created on first use.
template <typename M>
class Family {
 public:
  // The series for these label values (one per label name, in order), created on first use.
  // Aborts on a wrong number of values: that is a programming error, not input.
  M& WithLabels(const LabelValues& values);
  M& WithLabels(std::initializer_list<std::string> values) {
    return WithLabels(LabelValues(values));
  }

  const std::string& name() const { return name_; }

 private:
  friend class Registry;
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<M>()> make);

  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<M>()> make_;
  mutable std::shared_mutex mutex_;
  std::map<LabelValues, std::unique_ptr<M>> series_;
};

// Values computed when rendering (e.g. read from a BoundedExecutor's counters).
struct Sample {
  LabelValues label_values;
  double value = 0.0;
};
using SampleSource = std::function<std::vector<Sample>()>;

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  Registry(Registry&&) = delete;
  Registry& operator=(Registry&&) = delete;
  ~Registry();

  // Names must match [a-zA-Z_:][a-zA-Z0-9_:]* and label names [a-zA-Z_][a-zA-Z0-9_]* (not "le"
  // for histograms, nor starting with "__"); a name registered twice aborts. Registration is
  // meant for start-up; the returned family lives as long as the registry.
  Family<Counter>& AddCounter(std::string name, std::string help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(std::string name, std::string help,
                          std::vector<std::string> label_names = {});
  Family<Histogram>& AddHistogram(std::string name, std::string help,
                                  std::vector<std::string> label_names,
                                  std::vector<double> upper_bounds);
  // A counter or gauge family whose samples `source` computes at each Render.
  void AddCallback(std::string name, std::string help, MetricType type,
                   std::vector<std::string> label_names, SampleSource source);

  // Every family in registration order, in the text exposition format 0.0.4.
  std::string Render() const;

 private:
  struct Entry {
    std::string name;
    std::function<void(std::string&)> render;  // appends the family's lines
  };
  void Register(std::unique_ptr<Entry> entry);

  mutable std::mutex mutex_;  // registration and rendering only, never recording
  std::vector<std::unique_ptr<Entry>> entries_;
};

// The format's label value escaping: backslash, double quote and line feed.
std::string EscapeLabelValue(std::string_view value);
// The format's number spelling: shortest round-trip decimal, "+Inf", "-Inf", "NaN".
std::string FormatValue(double value);

}  // namespace keybridge::metrics
