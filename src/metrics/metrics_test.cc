#include "metrics/metrics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/bounded_executor.h"
#include "metrics/exposition_parser.h"
#include "metrics/serving_metrics.h"

namespace keybridge::metrics {
namespace {

std::vector<ParsedFamily> MustParse(const std::string& text) {
  auto parsed = ParseExposition(text);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message) << "\n" << text;
  return parsed.ok() ? std::move(parsed).value() : std::vector<ParsedFamily>{};
}

// The sample's value; a missing sample fails the test (and reads as NaN).
double ValueOf(const std::vector<ParsedFamily>& families, std::string_view name,
               const std::map<std::string, std::string>& labels) {
  const ParsedSample* sample = FindSample(families, name, labels);
  if (sample == nullptr) {
    ADD_FAILURE() << "no sample " << name;
    return std::numeric_limits<double>::quiet_NaN();
  }
  return sample->value;
}

TEST(ExpositionParser, RefusesMalformedText) {
  const char* bad[] = {
      "x 1",                       // no final line feed
      "9x 1\n",                    // bad metric name
      "x{a=\"1\" 1\n",             // unterminated label set
      "x{a=\"\\t\"} 1\n",          // unknown escape
      "x{a=\"1\",a=\"2\"} 1\n",    // repeated label
      "x one\n",                   // bad value
      "x 1\nx 2\n",                // duplicate series
      "x 1\ny 1\nx{a=\"b\"} 1\n",  // family split in two
      "x 1\n# TYPE x counter\n",   // TYPE after samples
      "# TYPE x countr\n",         // unknown type
      "# HELP x a\n# HELP x b\n",  // second HELP
      "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
      "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",     // no +Inf
      "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 2\n",  // count != +Inf
  };
  for (const char* text : bad) {
    EXPECT_FALSE(ParseExposition(text).ok()) << text;
  }
  EXPECT_TRUE(ParseExposition("# HELP x h\n# TYPE x gauge\nx{a=\"q\\\"\\n\\\\\"} -1.5e3\n").ok());
}

TEST(Registry, RendersCountersGaugesAndHistogramsInTheTextFormat) {
  Registry registry;
  auto& counter =
      registry.AddCounter("test_events_total", "Events.\nSecond line \\ here", {"kind"});
  auto& gauge = registry.AddGauge("test_level", "A level.");
  auto& histogram = registry.AddHistogram("test_seconds", "Durations.", {"route"}, {0.1, 1});

  counter.WithLabels({"a\"b\\c\nd"}).Increment();
  counter.WithLabels({"a\"b\\c\nd"}).Increment(2);
  counter.WithLabels({"plain"}).Increment(-5);  // ignored: counters only go up
  gauge.WithLabels({}).Set(-2.5);
  histogram.WithLabels({"/x"}).Observe(0.05);
  histogram.WithLabels({"/x"}).Observe(0.1);  // le is inclusive
  histogram.WithLabels({"/x"}).Observe(7);
  const std::string text = registry.Render();
  const auto families = MustParse(text);

  ASSERT_EQ(families.size(), 3U);
  EXPECT_EQ(families[0].type, "counter");
  EXPECT_EQ(families[0].help, "Events.\nSecond line \\ here");
  EXPECT_NE(text.find(R"(test_events_total{kind="a\"b\\c\nd"} 3)"), std::string::npos) << text;
  EXPECT_EQ(ValueOf(families, "test_events_total", {{"kind", "a\"b\\c\nd"}}), 3);
  EXPECT_EQ(ValueOf(families, "test_events_total", {{"kind", "plain"}}), 0);
  EXPECT_EQ(ValueOf(families, "test_level", {}), -2.5);
  EXPECT_EQ(ValueOf(families, "test_seconds_bucket", {{"route", "/x"}, {"le", "0.1"}}), 2);
  EXPECT_EQ(ValueOf(families, "test_seconds_bucket", {{"route", "/x"}, {"le", "1"}}), 2);
  EXPECT_EQ(ValueOf(families, "test_seconds_bucket", {{"route", "/x"}, {"le", "+Inf"}}), 3);
  EXPECT_EQ(ValueOf(families, "test_seconds_count", {{"route", "/x"}}), 3);
  EXPECT_DOUBLE_EQ(ValueOf(families, "test_seconds_sum", {{"route", "/x"}}), 7.15);
}

TEST(Registry, FamiliesWithoutSeriesStillParse) {
  Registry registry;
  registry.AddCounter("test_a_total", "A.", {"x"});
  registry.AddHistogram("test_b_seconds", "B.", {}, {1});

  const auto families = MustParse(registry.Render());

  ASSERT_EQ(families.size(), 2U);
  EXPECT_TRUE(families[0].samples.empty());
}

TEST(FormatValue, UsesTheFormatsSpelling) {
  EXPECT_EQ(FormatValue(1), "1");
  EXPECT_EQ(FormatValue(0.005), "0.005");
  EXPECT_EQ(FormatValue(0.0005), "0.0005");
  EXPECT_EQ(FormatValue(2.5), "2.5");
  EXPECT_EQ(FormatValue(1234567), "1234567");
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatValue(0.0 / 0.0), "NaN");
}

