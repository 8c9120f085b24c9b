// End to end: a user connects GitLab and GitHub Enterprise through the real authorize and
// callback routes against the fake providers, reads tokens, gets them refreshed, survives
// provider failures, and disconnects. Each flow-security rule has a test that fails without it.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <thread>

#include "fakes/fake_github.h"
#include "fakes/fake_gitlab.h"
#include "integration/harness.h"
#include "support/fake_clock.h"

namespace keybridge {
namespace {

using nlohmann::json;
using testing::QueryParam;

class ConnectFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string callback = kb_.BaseUrl() + "/api/data/oauth2/callback";
    gitlab_.SetRedirectUris({callback});
    github_.SetRedirectUris({callback});
    kb_.CreateProvider({{"id", "gitlab"},
                        {"kind", "gitlab"},
                        {"client_id", gitlab_.AppOptions().client_id},
                        {"client_secret", gitlab_.AppOptions().client_secret},
                        {"display_name", "Fake GitLab"},
                        {"scope", "api"},
                        {"url", gitlab_.BaseUrl()}});
    kb_.CreateProvider({{"id", "ghe"},
                        {"kind", "github"},
                        {"app_slug", "keybridge-test"},
                        {"client_id", github_.AppOptions().client_id},
                        {"client_secret", github_.AppOptions().client_secret},
                        {"display_name", "Fake GHE"},
                        {"scope", ""},
                        {"use_pkce", true},
                        {"url", github_.BaseUrl()}});
    alice_ = kb_.issuer().TokenFor("alice");
  }

  static fakes::FakeGitLab::Options GitLabOptions() {
    fakes::FakeGitLab::Options o;
    o.path_prefix = "/gitlab";  // a self-managed GitLab under a relative URL root
    return o;
  }
  static fakes::FakeGitHub::Options GitHubOptions() {
    fakes::FakeGitHub::Options o;
    o.enterprise = true;
    return o;
  }

