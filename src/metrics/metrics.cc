#include "metrics/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>

namespace keybridge::metrics {
namespace {

bool IsValidName(std::string_view name, bool allow_colon) {
  if (name.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) {
      return false;
    }
  }
  return true;
}

// Registration mistakes are programming errors caught by the first test run: abort loudly.
void Require(bool condition) {
  if (!condition) {
    std::abort();
  }
}

void CheckNames(const std::string& name, const std::vector<std::string>& label_names,
                bool histogram) {
  Require(IsValidName(name, true));
  for (const std::string& label : label_names) {
    Require(IsValidName(label, false) && label.rfind("__", 0) != 0
            && !(histogram && label == "le"));
  }
}

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void AppendHeader(std::string& out, const std::string& name, const std::string& help,
                  MetricType type) {
  out += "# HELP " + name + " " + EscapeHelp(help) + "\n";
  out += "# TYPE " + name + " ";
  out += TypeName(type);
  out += "\n";
}

// `{a="x",b="y"}`, with an optional extra label (the histogram's le) last; "" without labels.
std::string LabelSet(const std::vector<std::string>& names, const LabelValues& values,
                     std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) {
    return "";
  }
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    out += (i == 0 ? "" : ",") + names[i] + "=\"" + EscapeLabelValue(values[i]) + "\"";
  }
  if (!extra_name.empty()) {
    out += names.empty() ? "" : ",";
    out += std::string(extra_name) + "=\"" + EscapeLabelValue(extra_value) + "\"";
  }
  out += "}";
  return out;
}

void AppendSample(std::string& out, std::string_view name, const std::string& labels,
                  double value) {
  out += name;
  out += labels;
  out += " ";
  out += FormatValue(value);
  out += "\n";
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  std::array<char, 64> buffer{};
  // Whole numbers (every counter) as integers up to 2^53, where doubles stop being exact;
  // otherwise the shortest round-trip form in %g style ("0.0005", not "5e-04").
  const bool whole = std::abs(value) < 9007199254740992.0 && value == std::trunc(value);
  const auto [end, ec] = whole ? std::to_chars(buffer.data(), buffer.data() + buffer.size(),
                                               static_cast<std::int64_t>(value))
                               : std::to_chars(buffer.data(), buffer.data() + buffer.size(), value,
                                               std::chars_format::general);
  return std::string(buffer.data(), end);
}

void Counter::Increment(double amount) {
  if (amount > 0) {
    value_.fetch_add(amount, std::memory_order_relaxed);
  }
}

Histogram::Histogram(const std::vector<double>& upper_bounds)
    : bounds_(upper_bounds),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds.size() + 1)) {
  Require(std::is_sorted(bounds_.begin(), bounds_.end())
          && std::adjacent_find(bounds_.begin(), bounds_.end()) == bounds_.end()
          && std::none_of(bounds_.begin(), bounds_.end(),
                          [](double b) { return std::isnan(b) || std::isinf(b); }));
}

void Histogram::Observe(double value) {
  // Buckets are "less than or equal"; the first bound >= value, else +Inf (index size()).
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  snapshot.upper_bounds = bounds_;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    snapshot.cumulative.push_back(running);
  }
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

template <typename M>
Family<M>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                  std::function<std::unique_ptr<M>()> make)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      make_(std::move(make)) {}

