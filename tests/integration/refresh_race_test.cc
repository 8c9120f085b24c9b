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

#include "integration/two_replicas.h"

namespace keybridge {
namespace {

using nlohmann::json;

class RefreshRaceTest : public testing::TwoReplicasTest {
 protected:
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
