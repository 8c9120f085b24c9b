#include "service/token_service.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "support/fake_clock.h"
#include "support/in_memory_repositories.h"
#include "support/scripted_http_client.h"

namespace keybridge::service {
namespace {

constexpr const char* kTokenUrl = "https://gitlab.example.org/oauth/token";

core::Provider GitLab() {
  core::Provider p;
  p.id = "gitlab";
  p.kind = core::ProviderKind::kGitLab;
  p.client_id = "cid";
  p.client_secret = core::Secret("csecret");
  p.display_name = "GitLab";
  p.url = "https://gitlab.example.org";
  return p;
}

std::string RefreshBody(const std::string& access, const std::string& refresh) {
  return R"({"access_token":")" + access + R"(","token_type":"Bearer","expires_in":7200,)"
         + R"("refresh_token":")" + refresh + R"(","scope":"api","created_at":1700000000})";
}

class TokenServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(providers_.Insert(GitLab()).ok());
    core::Connection c;
    c.id = "01HZZZZZZZZZZZZZZZZZZZZZZZ";
    c.user_id = "alice";
    c.provider_id = "gitlab";
    ASSERT_TRUE(connections_.FindOrInsert(c).ok());
    core::TokenSet token;
    token.access_token = core::Secret("old-access");
    token.refresh_token = core::Secret("old-refresh");
    token.expires_in = 7200;
    token.expires_at = clock_.Now() + core::Seconds(7200);
    token.obtained_at = clock_.Now();
    ASSERT_TRUE(connections_.StoreToken(c.id, token, clock_.Now()).ok());
  }

  core::Caller Alice() { return core::Caller::User("alice"); }
  const std::string id_ = "01HZZZZZZZZZZZZZZZZZZZZZZZ";
  testing::FakeClock clock_;
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
};

TEST_F(TokenServiceTest, FreshTokenIsServedWithoutCallingTheProvider) {
  auto c = tokens_.FreshConnection(Alice(), id_, core::Seconds(0));

  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->token->access_token.Reveal(), "old-access");
  EXPECT_TRUE(http_.Requests().empty());
}

TEST_F(TokenServiceTest, ExpiringTokenIsRefreshedAndPersistedBeforeItIsReturned) {
  http_.Enqueue("POST", kTokenUrl, testing::JsonResponse(200, RefreshBody("new-a", "new-r")));
  clock_.Advance(core::Seconds(7200 - 100));

  auto c = tokens_.FreshConnection(Alice(), id_, core::Seconds(0));

  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->token->access_token.Reveal(), "new-a");
  auto stored = connections_.Find(id_);
  EXPECT_EQ(stored->token->access_token.Reveal(), "new-a");
  EXPECT_EQ(stored->token->refresh_token->Reveal(), "new-r");
  ASSERT_EQ(http_.Requests().size(), 1U);
  EXPECT_NE(http_.Requests()[0].body.find("refresh_token=old-refresh"), std::string::npos);
}

TEST_F(TokenServiceTest, MinValidSecondsForcesAnEarlierRefresh) {
  http_.Enqueue("POST", kTokenUrl, testing::JsonResponse(200, RefreshBody("new-a", "new-r")));
  clock_.Advance(core::Seconds(3000));  // 4200 s left: fresh for the margin, not for 5000 s

  EXPECT_EQ(tokens_.FreshConnection(Alice(), id_, core::Seconds(0))->token->access_token.Reveal(),
            "old-access");
  EXPECT_EQ(
      tokens_.FreshConnection(Alice(), id_, core::Seconds(4000))->token->access_token.Reveal(),
      "old-access");
  EXPECT_EQ(
      tokens_.FreshConnection(Alice(), id_, core::Seconds(5000))->token->access_token.Reveal(),
      "new-a");
}