  json Token(const std::string& id, int min_valid = 0, int expect = 200) {
    auto r = kb_.Call("GET",
                      "/api/data/oauth2/connections/" + id
                          + "/token?min_valid_seconds=" + std::to_string(min_valid),
                      alice_);
    EXPECT_EQ(r.status, expect) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  testing::FakeClock provider_clock_{std::chrono::system_clock::now()};
  fakes::FakeGitLab gitlab_{provider_clock_, GitLabOptions()};
  fakes::FakeGitHub github_{provider_clock_, GitHubOptions()};
  testing::KeybridgeHarness kb_;
  std::string alice_;
};

TEST_F(ConnectFlowTest, GitLabConnectTokenRefreshAccountAndDisconnect) {
  gitlab_.SetAccessTokenLifetime(testing::kShortTokenLifetime);
  auto done = kb_.Connect(alice_, "gitlab", kb_.BaseUrl() + "/integrations/complete");

  ASSERT_EQ(done.status, 302) << done.body;
  EXPECT_EQ(done.Header("location"), kb_.BaseUrl() + "/integrations/complete");
  const std::string id = kb_.ConnectionId(alice_, "gitlab");
  ASSERT_FALSE(id.empty());
  auto conn = json::parse(kb_.Call("GET", "/api/data/oauth2/connections/" + id, alice_).body);
  EXPECT_EQ(conn["status"], "connected");
  // PKCE S256 was used (on by default for GitLab) and the verifier matched.
  auto exchange = gitlab_.RequestsTo("/oauth/token").at(0);
  EXPECT_TRUE(exchange.Form("code_verifier").has_value());

  auto first = Token(id);
  const std::string access = first["access_token"];
  EXPECT_TRUE(gitlab_.IsAccessTokenLive(access));
  EXPECT_EQ(first["expires_in"], testing::kShortTokenLifetime.count());
  EXPECT_FALSE(first.contains("refresh_token"));
  ASSERT_TRUE(first.contains("expires_at_iso"));
  EXPECT_TRUE(first["expires_at_iso"].get<std::string>().ends_with("+00:00"))
      << "Python's isoformat(), as Renku writes it: " << first["expires_at_iso"];
  EXPECT_EQ(first["token_type"], "bearer") << "the fake GitLab's token_type, passed on as sent";

  auto account =
      json::parse(kb_.Call("GET", "/api/data/oauth2/connections/" + id + "/account", alice_).body);
  EXPECT_EQ(account["username"], "alice");

  // Past half its life the token is refreshed on read (a reader asking for more than the
  // lifetime is asking for half of it). Counted from here: on a slow machine the 2-s token may
  // already have passed half its life at the account call above, which refreshes too.
  testing::WaitUntilShortTokensNeedRefresh();
  const int refreshes_before = gitlab_.RefreshRequestCount();
  auto refreshed = Token(id, 7300);
  EXPECT_NE(refreshed["access_token"], access);
  EXPECT_EQ(gitlab_.RefreshRequestCount(), refreshes_before + 1);
  EXPECT_FALSE(gitlab_.IsAccessTokenLive(access)) << "GitLab rotation kills the old pair";
  EXPECT_TRUE(gitlab_.IsAccessTokenLive(refreshed["access_token"].get<std::string>()));

  auto gone = kb_.Call("DELETE", "/api/data/oauth2/connections/" + id, alice_);
  EXPECT_EQ(gone.status, 204);
  EXPECT_EQ(gitlab_.RevocationCount(), 1);
  EXPECT_FALSE(gitlab_.IsAccessTokenLive(refreshed["access_token"].get<std::string>()));
  EXPECT_EQ(kb_.Call("GET", "/api/data/oauth2/connections/" + id, alice_).status, 404);
}

TEST_F(ConnectFlowTest, GitHubEnterpriseConnectInstallationsAndStrictRotation) {
  fakes::GitHubInstallation installation;
  installation.account_login = "alice";
  installation.account_id = 1;
  installation.user_ids = {1};
  github_.AddInstallation(installation);

  github_.SetAccessTokenLifetime(testing::kShortTokenLifetime);
  ASSERT_EQ(kb_.Connect(alice_, "ghe").status, 200);
  const std::string id = kb_.ConnectionId(alice_, "ghe");
  auto token = Token(id);
  EXPECT_EQ(token["access_token"].get<std::string>().rfind("ghu_", 0), 0U);

  auto installations =
      kb_.Call("GET", "/api/data/oauth2/connections/" + id + "/installations", alice_);
  ASSERT_EQ(installations.status, 200) << installations.body;
  auto list = json::parse(installations.body);
  ASSERT_EQ(list.size(), 1U);
  EXPECT_EQ(list[0]["account_login"], "alice");
  EXPECT_EQ(installations.Header("total"), "1");
  auto account =
      json::parse(kb_.Call("GET", "/api/data/oauth2/connections/" + id + "/account", alice_).body);
  EXPECT_EQ(account["username"], "alice");

  testing::WaitUntilShortTokensNeedRefresh();
  auto refreshed = Token(id, 30000);
  EXPECT_NE(refreshed["access_token"], token["access_token"]);
  EXPECT_EQ(github_.RefreshRequestCount(), 1);
  // Every token call asked for JSON (GitHub answers form-encoded otherwise) and had a UA.
  for (const auto& r : github_.RequestsTo("/login/oauth/access_token")) {
    EXPECT_EQ(r.Header("accept"), "application/json");
    EXPECT_FALSE(r.Header("user-agent").empty());
  }
}

TEST_F(ConnectFlowTest, GitHubAppWithoutExpiringTokensNeverRefreshes) {
  github_.SetExpiringTokens(false);
  ASSERT_EQ(kb_.Connect(alice_, "ghe").status, 200);
  const std::string id = kb_.ConnectionId(alice_, "ghe");

  auto token = Token(id, 86400);

  EXPECT_FALSE(token.contains("expires_at"));
  EXPECT_EQ(github_.RefreshRequestCount(), 0);
}

TEST_F(ConnectFlowTest, ConsentDenialRedirectsWithTheErrorAndNoCode) {
  gitlab_.DenyConsent();

  auto done = kb_.Connect(alice_, "gitlab", kb_.BaseUrl() + "/integrations/complete?x=1");

  ASSERT_EQ(done.status, 302) << done.body;
  const std::string location = done.Header("location");
  EXPECT_EQ(QueryParam(location, "error"), "access_denied");
  EXPECT_FALSE(QueryParam(location, "error_description").empty());
  EXPECT_EQ(QueryParam(location, "x"), "1");
  EXPECT_EQ(location.find("code="), std::string::npos);
  EXPECT_EQ(location.find("state="), std::string::npos);
}

TEST_F(ConnectFlowTest, RejectedRefreshMarksInvalidCredentialsWithReasonAndReconnectUrl) {
  gitlab_.SetAccessTokenLifetime(testing::kShortTokenLifetime);
  ASSERT_EQ(kb_.Connect(alice_, "gitlab").status, 200);
  const std::string id = kb_.ConnectionId(alice_, "gitlab");
  gitlab_.RevokeAllTokens();  // the user de-authorized the app at GitLab
  testing::WaitUntilShortTokensNeedRefresh();

  auto r = kb_.Call("GET", "/api/data/oauth2/connections/" + id + "/token?min_valid_seconds=7300",
                    alice_);

  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find(kb_.BaseUrl() + "/api/data/oauth2/providers/gitlab/authorize"),
            std::string::npos)
      << r.body;
  auto conn = json::parse(kb_.Call("GET", "/api/data/oauth2/connections/" + id, alice_).body);
  EXPECT_EQ(conn["status"], "invalid_credentials");
  EXPECT_NE(conn["status_reason"].get<std::string>().find("invalid_grant"), std::string::npos);

  // Reconnecting heals it, with the same connection id.
  ASSERT_EQ(kb_.Connect(alice_, "gitlab").status, 200);
  EXPECT_EQ(kb_.ConnectionId(alice_, "gitlab"), id);
  Token(id);
}

