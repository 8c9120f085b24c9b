// FakeGitHub's REST API (user, installations, repositories, app tokens, rate limits) and its
// Enterprise Server layout.
#include <gtest/gtest.h>

#include <string>

#include "fakes/fake_github_test_fixture.h"

namespace keybridge::fakes::github_test {
namespace {

TEST_F(FakeGitHubTest, RestApiRequiresAUserAgent) {
  const TokenPair pair = Connect();
  TestClient anonymous_agent("");

  const core::HttpResponse response = anonymous_agent.Get(
      github_->ApiBaseUrl() + "/user", {{"Authorization", "Bearer " + pair.access_token}});

  EXPECT_EQ(response.status, 403);
  EXPECT_NE(response.body.find("make sure your request has a User-Agent header"),
            std::string::npos);
}

TEST_F(FakeGitHubTest, UserReflectsTheAccountSignedInAtAuthorize) {
  github_->SetCurrentUser(
      FakeUser{.id = 583231, .username = "octocat", .name = "The Octocat", .email = ""});
  const TokenPair pair = Connect();

  const core::HttpResponse response = Api("/user", pair.access_token);

  ASSERT_EQ(response.status, 200);
  const Json body = Json::parse(response.body);
  EXPECT_EQ(body["login"], "octocat");
  EXPECT_EQ(body["id"], 583231);
  EXPECT_EQ(body["html_url"], github_->BaseUrl() + "/octocat");
  EXPECT_TRUE(body["email"].is_null());
  EXPECT_EQ(response.Header("x-ratelimit-limit"), "5000");
  EXPECT_EQ(response.Header("x-ratelimit-remaining"), "4999");
}

TEST_F(FakeGitHubTest, TokenSchemeIsAcceptedLikeBearer) {
  const TokenPair pair = Connect();

  const core::HttpResponse response = client_.Get(
      github_->ApiBaseUrl() + "/user", {{"Authorization", "token " + pair.access_token}});

  EXPECT_EQ(response.status, 200);
}

TEST_F(FakeGitHubTest, InstallationsArePaginatedWithLinkHeaders) {
  for (int i = 0; i < 5; ++i) {
    github_->AddInstallation({.account_login = "org" + std::to_string(i),
                              .account_id = 1000 + i,
                              .account_type = "Organization",
                              .user_ids = {1}});
  }
  github_->AddInstallation({.account_login = "hidden", .account_id = 99, .user_ids = {2}});
  const TokenPair pair = Connect();
  const std::string url = github_->ApiBaseUrl() + "/user/installations";

  const core::HttpResponse first = Api("/user/installations?per_page=2", pair.access_token);
  const core::HttpResponse middle = Api("/user/installations?per_page=2&page=2", pair.access_token);
  const core::HttpResponse last = Api("/user/installations?per_page=2&page=3", pair.access_token);

  ASSERT_EQ(first.status, 200);
  const Json body = Json::parse(first.body);
  EXPECT_EQ(body["total_count"], 5);
  ASSERT_EQ(body["installations"].size(), 2U);
  EXPECT_EQ(body["installations"][0]["account"]["login"], "org0");
  EXPECT_EQ(body["installations"][0]["repository_selection"], "all");
  EXPECT_TRUE(body["installations"][0]["suspended_at"].is_null());
  EXPECT_EQ(first.Header("link"), "<" + url + "?per_page=2&page=2>; rel=\"next\", <" + url
                                      + "?per_page=2&page=3>; rel=\"last\"");
  EXPECT_EQ(middle.Header("link"), "<" + url + "?per_page=2&page=1>; rel=\"prev\", <" + url
                                       + "?per_page=2&page=3>; rel=\"next\", <" + url
                                       + "?per_page=2&page=3>; rel=\"last\", <" + url
                                       + "?per_page=2&page=1>; rel=\"first\"");
  EXPECT_EQ(Json::parse(last.body)["installations"].size(), 1U);
  EXPECT_EQ(last.Header("link").find("rel=\"next\""), std::string::npos);
}

TEST_F(FakeGitHubTest, PerPageIsCappedAtOneHundred) {
  for (int i = 0; i < 101; ++i) {
    github_->AddInstallation({.account_login = "u" + std::to_string(i), .user_ids = {1}});
  }
  const TokenPair pair = Connect();

  const core::HttpResponse response = Api("/user/installations?per_page=500", pair.access_token);

  EXPECT_EQ(Json::parse(response.body)["installations"].size(), 100U);
  EXPECT_NE(response.Header("link").find("page=2>; rel=\"next\""), std::string::npos);
}

TEST_F(FakeGitHubTest, RepositoryOutsideTheInstallationIsNotFound) {
  const std::int64_t installation = github_->AddInstallation(
      {.account_login = "alice", .account_id = 1, .repository_selection = "selected"});
  github_->AddRepository({.full_name = "alice/in",
                          .installation_id = installation,
                          .collaborators = {{1, {.admin = true, .push = true}}}});
  github_->AddRepository({.full_name = "alice/out", .collaborators = {{1, {.push = true}}}});
  const TokenPair pair = Connect();

  const core::HttpResponse inside = Api("/repos/alice/in", pair.access_token);
  const core::HttpResponse outside = Api("/repos/alice/out", pair.access_token);

  ASSERT_EQ(inside.status, 200);
  const Json body = Json::parse(inside.body);
  EXPECT_EQ(body["clone_url"], github_->BaseUrl() + "/alice/in.git");
  EXPECT_EQ(body["html_url"], github_->BaseUrl() + "/alice/in");
  EXPECT_EQ(body["visibility"], "private");
  EXPECT_EQ(body["permissions"]["push"], true);
  EXPECT_EQ(body["permissions"]["admin"], true);
  EXPECT_EQ(outside.status, 404);
  EXPECT_EQ(Json::parse(outside.body)["message"], "Not Found");
}

TEST_F(FakeGitHubTest, InstallationRepositoriesListOnlyReachableRepositories) {
  const std::int64_t installation =
      github_->AddInstallation({.account_login = "alice", .account_id = 1});
  github_->AddRepository(
      {.full_name = "alice/a", .installation_id = installation, .collaborators = {{1, {}}}});
  github_->AddRepository({.full_name = "alice/b", .installation_id = installation});
  const TokenPair pair = Connect();

  const core::HttpResponse response = Api(
      "/user/installations/" + std::to_string(installation) + "/repositories", pair.access_token);

  ASSERT_EQ(response.status, 200);
  const Json body = Json::parse(response.body);
  EXPECT_EQ(body["total_count"], 1);
  EXPECT_EQ(body["repositories"][0]["full_name"], "alice/a");
}

TEST_F(FakeGitHubTest, DeletingTheAppTokenKillsIt) {
  const TokenPair pair = Connect();

  const core::HttpResponse wrong_secret = AppTokenCall("DELETE", "token", pair.access_token, "x");
  const core::HttpResponse deleted = AppTokenCall("DELETE", "token", pair.access_token);
  const core::HttpResponse again = AppTokenCall("DELETE", "token", pair.access_token);

  EXPECT_EQ(wrong_secret.status, 404);
  EXPECT_EQ(deleted.status, 204);
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(Api("/user", pair.access_token).status, 401);
  EXPECT_EQ(Json::parse(Refresh(pair.refresh_token).body)["error"], "bad_refresh_token");
  EXPECT_EQ(github_->RevocationCount(), 3);
}

TEST_F(FakeGitHubTest, DeletingTheGrantKillsEveryTokenOfTheUser) {
  const TokenPair first = Connect();
  const TokenPair second = Connect();

  const core::HttpResponse response = AppTokenCall("DELETE", "grant", first.access_token);

  EXPECT_EQ(response.status, 204);
  EXPECT_FALSE(github_->IsAccessTokenLive(first.access_token));
  EXPECT_FALSE(github_->IsAccessTokenLive(second.access_token));
}

TEST_F(FakeGitHubTest, CheckingAnAppTokenReturnsItsOwner) {
  const TokenPair pair = Connect();

  const core::HttpResponse response = AppTokenCall("POST", "token", pair.access_token);

  ASSERT_EQ(response.status, 200) << response.body;
  const Json body = Json::parse(response.body);
  EXPECT_EQ(body["user"]["login"], "alice");
  EXPECT_EQ(body["app"]["client_id"], kClientId);
}

TEST_F(FakeGitHubTest, MintingAnEleventhTokenRevokesTheOldest) {
  std::vector<TokenPair> pairs;
  for (int i = 0; i < 11; ++i) {
    pairs.push_back(Connect());
  }

  EXPECT_FALSE(github_->IsAccessTokenLive(pairs[0].access_token));
  EXPECT_TRUE(github_->IsAccessTokenLive(pairs[1].access_token));
  EXPECT_TRUE(github_->IsAccessTokenLive(pairs[10].access_token));
}

TEST_F(FakeGitHubTest, RateLimitedApiAnswers403WithExhaustedHeaders) {
  const TokenPair pair = Connect();
  github_->SetRateLimited(true);

  const core::HttpResponse response = Api("/user", pair.access_token);

  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(response.Header("x-ratelimit-remaining"), "0");
  EXPECT_FALSE(response.Header("x-ratelimit-reset").empty());
  EXPECT_NE(std::string(Json::parse(response.body)["message"]).find("rate limit"),
            std::string::npos);
}

TEST_F(FakeGitHubTest, SecondaryRateLimitCarriesRetryAfter) {
  const TokenPair pair = Connect();
  github_->SetSecondaryRateLimited(true, core::Seconds(90));

  const core::HttpResponse response = Api("/user", pair.access_token);

  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(response.Header("retry-after"), "90");
}

TEST_F(FakeGitHubTest, GitHubComServesTheApiOnItsOwnHost) {
  const TokenPair pair = Connect();

  const core::HttpResponse on_web =
      client_.Get(github_->BaseUrl() + "/user", {{"Authorization", "Bearer " + pair.access_token}});

  EXPECT_NE(github_->ApiBaseUrl(), github_->BaseUrl());
  EXPECT_EQ(on_web.status, 404);
  EXPECT_EQ(Api("/user", pair.access_token).status, 200);
}

class FakeGitHubEnterpriseTest : public FakeGitHubTest {
 protected:
  FakeGitHubEnterpriseTest() {
    FakeGitHub::Options options;
    options.enterprise = true;
    options.enterprise_version = "3.16.2";
    Start(std::move(options));
  }
};

TEST_F(FakeGitHubEnterpriseTest, ApiLivesUnderApiV3OnTheWebHost) {
  const TokenPair pair = Connect();

  const core::HttpResponse response = Api("/user", pair.access_token);
  const core::HttpResponse root_user =
      client_.Get(github_->BaseUrl() + "/user", {{"Authorization", "Bearer " + pair.access_token}});

  EXPECT_EQ(github_->ApiBaseUrl(), github_->BaseUrl() + "/api/v3");
  EXPECT_TRUE(github_->TokenEndpoint().ends_with("/login/oauth/access_token"));
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.Header("x-github-enterprise-version"), "3.16.2");
  EXPECT_TRUE(response.Header("x-ratelimit-limit").empty());
  EXPECT_EQ(root_user.status, 404);
}

TEST_F(FakeGitHubEnterpriseTest, AppsAreLookedUpUnderApiV3WithGitHubAppsPages) {
  const core::HttpResponse app = client_.Get(github_->BaseUrl() + "/api/v3/apps/keybridge-test");
  const core::HttpResponse on_root = client_.Get(github_->BaseUrl() + "/apps/keybridge-test");

  ASSERT_EQ(app.status, 200) << app.body;
  EXPECT_EQ(Json::parse(app.body)["html_url"], github_->BaseUrl() + "/github-apps/keybridge-test");
  EXPECT_EQ(app.Header("x-github-enterprise-version"), "3.16.2");
  EXPECT_EQ(on_root.status, 404);
}

TEST_F(FakeGitHubEnterpriseTest, LinkHeadersPointAtApiV3) {
  for (int i = 0; i < 3; ++i) {
    github_->AddInstallation({.account_login = "u" + std::to_string(i), .user_ids = {1}});
  }
  const TokenPair pair = Connect();

  const core::HttpResponse response = Api("/user/installations?per_page=1", pair.access_token);

  EXPECT_NE(response.Header("link").find("<" + github_->BaseUrl()
                                         + "/api/v3/user/installations?per_page=1&page=2>"),
            std::string::npos);
}

TEST_F(FakeGitHubEnterpriseTest, MetaReportsTheInstalledVersion) {
  const core::HttpResponse response = client_.Get(github_->ApiBaseUrl() + "/meta");

  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(Json::parse(response.body)["installed_version"], "3.16.2");
}

TEST_F(FakeGitHubEnterpriseTest, OlderInstanceIgnoresPkce) {
  github_->SetPkceSupported(false);
  FormFields params = AuthorizeParams();
  Set(params, "code_challenge_method", "plain");
  FormFields exchange = ExchangeParams(Code(params));
  Remove(exchange, "code_verifier");

  const core::HttpResponse response = Token(exchange);

  EXPECT_TRUE(Json::parse(response.body).contains("access_token")) << response.body;
}

}  // namespace
}  // namespace keybridge::fakes::github_test
