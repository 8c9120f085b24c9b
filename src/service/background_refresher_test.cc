#include "service/background_refresher.h"

#include <gtest/gtest.h>

#include "crypto/system_random.h"
#include "support/fake_clock.h"
#include "support/in_memory_repositories.h"
#include "support/scripted_http_client.h"

namespace keybridge::service {
namespace {

constexpr const char* kTokenUrl = "https://github.com/login/oauth/access_token";

class BackgroundRefresherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::Provider p;
    p.id = core::ProviderId("github");
    p.kind = core::ProviderKind::kGitHub;
    p.client_id = "Iv1.x";
    p.client_secret = core::Secret("s");
    p.display_name = "GitHub";
    p.url = "https://github.com";
    p.app_slug = "app";
    ASSERT_TRUE(providers_.Insert(p).ok());
    core::Connection c;
    c.id = core::ConnectionId("01HZZZZZZZZZZZZZZZZZZZZZZZ");
    c.user_id = core::UserId("alice");
    c.provider_id = core::ProviderId("github");
    ASSERT_TRUE(connections_.FindOrInsert(c).ok());
    core::TokenSet token;
    token.access_token = core::Secret("ghu_old");
    token.refresh_token = core::Secret("ghr_old");
    token.expires_in = 28800;
    token.expires_at = clock_.Now() + core::Seconds(28800);
    // GitHub App refresh tokens live ~6 months (refresh_token_expires_in 15897600 s).
    token.refresh_token_expires_at = clock_.Now() + core::Seconds(15897600);
    token.obtained_at = clock_.Now();
    ASSERT_TRUE(connections_.StoreToken(c.id, token, clock_.Now()).ok());
  }

  testing::FakeClock clock_;
  crypto::SystemRandom random_;
  testing::InMemoryProviderRepository providers_;
  testing::InMemoryConnectionRepository connections_;
  testing::ScriptedHttpClient http_;
  ProviderGateway gateway_{http_, clock_};
  ProviderMatcher matcher_{providers_};
  SessionScopePolicy scope_{connections_, matcher_};
  TokenService tokens_{
      connections_,
      providers_,
      gateway_,
      clock_,
      scope_,
      TokenServiceOptions{core::Seconds(300), core::PublicUrls("https://kb.example.org")}};
  BackgroundRefresher refresher_{connections_, tokens_, clock_, random_, {}};
};

TEST_F(BackgroundRefresherTest, LeavesConnectionsAloneUntilTheirRefreshTokenNearsExpiry) {
  clock_.Advance(core::Seconds(100 * 24 * 3600));  // access token long expired, grant still young

  EXPECT_EQ(refresher_.RunOnce(), 0U);
  EXPECT_TRUE(http_.Requests().empty());
}

TEST_F(BackgroundRefresherTest, RefreshesAnIdleConnectionBeforeItsRefreshTokenLapses) {
  http_.Enqueue("POST", kTokenUrl,
                testing::JsonResponse(200, R"({"access_token":"ghu_new","expires_in":28800,)"
                                           R"("refresh_token":"ghr_new",)"
                                           R"("refresh_token_expires_in":15897600,)"
                                           R"("scope":"","token_type":"bearer"})"));
  clock_.Advance(core::Seconds(180 * 24 * 3600));  // six days before the grant would lapse

  EXPECT_EQ(refresher_.RunOnce(), 1U);

  auto stored = connections_.Find(core::ConnectionId("01HZZZZZZZZZZZZZZZZZZZZZZZ"));
  EXPECT_EQ(stored->token->refresh_token->Reveal(), "ghr_new");
  EXPECT_EQ(refresher_.RunOnce(), 0U) << "the new grant is not due for months";
  EXPECT_EQ(http_.CountRequests(kTokenUrl), 1U);
}

TEST_F(BackgroundRefresherTest, ATransientFailureIsRetriedLaterNotMarkedBroken) {
  http_.Enqueue("POST", kTokenUrl, testing::JsonResponse(503, "{}"));
  clock_.Advance(core::Seconds(180 * 24 * 3600));

  EXPECT_EQ(refresher_.RunOnce(), 0U);
  EXPECT_EQ(refresher_.RunOnce(), 0U) << "claimed: not retried before claim_for passes";
  EXPECT_EQ(connections_.Find(core::ConnectionId("01HZZZZZZZZZZZZZZZZZZZZZZZ"))->status,
            core::ConnectionStatus::kConnected);
  http_.Enqueue("POST", kTokenUrl,
                testing::JsonResponse(200, R"({"access_token":"ghu_new","expires_in":28800,)"
                                           R"("refresh_token":"ghr_new","token_type":"bearer"})"));
  clock_.Advance(core::Seconds(601));
  EXPECT_EQ(refresher_.RunOnce(), 1U);
}

TEST_F(BackgroundRefresherTest, StartAndStopDoNotHang) {
  refresher_.Start();
  refresher_.Stop();
  refresher_.Stop();
  SUCCEED();
}

}  // namespace
}  // namespace keybridge::service