TEST_F(ConnectFlowTest, TransientProviderFailureIs503AndKeepsTheConnection) {
  gitlab_.SetAccessTokenLifetime(testing::kShortTokenLifetime);
  ASSERT_EQ(kb_.Connect(alice_, "gitlab").status, 200);
  const std::string id = kb_.ConnectionId(alice_, "gitlab");
  gitlab_.SetAccessTokenLifetime(core::Seconds(7200));
  testing::WaitUntilShortTokensNeedRefresh();
  gitlab_.FailNextTokenRequests(1, 503, 1);
  const std::string path = "/api/data/oauth2/connections/" + id + "/token?min_valid_seconds=7300";

  auto r = kb_.Call("GET", path, alice_);

  EXPECT_EQ(r.status, 503);
  EXPECT_FALSE(r.Header("retry-after").empty());
  auto conn = json::parse(kb_.Call("GET", "/api/data/oauth2/connections/" + id, alice_).body);
  EXPECT_EQ(conn["status"], "connected");
  // Within the provider's Retry-After window a read does not reach the provider; once the window
  // (1 s) has passed, the kept refresh token works.
  EXPECT_EQ(kb_.Call("GET", path, alice_).status, 503);
  EXPECT_EQ(gitlab_.RefreshRequestCount(), 1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int status = 0;
  while ((status = kb_.Call("GET", path, alice_).status) == 503
         && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // waiting for time to pass
  }
  EXPECT_EQ(status, 200);
  EXPECT_EQ(gitlab_.RefreshRequestCount(), 2);
}

TEST_F(ConnectFlowTest, ReplayedStateIsRejectedAndChangesNothing) {
  auto authorize = kb_.Call("GET", "/api/data/oauth2/providers/gitlab/authorize", alice_);
  ASSERT_EQ(authorize.status, 302);
  const std::string cookie = testing::CookiePair(authorize);
  const std::string callback = kb_.Call("GET", authorize.Header("location")).Header("location");
  ASSERT_EQ(kb_.Call("GET", callback, "", "", {{"Cookie", cookie}}).status, 200);
  const auto exchanges = gitlab_.CodeExchangeCount();

  auto replay = kb_.Call("GET", callback, "", "", {{"Cookie", cookie}});

  EXPECT_EQ(replay.status, 403);
  EXPECT_EQ(gitlab_.CodeExchangeCount(), exchanges);
}

TEST_F(ConnectFlowTest, CallbackWithoutTheBrowserCookieIsRefused) {
  auto authorize = kb_.Call("GET", "/api/data/oauth2/providers/gitlab/authorize", alice_);
  const std::string callback = kb_.Call("GET", authorize.Header("location")).Header("location");

  auto r = kb_.Call("GET", callback);

  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(gitlab_.CodeExchangeCount(), 0);
  EXPECT_NE(authorize.Header("set-cookie").find("HttpOnly"), std::string::npos);
  EXPECT_NE(authorize.Header("set-cookie").find("SameSite=Lax"), std::string::npos);
}

TEST_F(ConnectFlowTest, OpenRedirectsAreRejectedAtAuthorize) {
  auto r = kb_.Call(
      "GET", "/api/data/oauth2/providers/gitlab/authorize?next_url=https%3A%2F%2Fevil.com", alice_);
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(kb_.Call("GET", "/api/data/oauth2/providers/nope/authorize", alice_).status, 404);
  EXPECT_EQ(kb_.Call("GET", "/api/data/oauth2/providers/gitlab/authorize").status, 401);
}

TEST_F(ConnectFlowTest, ConnectionsArePrivateToTheirOwner) {
  ASSERT_EQ(kb_.Connect(alice_, "gitlab").status, 200);
  const std::string id = kb_.ConnectionId(alice_, "gitlab");
  const std::string bob = kb_.issuer().TokenFor("bob");

  EXPECT_EQ(kb_.Call("GET", "/api/data/oauth2/connections/" + id + "/token", bob).status, 404);
  EXPECT_EQ(kb_.Call("GET", "/api/data/oauth2/connections/" + id, bob).status, 404);
  EXPECT_EQ(kb_.Call("DELETE", "/api/data/oauth2/connections/" + id, bob).status, 404);
  EXPECT_EQ(kb_.Call("GET", "/api/data/oauth2/connections/" + id + "/token").status, 404);
  EXPECT_EQ(kb_.Call("GET", "/api/data/oauth2/connections", bob).body, "[]");
  EXPECT_EQ(kb_.Call("GET", "/api/data/oauth2/connections").body, "[]");
}

TEST_F(ConnectFlowTest, TokensNeverReachLogsOrTheDatabaseFile) {
  ASSERT_EQ(kb_.Connect(alice_, "gitlab").status, 200);
  const std::string id = kb_.ConnectionId(alice_, "gitlab");
  const std::string access = Token(id)["access_token"];
  kb_.StopApplication();

  std::string bytes;
  for (const char* name : {"keybridge.db", "keybridge.db-wal"}) {
    std::ifstream in(kb_.dir() / name, std::ios::binary);
    bytes.append(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_NE(bytes.find(id), std::string::npos);
  EXPECT_EQ(bytes.find(access), std::string::npos);
}

}  // namespace
}  // namespace keybridge
