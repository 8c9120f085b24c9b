// The refresh race across replicas (rotating refresh tokens are single use, RFC 9700 §4.14), with
// TWO real keybridge processes sharing one PostgreSQL: 200 concurrent reads of an expired
// connection must cause exactly one refresh at the provider and all get the same new token; and a
// replica killed with SIGKILL in the middle of a refresh must not cost the user their connection.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "fakes/fake_gitlab.h"
#include "integration/harness.h"
#include "integration/keybridge_process.h"
#include "storage/store.h"
#include "support/fake_clock.h"

namespace keybridge {
namespace {

using nlohmann::json;

class RefreshRaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // getenv: read on the test's main thread before the test starts any thread, and nothing in
    // the tests sets the environment.
    const char* admin_url =
        std::getenv("KEYBRIDGE_TEST_POSTGRES_URL");  // NOLINT(concurrency-mt-unsafe)
    if (admin_url == nullptr || *admin_url == '\0') {
      if (std::getenv("KEYBRIDGE_REQUIRE_POSTGRES") != nullptr) {  // NOLINT(concurrency-mt-unsafe)
        FAIL() << "KEYBRIDGE_TEST_POSTGRES_URL is not set but KEYBRIDGE_REQUIRE_POSTGRES is";
      }
      GTEST_SKIP() << "needs KEYBRIDGE_TEST_POSTGRES_URL (./dev test sets it)";
    }
    admin_url_ = admin_url;
    database_ = "kb_race_" + std::to_string(std::random_device{}());
    auto admin = storage::OpenDatabase(admin_url_);
    ASSERT_TRUE(admin.ok()) << admin.error().message;
    ASSERT_TRUE((*admin)->Execute("CREATE DATABASE " + database_, {}).ok());
    const auto slash = admin_url_.rfind('/');
    database_url_ = admin_url_.substr(0, slash + 1) + database_;

    dir_ = std::filesystem::temp_directory_path()
           / ("keybridge-race-" + std::to_string(::getpid()) + "-" + database_);
    std::filesystem::create_directories(dir_);
    const std::vector<std::string> args = {"--database",
                                           database_url_,
                                           "--key-file",
                                           (dir_ / "keys").string(),
                                           "--oidc-issuer",
                                           issuer_.IssuerUrl(),
                                           "--oidc-audience",
                                           "renku",
                                           "--background-refresh-interval",
                                           "0"};
    a_ = std::make_unique<testing::KeybridgeProcess>(args, (dir_ / "a.log").string());
    ASSERT_FALSE(a_->base_url().empty()) << "replica A did not start; see " << dir_ / "a.log";
    b_ = std::make_unique<testing::KeybridgeProcess>(args, (dir_ / "b.log").string());
    ASSERT_FALSE(b_->base_url().empty()) << "replica B did not start; see " << dir_ / "b.log";
    call_a_ = std::make_unique<testing::HttpCaller>(a_->base_url());
    call_b_ = std::make_unique<testing::HttpCaller>(b_->base_url());

    gitlab_.SetRedirectUris({a_->base_url() + "/api/data/oauth2/callback"});
    json provider = {{"id", "gitlab"},
                     {"kind", "gitlab"},
                     {"client_id", gitlab_.AppOptions().client_id},
                     {"client_secret", gitlab_.AppOptions().client_secret},
                     {"display_name", "Fake GitLab"},
                     {"scope", "api"},
                     {"url", gitlab_.BaseUrl()}};
    auto created =
        call_a_->Call("POST", "/api/data/oauth2/providers", issuer_.AdminToken(), provider.dump());
    ASSERT_EQ(created.status, 201) << created.body;

    // The first token lives a minute; readers ask for an hour (min_valid_seconds), so the next
    // read must refresh, and the refreshed two-hour token satisfies every later reader.
    gitlab_.SetAccessTokenLifetime(core::Seconds(60));
    alice_ = issuer_.TokenFor("alice");
    ConnectThroughA();
    gitlab_.SetAccessTokenLifetime(core::Seconds(7200));
  }

  void TearDown() override {
    a_.reset();
    b_.reset();
    if (!database_.empty()) {
      if (auto admin = storage::OpenDatabase(admin_url_); admin.ok()) {
        (void)(*admin)->Execute("DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)", {});
      }
    }
    std::filesystem::remove_all(dir_);
  }

  void ConnectThroughA() {
    auto authorize = call_a_->Call("GET", "/api/data/oauth2/providers/gitlab/authorize", alice_);
    ASSERT_EQ(authorize.status, 302) << authorize.body;
    auto at_gitlab = call_a_->Call("GET", authorize.Header("location"));
    ASSERT_EQ(at_gitlab.status, 302) << at_gitlab.body;
    auto done = call_a_->Call("GET", at_gitlab.Header("location"), alice_, "",
                              {{"Cookie", testing::CookiePair(authorize)}});
    ASSERT_EQ(done.status, 200) << done.body;
    auto list = json::parse(call_a_->Call("GET", "/api/data/oauth2/connections", alice_).body);
    ASSERT_EQ(list.size(), 1U);
    connection_id_ = list[0]["id"];
  }