TEST_F(TokenServiceTest, ConcurrentReadsOfAnExpiredConnectionCauseOneRefresh) {
  http_.Enqueue("POST", kTokenUrl, testing::JsonResponse(200, RefreshBody("new-a", "new-r")));
  http_.Enqueue("POST", kTokenUrl,
                testing::JsonResponse(400, R"({"error":"invalid_grant"})"));  // a replay
  clock_.Advance(core::Seconds(8000));

  std::vector<std::thread> readers;
  std::vector<std::string> seen(50);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    readers.emplace_back([&, i] {
      auto c = tokens_.FreshConnection(Alice(), id_, core::Seconds(0));
      seen[i] = c.ok() ? c->token->access_token.Reveal() : c.error().message;
    });
  }
  for (auto& t : readers) {
    t.join();
  }

  EXPECT_EQ(http_.CountRequests(kTokenUrl), 1U);
  for (const auto& s : seen) {
    EXPECT_EQ(s, "new-a");
  }
}

TEST_F(TokenServiceTest, InvalidGrantMarksTheConnectionWithAReasonAndAReconnectUrl) {
  http_.Enqueue("POST", kTokenUrl,
                testing::JsonResponse(
                    400, R"({"error":"invalid_grant","error_description":"The provided ..."})"));
  clock_.Advance(core::Seconds(8000));

  auto c = tokens_.FreshConnection(Alice(), id_, core::Seconds(0));

  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, core::ErrorCode::kReauthorizationRequired);
  EXPECT_NE(c.error().message.find("https://kb.example.org/api/data/oauth2/providers/gitlab/"
                                   "authorize"),
            std::string::npos);
  auto stored = connections_.Find(id_);
  EXPECT_EQ(stored->status, core::ConnectionStatus::kInvalidCredentials);
  EXPECT_NE(stored->status_reason.find("invalid_grant"), std::string::npos);
  // Later reads do not hammer the provider.
  EXPECT_FALSE(tokens_.FreshConnection(Alice(), id_, core::Seconds(0)).ok());
  EXPECT_EQ(http_.CountRequests(kTokenUrl), 1U);
}

TEST_F(TokenServiceTest, TransientFailuresKeepTheRefreshTokenAndTheConnection) {
  for (int status : {503, 502, 429}) {
    core::HttpResponse r = testing::JsonResponse(status, "{}");
    r.headers.push_back({"retry-after", "7"});
    http_.Enqueue("POST", kTokenUrl, r);
  }
  http_.Enqueue("POST", kTokenUrl, core::MakeError(core::ErrorCode::kUnavailable, "timeout"));
  clock_.Advance(core::Seconds(8000));

  for (int i = 0; i < 4; ++i) {
    auto c = tokens_.FreshConnection(Alice(), id_, core::Seconds(0));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, core::ErrorCode::kUnavailable) << i;
  }

  auto stored = connections_.Find(id_);
  EXPECT_EQ(stored->status, core::ConnectionStatus::kConnected);
  EXPECT_EQ(stored->token->refresh_token->Reveal(), "old-refresh");
}

TEST_F(TokenServiceTest, OtherUsersAndAnonymousGetNotFound) {
  EXPECT_EQ(tokens_.FreshConnection(core::Caller::User("bob"), id_, core::Seconds(0)).error().code,
            core::ErrorCode::kNotFound);
  EXPECT_EQ(tokens_.FreshConnection(core::Caller::Anonymous(), id_, core::Seconds(0)).error().code,
            core::ErrorCode::kNotFound);
}

TEST_F(TokenServiceTest, ARefreshWithoutANewRefreshTokenKeepsTheOldOne) {
  http_.Enqueue("POST", kTokenUrl,
                testing::JsonResponse(
                    200, R"({"access_token":"a2","token_type":"bearer","expires_in":3600})"));
  clock_.Advance(core::Seconds(8000));

  ASSERT_TRUE(tokens_.FreshConnection(Alice(), id_, core::Seconds(0)).ok());

  EXPECT_EQ(connections_.Find(id_)->token->refresh_token->Reveal(), "old-refresh");
}

}  // namespace
}  // namespace keybridge::service
