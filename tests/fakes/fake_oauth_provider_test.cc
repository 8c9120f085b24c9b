// The shared machinery (gate, failure injection, counters, request log), driven through FakeGitLab.
#include "fakes/fake_oauth_provider.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "fakes/fake_gitlab.h"
#include "fakes/fake_test_client.h"
#include "support/fake_clock.h"

namespace keybridge::fakes {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kRedirectUri = "http://127.0.0.1:9/cb";

class FakeOAuthProviderTest : public ::testing::Test {
 protected:
  FakeOAuthProviderTest() {
    FakeGitLab::Options options;
    options.client_id = "app";
    options.client_secret = "secret";
    options.redirect_uris = {std::string(kRedirectUri)};
    gitlab_ = std::make_unique<FakeGitLab>(clock_, std::move(options));
  }

  std::string Code() {
    const core::HttpResponse response =
        client_.Get(gitlab_->AuthorizationEndpoint() + "?"
                    + EncodeFormFields({{"client_id", "app"},
                                        {"redirect_uri", std::string(kRedirectUri)},
                                        {"response_type", "code"},
                                        {"state", "s"}}));
    return FindField(RedirectParams(response), "code").value_or("");
  }

  core::HttpResponse Exchange(const std::string& code) {
    return client_.PostForm(gitlab_->TokenEndpoint(), {{"grant_type", "authorization_code"},
                                                       {"code", code},
                                                       {"redirect_uri", std::string(kRedirectUri)},
                                                       {"client_id", "app"},
                                                       {"client_secret", "secret"}});
  }

  core::HttpResponse Refresh(const std::string& refresh_token) {
    return client_.PostForm(gitlab_->TokenEndpoint(), {{"grant_type", "refresh_token"},
                                                       {"refresh_token", refresh_token},
                                                       {"client_id", "app"},
                                                       {"client_secret", "secret"}});
  }

  std::string RefreshToken() {
    const core::HttpResponse response = Exchange(Code());
    EXPECT_EQ(response.status, 200) << response.body;
    return Json::parse(response.body).value("refresh_token", "");
  }

  testing::FakeClock clock_;
  TestClient client_;
  std::unique_ptr<FakeGitLab> gitlab_;
};

TEST_F(FakeOAuthProviderTest, HeldRequestsWaitUntilReleasedThenRaceForTheGrant) {
  const std::string refresh_token = RefreshToken();
  gitlab_->HoldTokenRequests();
  std::atomic<int> completed{0};
  std::atomic<int> succeeded{0};
  std::vector<std::thread> threads;

  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      const int status = Refresh(refresh_token).status;
      succeeded += status == 200 ? 1 : 0;
      ++completed;
    });
  }
  ASSERT_TRUE(gitlab_->WaitForHeldRequests(3));
  EXPECT_EQ(completed.load(), 0);
  EXPECT_EQ(gitlab_->RefreshRequestCount(), 3);
  gitlab_->ReleaseTokenRequests();
  for (auto& thread : threads) {
    thread.join();
  }

  EXPECT_EQ(completed.load(), 3);
  EXPECT_EQ(succeeded.load(), 1);
  EXPECT_EQ(gitlab_->HeldRequestCount(), 0U);
}

TEST_F(FakeOAuthProviderTest, ReleaseOneLetsTheOldestHeldRequestThrough) {
  const std::string refresh_token = RefreshToken();
  gitlab_->HoldTokenRequests();
  int first_status = 0;
  int second_status = 0;

  std::thread first([&] { first_status = Refresh(refresh_token).status; });
  ASSERT_TRUE(gitlab_->WaitForHeldRequests(1));
  std::thread second([&] { second_status = Refresh(refresh_token).status; });
  ASSERT_TRUE(gitlab_->WaitForHeldRequests(2));
  gitlab_->ReleaseOneTokenRequest();
  first.join();
  const std::size_t still_held = gitlab_->HeldRequestCount();
  gitlab_->ReleaseTokenRequests();
  second.join();

  EXPECT_EQ(first_status, 200);
  EXPECT_EQ(still_held, 1U);
  EXPECT_EQ(second_status, 400);
}

