// The serving core under a slow outside world, end to end through a real server: a git server
// that accepts connections and never answers fills only the probe compartment, a provider that
// holds its token requests fills only the provider compartment, and meanwhile /healthz, /readyz
// and reads that need neither keep answering. Past a compartment's bound the answer is 429
// (probe) or 503 (provider) with Retry-After at once, never a hang. Synchronisation is on state
// the server reports (/readyz's compartment counts, the fake's held requests), never on time.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/url.h"
#include "fakes/fake_gitlab.h"
#include "integration/harness.h"
#include "support/fake_clock.h"

namespace keybridge {
namespace {

using nlohmann::json;

// A TCP listener on loopback that completes handshakes (the kernel does, up to the backlog) and
// never accepts or answers: a git server that hangs. Close() resets the waiting connections.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
    auto* generic = reinterpret_cast<sockaddr*>(&address);
    socklen_t length = sizeof address;
    if (::bind(fd_, generic, length) != 0 || ::listen(fd_, 64) != 0
        || ::getsockname(fd_, generic, &length) != 0) {
      Close();
      return;
    }
    port_ = ntohs(address.sin_port);
  }
  ~SilentListener() { Close(); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  bool ok() const { return port_ != 0; }
  void Close() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Asks /readyz until `done` holds for its compartment report; false after 20 s.
bool WaitForCompartments(const testing::KeybridgeHarness& kb,
                         const std::function<bool(const json&)>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto ready = kb.Call("GET", "/readyz");
    const json report = json::parse(ready.body, nullptr, false);
    if (ready.status == 200 && report.contains("compartments") && done(report["compartments"])) {
      return true;
    }
  }
  return false;
}

std::string CheckPath(const std::string& url) {
  return "/api/data/repository?url=" + core::PercentEncode(url);
}

TEST(ServingCore, ASilentGitServerFillsOnlyTheProbeCompartmentAndPastItTheAnswerIs429) {
  SilentListener silent;
  ASSERT_TRUE(silent.ok());
  testing::KeybridgeHarness kb([](app::ServeConfig& config) {
    config.allow_private_probe = true;
    config.allow_any_probe_port = true;
    config.probe_concurrency = 2;  // 2 probing + 2 queued
    config.probe_rate = 100000;    // this test is about the global cap, not the per-client one
  });
  std::vector<int> statuses(4, 0);
  std::vector<std::thread> probes;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    probes.emplace_back([&, i] {
      statuses[i] = kb.Call("GET", CheckPath(silent.Url("/g/p" + std::to_string(i)))).status;
    });
  }
  const bool full = WaitForCompartments(
      kb, [](const json& c) { return c["probe"]["in_flight"] == 2 && c["probe"]["queued"] == 2; });

  const auto refused = kb.Call("GET", CheckPath(silent.Url("/g/one-too-many")));
  const auto health = kb.Call("GET", "/healthz");
  const auto providers = kb.Call("GET", "/api/data/oauth2/providers");
  silent.Close();  // the hung probes fail now (reset), the queued ones at once (refused)
  for (auto& probe : probes) {
    probe.join();
  }

  ASSERT_TRUE(full) << "four probes never filled the probe compartment";
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(refused.Header("retry-after"), "5");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(providers.status, 200) << "the database compartment is untouched";
  for (const int status : statuses) {
    EXPECT_EQ(status, 200) << "every admitted probe is answered (no git repository)";
  }
}

TEST(ServingCore, TheRepositoryCheckIsRationedPerClientAddress) {
  testing::KeybridgeHarness kb([](app::ServeConfig& config) { config.probe_rate = 3; });
  // A URL problem is answered without any probe, yet counts: the ration is decided before.
  const std::string path = CheckPath("ftp://example.org/repo");

  const auto first = kb.Call("GET", path);
  const auto second = kb.Call("GET", path);

  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(second.status, 429) << second.body;
  EXPECT_EQ(second.Header("retry-after"), "20") << "3 per minute: one every 20 s";
  EXPECT_NE(second.body.find("Too many repository checks from your address"), std::string::npos)
      << second.body;
}

class SlowProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gitlab_.SetRedirectUris({kb_.BaseUrl() + "/api/data/oauth2/callback"});
    kb_.CreateProvider({{"id", "gitlab"},
                        {"kind", "gitlab"},
                        {"client_id", gitlab_.AppOptions().client_id},
                        {"client_secret", gitlab_.AppOptions().client_secret},
                        {"display_name", "Fake GitLab"},
                        {"scope", "api"},
                        {"url", gitlab_.BaseUrl()}});
    // Alice's token lives two seconds and is past half its life: her next read must refresh.
    // Bob's lives two hours: his reads need nothing but the database.
    gitlab_.SetAccessTokenLifetime(testing::kShortTokenLifetime);
    ASSERT_EQ(kb_.Connect(alice_, "gitlab").status, 200);
    gitlab_.SetAccessTokenLifetime(core::Seconds(7200));
    ASSERT_EQ(kb_.Connect(bob_, "gitlab").status, 200);
    alice_path_ = "/api/data/oauth2/connections/" + kb_.ConnectionId(alice_, "gitlab")
                  + "/token?min_valid_seconds=3600";
    bob_path_ = "/api/data/oauth2/connections/" + kb_.ConnectionId(bob_, "gitlab") + "/token";
    testing::WaitUntilShortTokensNeedRefresh();
  }

  testing::KeybridgeHarness kb_{[](app::ServeConfig& config) {
    config.provider_concurrency = 1;  // 1 calling + 32 queued
    config.background_refresh_interval = "0";
  }};
  testing::FakeClock provider_clock_{std::chrono::system_clock::now()};
  fakes::FakeGitLab gitlab_{provider_clock_};
  std::string alice_ = kb_.issuer().TokenFor("alice");
  std::string bob_ = kb_.issuer().TokenFor("bob");
  std::string alice_path_;
  std::string bob_path_;
};

TEST_F(SlowProviderTest, RefreshesWaitInTheProviderCompartmentWhileFreshReadsAndHealthAnswer) {
  gitlab_.HoldTokenRequests();
  std::vector<int> statuses(33, 0);
  std::vector<std::thread> readers;
  for (int& status : statuses) {
    readers.emplace_back([&] { status = kb_.Call("GET", alice_path_, alice_).status; });
  }
  const bool held = gitlab_.WaitForHeldRequests(1);
  const bool full = WaitForCompartments(kb_, [](const json& c) {
    return c["provider"]["in_flight"] == 1 && c["provider"]["queued"] == 32;
  });

  const auto fresh = kb_.Call("GET", bob_path_, bob_);
  const auto health = kb_.Call("GET", "/healthz");
  const auto one_too_many = kb_.Call("GET", alice_path_, alice_);
  gitlab_.ReleaseTokenRequests();
  for (auto& reader : readers) {
    reader.join();
  }

  ASSERT_TRUE(held) << "the refresh never reached the provider";
  ASSERT_TRUE(full) << "33 refreshing reads never filled the provider compartment";
  EXPECT_EQ(fresh.status, 200) << "a fresh read never waits on the provider: " << fresh.body;
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(one_too_many.status, 503) << one_too_many.body;
  EXPECT_EQ(one_too_many.Header("retry-after"), "5");
  for (const int status : statuses) {
    EXPECT_EQ(status, 200) << "every admitted read gets the one refreshed token";
  }
  EXPECT_EQ(gitlab_.RefreshRequestCount(), 1);
}

}  // namespace
}  // namespace keybridge
