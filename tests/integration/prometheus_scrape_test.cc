// A real Prometheus (Debian's `prometheus` package, which ./dev test installs) scrapes the real
// keybridge binary's /metrics every second with an administrator API token as its bearer
// credential, configured as README.md tells operators to: the target must turn up and
// keybridge's own families must be queryable through Prometheus's HTTP API. The strict parser in
// the unit tests checks the format; this checks that the scraper an operator runs agrees.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/url.h"
#include "integration/keybridge_process.h"
#include "net/curl_http_client.h"

namespace keybridge {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr const char* kPrometheus = "/usr/bin/prometheus";

// The token `keybridge tokens create --admin` prints on its first stdout line ("" on failure).
std::string CreateAdminToken(const std::string& database, const std::string& key_file) {
  const std::string command = std::string(KEYBRIDGE_BINARY_PATH)
                              + " tokens create --user prometheus --admin --name prometheus"
                              + " --database '" + database + "' --key-file '" + key_file
                              + "' 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return "";
  }
  std::string out;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0;) {
    out.append(buffer, n);
  }
  return ::pclose(pipe) == 0 ? out.substr(0, out.find('\n')) : "";
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class PrometheusScrapeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kPrometheus))
        << kPrometheus << " is missing: apt-get install --no-install-recommends prometheus "
        << "(./dev test installs it)";
    dir_ = fs::temp_directory_path() / ("keybridge-prometheus-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Prometheus's answer to an instant query: the result vector (empty until it has samples).
  json Query(const std::string& base_url, const std::string& promql) {
    core::HttpRequest request;
    request.method = "GET";
    request.url = base_url + "/api/v1/query?query=" + core::PercentEncode(promql);
    request.timeout = std::chrono::seconds(5);
    const auto response = client_.Send(request);
    if (!response.ok() || response->status != 200) {
      return json::array();  // not listening yet, or still starting
    }
    const json body = json::parse(response->body, nullptr, false);
    if (!body.is_object() || body.value("status", "") != "success") {
      return json::array();
    }
    return body["data"]["result"];
  }

  fs::path dir_;
  net::CurlHttpClient client_{net::CurlHttpClient::Options{}};
};

TEST_F(PrometheusScrapeTest, PrometheusScrapesMetricsWithAnAdminApiToken) {
  const std::string database = "sqlite://" + (dir_ / "kb.db").string();
  const std::string key_file = (dir_ / "kb.key").string();
  const std::string token = CreateAdminToken(database, key_file);
  ASSERT_EQ(token.rfind("kb_", 0), 0U) << "keybridge tokens create failed";
  testing::KeybridgeProcess keybridge({"--database", database, "--key-file", key_file},
                                      (dir_ / "keybridge.log").string());
  ASSERT_FALSE(keybridge.base_url().empty()) << ReadFile(dir_ / "keybridge.log");
  const std::string target = keybridge.base_url().substr(std::string("http://").size());

  // The token goes into the file Prometheus reads, in a directory only we can enter, never onto
  // a command line.
  fs::permissions(dir_, fs::perms::owner_all);
  const fs::path config = dir_ / "prometheus.yml";
  {
    std::ofstream out(config);
    out << "global:\n"
           "  scrape_interval: 1s\n"
           "  scrape_timeout: 1s\n"
           "scrape_configs:\n"
           "  - job_name: keybridge\n"
           "    metrics_path: /metrics\n"
           "    authorization:\n"
           "      credentials: "
        << token
        << "\n"
           "    static_configs:\n"
           "      - targets: ['"
        << target << "']\n";
  }
  const std::string prometheus_url =
      "http://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  const auto start = Clock::now();
  testing::ChildProcess prometheus(
      {kPrometheus, "--config.file=" + config.string(),
       "--storage.tsdb.path=" + (dir_ / "tsdb").string(),
       "--web.listen-address=" + prometheus_url.substr(std::string("http://").size())},
      (dir_ / "prometheus.log").string());
  ASSERT_TRUE(prometheus.started());

  // Polls Prometheus's API until both hold; the pause between polls only spares the CPU.
  json up = json::array();
  json build_info = json::array();
  json pool = json::array();
  const auto deadline = start + std::chrono::seconds(30);
  while (Clock::now() < deadline && prometheus.Running()) {
    up = Query(prometheus_url, "up{job=\"keybridge\"}");
    build_info = Query(prometheus_url, "keybridge_build_info{job=\"keybridge\"}");
    if (up.size() == 1 && up[0]["value"][1] == "1" && build_info.size() == 1) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  pool = Query(prometheus_url, "keybridge_db_pool_connections{job=\"keybridge\"}");
  const auto elapsed = Clock::now() - start;

  ASSERT_EQ(up.size(), 1U) << "no scrape of keybridge yet; Prometheus log:\n"
                           << ReadFile(dir_ / "prometheus.log");
  EXPECT_EQ(up[0]["value"][1], "1") << "the scrape failed (401/403 would mean the token was not "
                                       "accepted); Prometheus log:\n"
                                    << ReadFile(dir_ / "prometheus.log");
  ASSERT_EQ(build_info.size(), 1U) << build_info.dump();
  EXPECT_EQ(build_info[0]["value"][1], "1");
  EXPECT_EQ(build_info[0]["metric"]["version"], KEYBRIDGE_VERSION_STRING);
  EXPECT_EQ(pool.size(), 2U) << "in_use and idle: " << pool.dump();
  std::printf("Prometheus saw up == 1 and keybridge_build_info %lld ms after it started\n",
              static_cast<long long>(  // NOLINT(google-runtime-int): printf's %lld
                  std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
}

}  // namespace
}  // namespace keybridge