TEST_F(FakeOAuthProviderTest, AfterProcessingHoldRotatesBeforeTheResponseLeaves) {
  const std::string refresh_token = RefreshToken();
  gitlab_->HoldTokenRequests(HoldPoint::kAfterProcessing);
  int status = 0;

  std::thread refresher([&] { status = Refresh(refresh_token).status; });
  ASSERT_TRUE(gitlab_->WaitForHeldRequests(1));
  const bool live_while_held = gitlab_->IsRefreshTokenLive(refresh_token);
  gitlab_->ReleaseTokenRequests();
  refresher.join();

  EXPECT_FALSE(live_while_held);
  EXPECT_EQ(status, 200);
}

TEST_F(FakeOAuthProviderTest, WaitForHeldRequestsTimesOutWhenNothingIsHeld) {
  gitlab_->HoldTokenRequests();

  const bool reached = gitlab_->WaitForHeldRequests(1, std::chrono::milliseconds(20));

  EXPECT_FALSE(reached);
}

TEST_F(FakeOAuthProviderTest, InjectedFailuresLeaveTheGrantUntouched) {
  const std::string code = Code();
  gitlab_->FailNextTokenRequests(2, 503, 7);

  const core::HttpResponse first = Exchange(code);
  const core::HttpResponse second = Exchange(code);
  const core::HttpResponse third = Exchange(code);

  EXPECT_EQ(first.status, 503);
  EXPECT_EQ(first.Header("retry-after"), "7");
  EXPECT_EQ(second.status, 503);
  EXPECT_EQ(third.status, 200) << third.body;
  EXPECT_EQ(gitlab_->CodeExchangeCount(), 3);
  EXPECT_EQ(gitlab_->TokenRequestCount(), 3);
}

TEST_F(FakeOAuthProviderTest, InjectedGitLab429IsPlainTextRetryLater) {
  gitlab_->FailNextTokenRequests(1, 429, 30);

  const core::HttpResponse response = Exchange(Code());

  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(response.body, "Retry later\n");
  EXPECT_EQ(response.Header("retry-after"), "30");
}

TEST_F(FakeOAuthProviderTest, DestroyingTheFakeReleasesHeldRequests) {
  gitlab_->HoldTokenRequests();
  std::atomic<bool> returned{false};
  core::HttpRequest request;
  request.method = "POST";
  request.url = gitlab_->TokenEndpoint();
  request.body = "grant_type=refresh_token&refresh_token=x";
  std::thread requester([&] {
    net::CurlHttpClient raw;
    (void)raw.Send(request);  // a 503 or a closed connection are both fine
    returned = true;
  });
  ASSERT_TRUE(gitlab_->WaitForHeldRequests(1));

  gitlab_.reset();
  requester.join();

  EXPECT_TRUE(returned.load());
}

TEST_F(FakeOAuthProviderTest, RequestLogKeepsMethodPathHeadersAndFormFields) {
  gitlab_->ClearRequests();

  (void)client_.PostForm(gitlab_->TokenEndpoint(),
                         {{"grant_type", "refresh_token"}, {"refresh_token", "a b"}},
                         {{"Authorization", BasicAuth("app", "secret")}, {"Accept", "x/y"}});

  const std::vector<RecordedRequest> requests = gitlab_->Requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/oauth/token");
  EXPECT_EQ(requests[0].Header("authorization"), BasicAuth("app", "secret"));
  EXPECT_EQ(requests[0].Header("accept"), "x/y");
  EXPECT_EQ(requests[0].Form("refresh_token"), "a b");
  EXPECT_EQ(gitlab_->RefreshRequestCount(), 1);
}

TEST_F(FakeOAuthProviderTest, IssueTokenPairMintsAUsableTokenWithoutABrowser) {
  const TokenPair pair = gitlab_->IssueTokenPair(FakeUser{.id = 5, .username = "eve"}, "api");

  const core::HttpResponse user = client_.Get(gitlab_->ApiBaseUrl() + "/user",
                                              {{"Authorization", "Bearer " + pair.access_token}});

  ASSERT_EQ(user.status, 200);
  EXPECT_EQ(Json::parse(user.body)["username"], "eve");
  EXPECT_TRUE(gitlab_->IsRefreshTokenLive(pair.refresh_token));
}

}  // namespace
}  // namespace keybridge::fakes
