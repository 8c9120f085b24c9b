#include "service/token_service.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <vector>

#include "crypto/hash.h"
#include "support/fake_clock.h"
#include "support/in_memory_repositories.h"
#include "support/scripted_http_client.h"

namespace keybridge::service {
namespace {

constexpr const char* kTokenUrl = "https://gitlab.example.org/oauth/token";

core::Provider GitLab() {
  core::Provider p;
  p.id = core::ProviderId("gitlab");
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
    c.id = core::ConnectionId("01HZZZZZZZZZZZZZZZZZZZZZZZ");
    c.user_id = core::UserId("alice");
    c.provider_id = core::ProviderId("gitlab");
    ASSERT_TRUE(connections_.FindOrInsert(c).ok());
    core::TokenSet token;
    token.access_token = core::Secret("old-access");
    token.refresh_token = core::Secret("old-refresh");
    token.expires_in = 7200;
    token.expires_at = clock_.Now() + core::Seconds(7200);
    token.obtained_at = clock_.Now();
    ASSERT_TRUE(connections_.StoreToken(c.id, token, clock_.Now()).ok());
  }

  core::Caller Alice() { return core::Caller::User(core::UserId("alice")); }
  const core::ConnectionId id_{"01HZZZZZZZZZZZZZZZZZZZZZZZ"};
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

// Security issue, defect 10: a disconnect racing a refresh revoked the old token at the
// provider but left the pair the refresh obtained live there.
TEST_F(TokenServiceTest, ARefreshWhoseConnectionWasDeletedMeanwhileRevokesItsNewPair) {
  http_.Enqueue("POST", kTokenUrl, testing::JsonResponse(200, RefreshBody("new-a", "new-r")));
  http_.Always("POST", "https://gitlab.example.org/oauth/revoke", testing::JsonResponse(200, "{}"));
  http_.BeforeAnswer([this](const core::HttpRequest& request) {
    if (request.url == kTokenUrl) {
      static_cast<void>(connections_.Delete(id_));  // the user disconnects meanwhile
    }
  });
  clock_.Advance(core::Seconds(7200 - 100));

  auto refreshed = tokens_.FreshConnection(Alice(), id_, core::Seconds(0));

  EXPECT_FALSE(refreshed.ok());
  ASSERT_EQ(http_.CountRequests("https://gitlab.example.org/oauth/revoke"), 1U);
  const std::string revocation = http_.Requests().back().body;
  EXPECT_NE(revocation.find("new-"), std::string::npos) << revocation;
}

TEST_F(TokenServiceTest, ARefreshThatStoredItsPairRevokesNothing) {
  http_.Enqueue("POST", kTokenUrl, testing::JsonResponse(200, RefreshBody("new-a", "new-r")));
  clock_.Advance(core::Seconds(7200 - 100));

  auto refreshed = tokens_.FreshConnection(Alice(), id_, core::Seconds(0));

  ASSERT_TRUE(refreshed.ok()) << refreshed.error().message;
  EXPECT_EQ(refreshed->token->access_token.Reveal(), "new-a");
  EXPECT_EQ(http_.CountRequests("https://gitlab.example.org/oauth/revoke"), 0U);
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
  clock_.Advance(core::Seconds(4000));  // 3200 s left: fresh for the margin and for 3000 s

  EXPECT_EQ(tokens_.FreshConnection(Alice(), id_, core::Seconds(0))->token->access_token.Reveal(),
            "old-access");
  EXPECT_EQ(
      tokens_.FreshConnection(Alice(), id_, core::Seconds(3000))->token->access_token.Reveal(),
      "old-access");
  EXPECT_EQ(
      tokens_.FreshConnection(Alice(), id_, core::Seconds(3500))->token->access_token.Reveal(),
      "new-a");
}

TEST_F(TokenServiceTest, NoCallerCanMakeEveryReadRefresh) {
  // Asking for the whole lifetime (or more) is asking for half of it: a refreshed token then
  // satisfies every read for half its life, so GitLab and GitHub Apps (which revoke the previous
  // token on refresh) do not pull the token from under other sessions on every read.
  http_.Enqueue("POST", kTokenUrl, testing::JsonResponse(200, RefreshBody("new-a", "new-r")));
  clock_.Advance(core::Seconds(3700));  // 3500 s left: less than half the lifetime

  for (int i = 0; i < 5; ++i) {
    auto c = tokens_.FreshConnection(Alice(), id_, core::Seconds(86400));
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->token->access_token.Reveal(), "new-a");
    clock_.Advance(core::Seconds(60));
  }
  EXPECT_EQ(http_.Requests().size(), 1U) << "one refresh, not one per read";
}

TEST_F(TokenServiceTest, ConcurrentReadsOfAnExpiredConnectionCauseOneRefresh) {
  http_.Enqueue("POST", kTokenUrl, testing::JsonResponse(200, RefreshBody("new-a", "new-r")));
  http_.Enqueue("POST", kTokenUrl,
                testing::JsonResponse(400, R"({"error":"invalid_grant"})"));  // a replay
  clock_.Advance(core::Seconds(8000));

  std::vector<std::thread> readers;
  std::vector<std::string> seen(50);
  for (std::string& slot : seen) {
    readers.emplace_back([&, out = &slot] {
      auto c = tokens_.FreshConnection(Alice(), id_, core::Seconds(0));
      *out = c.ok() ? c->token->access_token.Reveal() : c.error().message;
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

TEST_F(TokenServiceTest, EveryRefreshSentToTheProviderIsReportedWithItsOutcome) {
  std::vector<std::string> outcomes;
  TokenServiceOptions options{core::Seconds(300), core::PublicUrls("https://kb.example.org")};
  options.on_provider_refresh = [&outcomes](const core::ProviderId& provider,
                                            std::string_view outcome) {
    outcomes.push_back(provider.value() + ":" + std::string(outcome));
  };
  TokenService observed(connections_, providers_, gateway_, clock_, scope_, options);
  http_.Enqueue("POST", kTokenUrl, testing::JsonResponse(503, "{}"));
  http_.Enqueue("POST", kTokenUrl, testing::JsonResponse(200, RefreshBody("new-a", "new-r")));
  http_.Enqueue("POST", kTokenUrl, testing::JsonResponse(400, R"({"error":"invalid_grant"})"));
  clock_.Advance(core::Seconds(8000));

  EXPECT_FALSE(observed.FreshConnection(Alice(), id_, core::Seconds(0)).ok());
  EXPECT_FALSE(observed.FreshConnection(Alice(), id_, core::Seconds(0)).ok()) << "back-off";
  clock_.Advance(core::Seconds(5));
  EXPECT_TRUE(observed.FreshConnection(Alice(), id_, core::Seconds(0)).ok());
  clock_.Advance(core::Seconds(8000));
  EXPECT_FALSE(observed.FreshConnection(Alice(), id_, core::Seconds(0)).ok());

  EXPECT_EQ(outcomes,
            (std::vector<std::string>{"gitlab:unavailable", "gitlab:refreshed", "gitlab:rejected"}))
      << "one report per request sent; none for the read refused by the back-off";
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
  EXPECT_EQ(tokens_.FreshConnection(core::Caller::User(core::UserId("bob")), id_, core::Seconds(0))
                .error()
                .code,
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

// Issue "Serving core": while a provider fails, a read of an expired token must not reach it
// again before the back-off window has passed.
TEST_F(TokenServiceTest, ATransientFailureOpensAnExponentialBackoffWindow) {
  http_.Always("POST", kTokenUrl, testing::JsonResponse(503, "{}"));
  clock_.Advance(core::Seconds(8000));

  for (int i = 0; i < 10; ++i) {
    auto c = tokens_.FreshConnection(Alice(), id_, core::Seconds(0));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, core::ErrorCode::kUnavailable);
    EXPECT_EQ(c.error().detail, "retry_after=5") << i;
    EXPECT_EQ(c.error().retry_after, core::Seconds(5)) << "becomes the answer's Retry-After";
  }
  EXPECT_EQ(http_.CountRequests(kTokenUrl), 1U);

  clock_.Advance(core::Seconds(5));
  EXPECT_EQ(tokens_.FreshConnection(Alice(), id_, core::Seconds(0)).error().detail,
            "retry_after=10");
  EXPECT_EQ(http_.CountRequests(kTokenUrl), 2U);
  clock_.Advance(core::Seconds(9));
  EXPECT_EQ(tokens_.FreshConnection(Alice(), id_, core::Seconds(0)).error().detail,
            "retry_after=1");
  EXPECT_EQ(http_.CountRequests(kTokenUrl), 2U);
  clock_.Advance(core::Seconds(1));
  EXPECT_EQ(tokens_.FreshConnection(Alice(), id_, core::Seconds(0)).error().detail,
            "retry_after=20");
  EXPECT_EQ(http_.CountRequests(kTokenUrl), 3U);
}

TEST_F(TokenServiceTest, TheProvidersRetryAfterIsTheWindowAndSuccessEndsIt) {
  core::HttpResponse limited = testing::JsonResponse(429, "{}");
  limited.headers.push_back({"retry-after", "60"});
  http_.Enqueue("POST", kTokenUrl, limited);
  http_.Enqueue("POST", kTokenUrl, testing::JsonResponse(200, RefreshBody("new-a", "new-r")));
  clock_.Advance(core::Seconds(8000));

  auto limited_answer = tokens_.FreshConnection(Alice(), id_, core::Seconds(0));
  EXPECT_EQ(limited_answer.error().detail, "retry_after=60");
  EXPECT_EQ(limited_answer.error().retry_after, core::Seconds(60));
  clock_.Advance(core::Seconds(59));
  EXPECT_EQ(tokens_.FreshConnection(Alice(), id_, core::Seconds(0)).error().detail,
            "retry_after=1");
  EXPECT_EQ(http_.CountRequests(kTokenUrl), 1U);
  clock_.Advance(core::Seconds(1));
  auto c = tokens_.FreshConnection(Alice(), id_, core::Seconds(0));

  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->token->access_token.Reveal(), "new-a");
  EXPECT_EQ(http_.CountRequests(kTokenUrl), 2U);
}

// An HttpClient whose first request throws (a bug somewhere below the service).
class ThrowingOnceHttpClient final : public core::HttpClient {
 public:
  explicit ThrowingOnceHttpClient(core::HttpClient& next) : next_(next) {}
  core::Result<core::HttpResponse> Send(const core::HttpRequest& request) override {
    if (!thrown_.exchange(true)) {
      throw std::runtime_error("bug");
    }
    return next_.Send(request);
  }

 private:
  core::HttpClient& next_;
  std::atomic<bool> thrown_{false};
};

TEST_F(TokenServiceTest, AThrowingRefreshAnswersWithAnErrorAndLeavesNothingBehind) {
  ThrowingOnceHttpClient throwing(http_);
  ProviderGateway gateway(throwing, clock_);
  TokenService tokens(
      connections_, providers_, gateway, clock_, scope_,
      TokenServiceOptions{core::Seconds(300), core::PublicUrls("https://kb.example.org")});
  http_.Enqueue("POST", kTokenUrl, testing::JsonResponse(200, RefreshBody("new-a", "new-r")));
  clock_.Advance(core::Seconds(8000));

  auto failed = tokens.FreshConnection(Alice(), id_, core::Seconds(0));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, core::ErrorCode::kInternal);
  // The single-flight entry is gone: the next read refreshes normally instead of finding a
  // broken promise.
  auto next = tokens.FreshConnection(Alice(), id_, core::Seconds(0));
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->token->access_token.Reveal(), "new-a");
}

TEST_F(TokenServiceTest, ConcurrentReadersOfAThrowingRefreshAllGetAnAnswer) {
  ThrowingOnceHttpClient throwing(http_);
  ProviderGateway gateway(throwing, clock_);
  TokenService tokens(
      connections_, providers_, gateway, clock_, scope_,
      TokenServiceOptions{core::Seconds(300), core::PublicUrls("https://kb.example.org")});
  http_.Always("POST", kTokenUrl, testing::JsonResponse(200, RefreshBody("new-a", "new-r")));
  clock_.Advance(core::Seconds(8000));

  std::vector<std::thread> readers;
  std::atomic<int> answered{0};
  for (int i = 0; i < 8; ++i) {
    readers.emplace_back([&] {
      auto c = tokens.FreshConnection(Alice(), id_, core::Seconds(0));
      if (c.ok() || c.error().code == core::ErrorCode::kInternal) {
        ++answered;
      }
    });
  }
  for (auto& t : readers) {
    t.join();
  }

  EXPECT_EQ(answered.load(), 8);
  EXPECT_EQ(tokens.FreshConnection(Alice(), id_, core::Seconds(0))->token->access_token.Reveal(),
            "new-a");
}

TEST_F(TokenServiceTest, ForceRefreshWithoutTheRejectedHashIsRefused) {
  TokenDemand forced;
  forced.force_refresh = true;

  auto c = tokens_.FreshConnection(Alice(), id_, forced);

  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(c.error().message.find("rejected_token_sha256"), std::string::npos);
  EXPECT_EQ(http_.CountRequests(kTokenUrl), 0U);
}

TEST_F(TokenServiceTest, ForcedRefreshesAreLimitedPerConnection) {
  http_.Enqueue("POST", kTokenUrl, testing::JsonResponse(200, RefreshBody("new-a", "new-r")));
  http_.Enqueue("POST", kTokenUrl, testing::JsonResponse(200, RefreshBody("newer-a", "newer-r")));
  TokenDemand old_rejected;
  old_rejected.force_refresh = true;
  old_rejected.rejected_token_sha256 = crypto::Sha256Hex("old-access");
  TokenDemand new_rejected = old_rejected;
  new_rejected.rejected_token_sha256 = crypto::Sha256Hex("new-a");

  EXPECT_EQ(tokens_.FreshConnection(Alice(), id_, old_rejected)->token->access_token.Reveal(),
            "new-a");
  clock_.Advance(core::Seconds(10));
  // Within the interval: a report of the replaced token gets the current one...
  EXPECT_EQ(tokens_.FreshConnection(Alice(), id_, old_rejected)->token->access_token.Reveal(),
            "new-a");
  // ...and a report of the current one is told when to come back, without a provider call.
  auto limited = tokens_.FreshConnection(Alice(), id_, new_rejected);
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(limited.error().detail, "retry_after=20");
  EXPECT_EQ(http_.CountRequests(kTokenUrl), 1U);

  clock_.Advance(core::Seconds(20));
  EXPECT_EQ(tokens_.FreshConnection(Alice(), id_, new_rejected)->token->access_token.Reveal(),
            "newer-a");
  EXPECT_EQ(http_.CountRequests(kTokenUrl), 2U);
}

// Another replica stores a new token between our read and our lease: a caller that asked for
// more than any token gives adopts it rather than refreshing again.
class RefreshedMeanwhileRepository final : public core::ConnectionRepository {
 public:
  RefreshedMeanwhileRepository(testing::InMemoryConnectionRepository& rows, core::TokenSet next,
                               core::TimePoint now)
      : rows_(rows), next_(std::move(next)), now_(now) {}
  core::Result<std::vector<core::Connection>> ListForUser(const core::UserId& user) override {
    return rows_.ListForUser(user);
  }
  core::Result<core::Connection> Find(const core::ConnectionId& id) override {
    return rows_.Find(id);
  }
  core::Result<core::Connection> FindOrInsert(const core::Connection& c) override {
    return rows_.FindOrInsert(c);
  }
  core::Result<core::Connection> StoreToken(const core::ConnectionId& id,
                                            const core::TokenSet& token,
                                            core::TimePoint now) override {
    return rows_.StoreToken(id, token, now);
  }
  core::Result<core::Connection> WithRefreshLock(
      const core::ConnectionId& id,
      const std::function<core::Result<core::RefreshOutcome>(const core::Connection&)>& refresh)
      override {
    static_cast<void>(rows_.StoreToken(id, next_, now_));  // the other replica won
    return rows_.WithRefreshLock(id, refresh);
  }
  core::Result<std::optional<core::Connection>> Delete(const core::ConnectionId& id) override {
    return rows_.Delete(id);
  }
  core::Result<std::vector<core::ConnectionId>> ClaimDueRefreshes(core::TimePoint now,
                                                                  core::Seconds claim_for,
                                                                  std::size_t limit) override {
    return rows_.ClaimDueRefreshes(now, claim_for, limit);
  }
  core::Result<std::int64_t> CountForProvider(const core::ProviderId& provider_id) override {
    return rows_.CountForProvider(provider_id);
  }
  core::Result<std::vector<core::Connection>> InvalidateForProvider(
      const core::ProviderId& provider_id, const std::string& reason,
      core::TimePoint now) override {
    return rows_.InvalidateForProvider(provider_id, reason, now);
  }

 private:
  testing::InMemoryConnectionRepository& rows_;
  core::TokenSet next_;
  core::TimePoint now_;
};

TEST_F(TokenServiceTest, AWaiterAdoptsTheTokenAnotherReplicaStoredMeanwhile) {
  http_.Always("POST", kTokenUrl, testing::JsonResponse(200, RefreshBody("ours", "ours-r")));
  clock_.Advance(core::Seconds(8000));
  core::TokenSet theirs;
  theirs.access_token = core::Secret("theirs");
  theirs.refresh_token = core::Secret("theirs-r");
  theirs.expires_in = 7200;
  theirs.obtained_at = clock_.Now();
  theirs.expires_at = clock_.Now() + core::Seconds(7200);
  RefreshedMeanwhileRepository connections(connections_, theirs, clock_.Now());
  TokenService tokens(
      connections, providers_, gateway_, clock_, scope_,
      TokenServiceOptions{core::Seconds(300), core::PublicUrls("https://kb.example.org")});

  auto c = tokens.FreshConnection(Alice(), id_, core::Seconds(86400));

  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->token->access_token.Reveal(), "theirs");
  EXPECT_EQ(http_.CountRequests(kTokenUrl), 0U);
}

TEST_F(TokenServiceTest, ATimedOutRefreshIsNotedAndTheConnectionStaysUsable) {
  http_.Enqueue(
      "POST", kTokenUrl,
      core::MakeError(core::ErrorCode::kUnavailable, "request to gitlab.example.org timed out"));
  http_.Enqueue("POST", kTokenUrl, testing::JsonResponse(200, RefreshBody("new-a", "new-r")));
  clock_.Advance(core::Seconds(7000));  // 200 s left: inside the margin, still valid

  auto timed_out = tokens_.FreshConnection(Alice(), id_, core::Seconds(0));
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.error().code, core::ErrorCode::kUnavailable);
  auto stored = connections_.Find(id_);
  EXPECT_EQ(stored->status, core::ConnectionStatus::kConnected);
  EXPECT_EQ(stored->status_reason,
            "the provider did not answer the last refresh in time; if it was rotated, reconnect");
  EXPECT_EQ(stored->token->access_token.Reveal(), "old-access");
  EXPECT_EQ(stored->token->refresh_token->Reveal(), "old-refresh");

  clock_.Advance(core::Seconds(5));
  auto next = tokens_.FreshConnection(Alice(), id_, core::Seconds(0));
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->token->access_token.Reveal(), "new-a");
  EXPECT_EQ(connections_.Find(id_)->status_reason, "");
}

}  // namespace
}  // namespace keybridge::service