TEST(Counter, ConcurrentIncrementsAreNotLost) {
  Registry registry;
  auto& family = registry.AddCounter("test_concurrent_total", "C.", {"t"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&family] {
      for (int i = 0; i < 10000; ++i) {
        family.WithLabels({"same"}).Increment();
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }

  EXPECT_EQ(family.WithLabels({"same"}).Value(), 40000);
}

TEST(ServingMetrics, CountsRefreshesByIntegrationAndOutcome) {
  ServingMetrics metrics("1.2.3");

  metrics.RecordRefresh("gitlab", "refreshed");
  metrics.RecordRefresh("gitlab", "refreshed");
  metrics.RecordRefresh("github", "unavailable");
  const auto families = MustParse(metrics.Render());

  EXPECT_EQ(ValueOf(families, "keybridge_token_refreshes_total",
                    {{"provider", "gitlab"}, {"outcome", "refreshed"}}),
            2);
  EXPECT_EQ(ValueOf(families, "keybridge_token_refreshes_total",
                    {{"provider", "github"}, {"outcome", "unavailable"}}),
            1);
}

TEST(ServingMetrics, RecordsRequestsCompartmentsAndBuildInfo) {
  ServingMetrics metrics("1.2.3");
  core::BoundedExecutorOptions options;
  options.name = "provider";
  options.threads = 1;
  options.queue_capacity = 0;
  core::BoundedExecutor executor(options);
  metrics.WatchCompartment(executor);
  std::mutex mutex;
  std::condition_variable cv;
  bool inside = false;
  bool release = false;
  ASSERT_TRUE(executor
                  .TrySubmit([&] {
                    std::unique_lock lock(mutex);
                    inside = true;
                    cv.notify_all();
                    cv.wait(lock, [&] { return release; });
                  })
                  .ok());
  {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return inside; });
  }
  ASSERT_FALSE(executor.TrySubmit([] {}).ok());

  metrics.RecordRequest("/api/token/{id}", "GET", 200, std::chrono::microseconds(300));
  metrics.RecordRequest("/api/token/{id}", "GET", 200, std::chrono::milliseconds(3));
  metrics.RecordRequest("", "BREW", 404, std::chrono::microseconds(10));
  const auto families = MustParse(metrics.Render());
  {
    const std::lock_guard lock(mutex);
    release = true;
    cv.notify_all();
  }

  EXPECT_EQ(ValueOf(families, "keybridge_http_requests_total",
                    {{"route", "/api/token/{id}"}, {"method", "GET"}, {"status", "200"}}),
            2);
  EXPECT_EQ(ValueOf(families, "keybridge_http_requests_total",
                    {{"route", "unmatched"}, {"method", "other"}, {"status", "404"}}),
            1);
  EXPECT_EQ(ValueOf(families, "keybridge_http_request_duration_seconds_bucket",
                    {{"route", "/api/token/{id}"}, {"le", "0.0005"}}),
            1);
  EXPECT_EQ(ValueOf(families, "keybridge_http_request_duration_seconds_count",
                    {{"route", "/api/token/{id}"}}),
            2);
  EXPECT_EQ(ValueOf(families, "keybridge_compartment_in_flight", {{"compartment", "provider"}}), 1);
  EXPECT_EQ(ValueOf(families, "keybridge_compartment_queued", {{"compartment", "provider"}}), 0);
  EXPECT_EQ(
      ValueOf(families, "keybridge_compartment_rejected_total", {{"compartment", "provider"}}), 1);
  EXPECT_EQ(ValueOf(families, "keybridge_build_info", {{"version", "1.2.3"}}), 1);

  executor.Shutdown();
  metrics.UnwatchCompartment(executor);
  EXPECT_EQ(FindSample(MustParse(metrics.Render()), "keybridge_compartment_in_flight",
                       {{"compartment", "provider"}}),
            nullptr);
}

TEST(ServingMetrics, ReportsTheDatabasePoolThroughItsSource) {
  ServingMetrics metrics("1.2.3");
  EXPECT_EQ(FindSample(MustParse(metrics.Render()), "keybridge_db_pool_max", {}), nullptr)
      << "no samples before a pool is watched";
  DatabasePoolSnapshot pool{.max_connections = 8,
                            .in_use = 3,
                            .idle = 2,
                            .waits = 41,
                            .wait_timeouts = 7,
                            .connect_failures = 1234};
  metrics.WatchDatabasePool([&pool] { return pool; });

  const auto families = MustParse(metrics.Render());
  pool.in_use = 0;
  pool.waits = 42;
  const auto later = MustParse(metrics.Render());
  metrics.WatchDatabasePool({});
  const auto unwatched = MustParse(metrics.Render());

  EXPECT_EQ(ValueOf(families, "keybridge_db_pool_max", {}), 8);
  EXPECT_EQ(ValueOf(families, "keybridge_db_pool_connections", {{"state", "in_use"}}), 3);
  EXPECT_EQ(ValueOf(families, "keybridge_db_pool_connections", {{"state", "idle"}}), 2);
  EXPECT_EQ(ValueOf(families, "keybridge_db_pool_waits_total", {}), 41);
  EXPECT_EQ(ValueOf(families, "keybridge_db_pool_wait_timeouts_total", {}), 7);
  EXPECT_EQ(ValueOf(families, "keybridge_db_pool_connect_failures_total", {}), 1234);
  for (const ParsedFamily& family : families) {
    if (family.name == "keybridge_db_pool_max" || family.name == "keybridge_db_pool_connections") {
      EXPECT_EQ(family.type, "gauge") << family.name;
    } else if (family.name.starts_with("keybridge_db_pool_")) {
      EXPECT_EQ(family.type, "counter") << family.name;
    }
  }
  EXPECT_EQ(ValueOf(later, "keybridge_db_pool_connections", {{"state", "in_use"}}), 0)
      << "read at every render";
  EXPECT_EQ(ValueOf(later, "keybridge_db_pool_waits_total", {}), 42);
  EXPECT_EQ(FindSample(unwatched, "keybridge_db_pool_waits_total", {}), nullptr);
}

}  // namespace
}  // namespace keybridge::metrics