template <typename M>
M& Family<M>::WithLabels(const LabelValues& values) {
  Require(values.size() == label_names_.size());
  {
    const std::shared_lock lock(mutex_);
    if (auto it = series_.find(values); it != series_.end()) {
      return *it->second;
    }
  }
  const std::unique_lock lock(mutex_);
  auto& slot = series_[values];
  if (!slot) {
    slot = make_();
  }
  return *slot;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Registry::~Registry() = default;

void Registry::Register(std::unique_ptr<Entry> entry) {
  const std::lock_guard lock(mutex_);
  Require(std::none_of(entries_.begin(), entries_.end(),
                       [&](const auto& other) { return other->name == entry->name; }));
  entries_.push_back(std::move(entry));
}

Family<Counter>& Registry::AddCounter(std::string name, std::string help,
                                      std::vector<std::string> label_names) {
  CheckNames(name, label_names, false);
  // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): the constructor is private to Registry
  std::shared_ptr<Family<Counter>> family(new Family<Counter>(
      name, std::move(help), std::move(label_names), [] { return std::make_unique<Counter>(); }));
  auto entry = std::make_unique<Entry>();
  entry->name = std::move(name);
  entry->render = [family](std::string& out) {
    AppendHeader(out, family->name_, family->help_, MetricType::kCounter);
    const std::shared_lock lock(family->mutex_);
    for (const auto& [values, counter] : family->series_) {
      AppendSample(out, family->name_, LabelSet(family->label_names_, values), counter->Value());
    }
  };
  Register(std::move(entry));
  return *family;
}

Family<Gauge>& Registry::AddGauge(std::string name, std::string help,
                                  std::vector<std::string> label_names) {
  CheckNames(name, label_names, false);
  // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): the constructor is private to Registry
  std::shared_ptr<Family<Gauge>> family(new Family<Gauge>(
      name, std::move(help), std::move(label_names), [] { return std::make_unique<Gauge>(); }));
  auto entry = std::make_unique<Entry>();
  entry->name = std::move(name);
  entry->render = [family](std::string& out) {
    AppendHeader(out, family->name_, family->help_, MetricType::kGauge);
    const std::shared_lock lock(family->mutex_);
    for (const auto& [values, gauge] : family->series_) {
      AppendSample(out, family->name_, LabelSet(family->label_names_, values), gauge->Value());
    }
  };
  Register(std::move(entry));
  return *family;
}

Family<Histogram>& Registry::AddHistogram(std::string name, std::string help,
                                          std::vector<std::string> label_names,
                                          std::vector<double> upper_bounds) {
  CheckNames(name, label_names, true);
  Histogram check(upper_bounds);  // aborts on unsorted or non-finite bounds now, not on first use
  // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): the constructor is private to Registry
  std::shared_ptr<Family<Histogram>> family(new Family<Histogram>(
      name, std::move(help), std::move(label_names),
      [bounds = std::move(upper_bounds)] { return std::make_unique<Histogram>(bounds); }));
  auto entry = std::make_unique<Entry>();
  entry->name = std::move(name);
  entry->render = [family](std::string& out) {
    AppendHeader(out, family->name_, family->help_, MetricType::kHistogram);
    const std::shared_lock lock(family->mutex_);
    for (const auto& [values, histogram] : family->series_) {
      const Histogram::Snapshot snapshot = histogram->Read();
      for (std::size_t i = 0; i < snapshot.cumulative.size(); ++i) {
        const std::string le = i < snapshot.upper_bounds.size()
                                   ? FormatValue(snapshot.upper_bounds[i])
                                   : std::string("+Inf");
        AppendSample(out, family->name_ + "_bucket",
                     LabelSet(family->label_names_, values, "le", le),
                     static_cast<double>(snapshot.cumulative[i]));
      }
      const std::string labels = LabelSet(family->label_names_, values);
      AppendSample(out, family->name_ + "_sum", labels, snapshot.sum);
      // The +Inf bucket, so that _count always equals it even while observations race.
      AppendSample(out, family->name_ + "_count", labels,
                   static_cast<double>(snapshot.cumulative.back()));
    }
  };
  Register(std::move(entry));
  return *family;
}

void Registry::AddCallback(std::string name, std::string help, MetricType type,
                           std::vector<std::string> label_names, SampleSource source) {
  Require(type != MetricType::kHistogram);
  CheckNames(name, label_names, false);
  auto entry = std::make_unique<Entry>();
  entry->name = name;
  entry->render = [name = std::move(name), help = std::move(help), type,
                   label_names = std::move(label_names),
                   source = std::move(source)](std::string& out) {
    AppendHeader(out, name, help, type);
    std::vector<Sample> samples = source();
    std::sort(samples.begin(), samples.end(),
              [](const Sample& a, const Sample& b) { return a.label_values < b.label_values; });
    for (const Sample& sample : samples) {
      if (sample.label_values.size() == label_names.size()) {
        AppendSample(out, name, LabelSet(label_names, sample.label_values), sample.value);
      }
    }
  };
  Register(std::move(entry));
}

std::string Registry::Render() const {
  std::string out;
  const std::lock_guard lock(mutex_);
  for (const auto& entry : entries_) {
    entry->render(out);
  }
  return out;
}

}  // namespace keybridge::metrics