  // A replica killed mid-refresh leaves its refresh lease behind until it expires (30 s); until
  // then the other replica answers 503 ("another refresh is in progress"). Retries until 200.
  core::HttpResponse TokenFromBAfterTheDeadLeaseExpired() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      auto r = call_b_->Try("GET", TokenPath(), alice_);
      if ((r.ok() && r->status != 503) || std::chrono::steady_clock::now() >= deadline) {
        return r.ok() ? *r : core::HttpResponse{};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));  // waiting for time to pass
    }
  }

  std::string TokenPath() const {
    return "/api/data/oauth2/connections/" + connection_id_ + "/token?min_valid_seconds=3600";
  }

  testing::TestIssuerServer issuer_;
  testing::FakeClock provider_clock_{std::chrono::system_clock::now()};
  fakes::FakeGitLab gitlab_{provider_clock_};
  std::string admin_url_, database_, database_url_;
  std::filesystem::path dir_;
  std::unique_ptr<testing::KeybridgeProcess> a_, b_;
  std::unique_ptr<testing::HttpCaller> call_a_, call_b_;
  std::string alice_, connection_id_;
};

TEST_F(RefreshRaceTest, TwoHundredConcurrentReadsAcrossTwoReplicasRefreshOnce) {
  gitlab_.HoldTokenRequests();
  std::vector<std::thread> readers;
  std::vector<std::string> seen(200);
  std::atomic<int> started{0};
  for (std::size_t i = 0; i < seen.size(); ++i) {
    readers.emplace_back([&, i] {
      const auto& caller = i % 2 == 0 ? *call_a_ : *call_b_;
      ++started;
      auto r = caller.Call("GET", TokenPath(), alice_);
      auto body = json::parse(r.body, nullptr, false);
      seen[i] = r.status == 200 ? body["access_token"].get<std::string>()
                                : "HTTP " + std::to_string(r.status) + " " + r.body;
    });
  }
  // One replica's refresh is now at the provider; the other replica's leader waits on the row
  // lock and every other reader waits on its replica's single-flight.
  const bool held = gitlab_.WaitForHeldRequests(1);
  gitlab_.ReleaseTokenRequests();
  for (auto& t : readers) {
    t.join();
  }
  ASSERT_TRUE(held);

  EXPECT_EQ(started.load(), 200);
  EXPECT_EQ(gitlab_.RefreshRequestCount(), 1);
  ASSERT_FALSE(seen[0].empty());
  EXPECT_TRUE(gitlab_.IsAccessTokenLive(seen[0])) << seen[0];
  for (const auto& token : seen) {
    EXPECT_EQ(token, seen[0]);
  }
}

TEST_F(RefreshRaceTest, KillingAReplicaMidRefreshLosesNoConnection) {
  gitlab_.HoldTokenRequests(fakes::HoldPoint::kBeforeProcessing);
  std::thread doomed([&] { (void)call_a_->Try("GET", TokenPath(), alice_); });
  const bool held = gitlab_.WaitForHeldRequests(1);

  a_->Kill();
  // The request from the dead replica never reaches GitLab's database (the connection broke).
  gitlab_.FailNextTokenRequests(1, 500);
  gitlab_.ReleaseTokenRequests();
  doomed.join();
  ASSERT_TRUE(held);

  auto r = TokenFromBAfterTheDeadLeaseExpired();

  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(gitlab_.IsAccessTokenLive(json::parse(r.body)["access_token"].get<std::string>()));
  auto conn = json::parse(
      call_b_->Call("GET", "/api/data/oauth2/connections/" + connection_id_, alice_).body);
  EXPECT_EQ(conn["status"], "connected");
}

TEST_F(RefreshRaceTest, KillAfterTheProviderRotatedIsSurvivedWithGitLabsGracePeriod) {
  // Doorkeeper with previous_refresh_token: the old refresh token stays valid until the new
  // access token is first used, so a response lost with a dying replica is recoverable.
  gitlab_.SetRefreshGraceUntilFirstUse(true);
  gitlab_.HoldTokenRequests(fakes::HoldPoint::kAfterProcessing);
  std::thread doomed([&] { (void)call_a_->Try("GET", TokenPath(), alice_); });
  const bool held = gitlab_.WaitForHeldRequests(1);

  a_->Kill();
  gitlab_.ReleaseTokenRequests();
  doomed.join();
  ASSERT_TRUE(held);

  auto r = TokenFromBAfterTheDeadLeaseExpired();

  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(gitlab_.RefreshRequestCount(), 2);
  auto conn = json::parse(
      call_b_->Call("GET", "/api/data/oauth2/connections/" + connection_id_, alice_).body);
  EXPECT_EQ(conn["status"], "connected");
}

}  // namespace
}  // namespace keybridge
