// End to end for data connectors: a user connected to Dropbox (the fake, through keybridge's
// local stand-in for the dropbox kind) asks for an rclone remote with a session token, and rclone
// — the real Debian binary — refreshes at keybridge's token endpoint with the keybridge refresh
// handle it was given, exactly as golang.org/x/oauth2 sends it (its own client id and secret as
// HTTP Basic, then in the body), and uses the fresh Dropbox token against the storage API. The
// provider's refresh token never reaches rclone. The storage API is a stand-in: rclone's HiDrive
// backend is the one rclone backend whose API root can be configured, so the test points it at a
// loopback server that records the bearer token rclone sends.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/url.h"
#include "crypto/base64.h"
#include "fakes/fake_dropbox.h"
#include "fakes/fake_gitlab.h"
#include "fakes/git_http_backend.h"
#include "http/router.h"
#include "http/server.h"
#include "integration/harness.h"
#include "support/fake_clock.h"

namespace keybridge {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kRclone = "/usr/bin/rclone";

// rclone's built-in HiDrive client id and secret stand for "a client's own credentials": the
// token endpoint must ignore them, wherever the client puts them.
constexpr const char* kClientId = "rclone-client";
constexpr const char* kClientSecret = "rclone-secret";

// Stands in for a storage API: answers rclone's listing of an empty root and records the bearer
// token of every request.
class StorageApiStandIn {
 public:
  StorageApiStandIn() {
    const auto root = [](const http::Request& request) {
      Record(request);
      return http::Response::Json(200, R"({"name":"root","path":"/","type":"dir","members":[]})");
    };
    router_.Add("GET", "/2.1/meta", root);
    router_.Add("GET", "/2.1/dir", root);
    server_ = std::make_unique<http::Server>(http::ServerOptions{}, [this](http::Request& request) {
      return router_.Dispatch(request);
    });
    server_->Start();
  }
  ~StorageApiStandIn() { server_->Stop(); }

  std::string Endpoint() const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/2.1";
  }
  static std::vector<std::string> Bearers() {
    std::lock_guard lock(Mutex());
    return Seen();
  }

 private:
  static std::mutex& Mutex() {
    static std::mutex mutex;
    return mutex;
  }
  static std::vector<std::string>& Seen() {
    static std::vector<std::string> seen;
    return seen;
  }
  static void Record(const http::Request& request) {
    std::lock_guard lock(Mutex());
    Seen().push_back(request.Header("authorization"));
  }

  http::Router router_;
  std::unique_ptr<http::Server> server_;
};

class TokenEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string callback = kb_.BaseUrl() + "/api/data/oauth2/callback";
    dropbox_.SetRedirectUris({callback});
    gitlab_.SetRedirectUris({callback});
    kb_.CreateProvider({{"id", "dropbox"},
                        {"kind", "dropbox"},
                        {"client_id", dropbox_.AppOptions().client_id},
                        {"client_secret", dropbox_.AppOptions().client_secret},
                        {"display_name", "Dropbox"},
                        {"scope", "account_info.read files.content.read"},
                        {"url", dropbox_.BaseUrl()}});
    kb_.CreateProvider({{"id", "gitlab"},
                        {"kind", "gitlab"},
                        {"client_id", gitlab_.AppOptions().client_id},
                        {"client_secret", gitlab_.AppOptions().client_secret},
                        {"display_name", "GitLab"},
                        {"scope", "api"},
                        {"url", gitlab_.BaseUrl()}});
    alice_ = kb_.issuer().TokenFor("alice");
    dropbox_.SetAccessTokenLifetime(testing::kShortTokenLifetime);
    EXPECT_EQ(kb_.Connect(alice_, "dropbox").status, 200);
    EXPECT_EQ(kb_.Connect(alice_, "gitlab").status, 200);
    dropbox_id_ = kb_.ConnectionId(alice_, "dropbox");
    gitlab_id_ = kb_.ConnectionId(alice_, "gitlab");
    dir_ = kb_.dir() / "rclone";
    fs::create_directories(dir_ / "home");
  }

  // A session token for alice scoped to the Dropbox connection.
  std::string SessionToken() {
    auto minted = kb_.Call(
        "POST", "/api/data/sessions/tokens", alice_,
        json{
            {"session_name", "jupyter-1"}, {"ttl_seconds", 3600}, {"connection_ids", {dropbox_id_}}}
            .dump());
    EXPECT_EQ(minted.status, 201) << minted.body;
    session_id_ = json::parse(minted.body).value("id", "");
    return json::parse(minted.body).value("token", "");
  }

  json RcloneConfig(const std::string& bearer, const std::string& connection_id) {
    auto r =
        kb_.Call("GET", "/api/data/oauth2/connections/" + connection_id + "/rclone_config", bearer);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("cache-control"), "no-store");
    return json::parse(r.body, nullptr, false);
  }

  // A refresh exactly as golang.org/x/oauth2 sends it: form-encoded, keys sorted, the client's
  // own credentials as HTTP Basic (AuthStyleInHeader) or in the body (AuthStyleInParams).
  core::HttpResponse Refresh(const std::string& connection_id, const std::string& handle,
                             bool credentials_in_header = true,
                             const std::string& grant_type = "refresh_token") {
    std::string body;
    std::vector<core::HttpHeader> headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    if (credentials_in_header) {
      headers.push_back(
          {"Authorization",
           "Basic " + crypto::Base64Encode(std::string(kClientId) + ":" + kClientSecret)});
    } else {
      body = std::string("client_id=") + kClientId + "&client_secret=" + kClientSecret + "&";
    }
    body += "grant_type=" + grant_type + "&refresh_token=" + core::PercentEncode(handle);
    return kb_.Call("POST", "/api/data/oauth2/connections/" + connection_id + "/token_endpoint", "",
                    body, headers);
  }

  static std::string OAuthError(const core::HttpResponse& response) {
    EXPECT_EQ(response.status, 400) << response.body;
    return json::parse(response.body, nullptr, false).value("error", "");
  }

  testing::FakeClock provider_clock_{std::chrono::system_clock::now()};
  fakes::FakeDropbox dropbox_{provider_clock_};
  fakes::FakeGitLab gitlab_{provider_clock_};
  testing::KeybridgeHarness kb_;
  std::string alice_;
  std::string dropbox_id_;
  std::string gitlab_id_;
  std::string session_id_;
  fs::path dir_;
};

TEST_F(TokenEndpointTest, ASessionGetsAnRcloneRemoteWhoseRefreshTokenIsAKeybridgeHandle) {
  const json remote = RcloneConfig(SessionToken(), dropbox_id_);

  EXPECT_EQ(remote.value("type", ""), "dropbox");
  EXPECT_EQ(remote.value("provider_id", ""), "dropbox");
  EXPECT_EQ(remote.value("token_url", ""),
            kb_.BaseUrl() + "/api/data/oauth2/connections/" + dropbox_id_ + "/token_endpoint");
  const json token = remote.value("token", json::object());
  EXPECT_TRUE(dropbox_.IsAccessTokenLive(token.value("access_token", "")));
  EXPECT_EQ(token.value("token_type", ""), "Bearer");
  const std::string handle = token.value("refresh_token", "");
  EXPECT_TRUE(handle.starts_with("kbr_")) << handle;
  EXPECT_FALSE(dropbox_.IsRefreshTokenLive(handle));
  EXPECT_TRUE(token.contains("expiry"));

  // The same for a user, but not for a GitLab connection: rclone has no backend for it.
  EXPECT_EQ(RcloneConfig(alice_, dropbox_id_).value("type", ""), "dropbox");
  auto gitlab =
      kb_.Call("GET", "/api/data/oauth2/connections/" + gitlab_id_ + "/rclone_config", alice_);
  EXPECT_EQ(gitlab.status, 422) << gitlab.body;
  EXPECT_NE(gitlab.body.find("rclone has no backend"), std::string::npos) << gitlab.body;
  // A session token scoped to Dropbox gets nothing for GitLab.
  auto outside = kb_.Call("GET", "/api/data/oauth2/connections/" + gitlab_id_ + "/rclone_config",
                          SessionToken());
  EXPECT_EQ(outside.status, 403) << outside.body;
}

TEST_F(TokenEndpointTest, RefreshesWithTheHandleAsOAuthClientsSendItAndKeepsTheHandle) {
  const std::string handle =
      RcloneConfig(SessionToken(), dropbox_id_)["token"].value("refresh_token", "");
  testing::WaitUntilShortTokensNeedRefresh();
  provider_clock_.Advance(testing::kShortTokenLifetime);
  const int refreshes = dropbox_.RefreshRequestCount();

  for (const bool in_header : {true, false}) {
    auto r = Refresh(dropbox_id_, handle, in_header);

    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("cache-control"), "no-store");
    EXPECT_EQ(r.Header("pragma"), "no-cache");
    const json answer = json::parse(r.body);
    EXPECT_TRUE(dropbox_.IsAccessTokenLive(answer.value("access_token", ""))) << in_header;
    EXPECT_EQ(answer.value("token_type", ""), "Bearer");
    EXPECT_EQ(answer.value("refresh_token", ""), handle) << "the same handle, never Dropbox's";
    EXPECT_GT(answer.value("expires_in", 0), 0);
    EXPECT_LE(answer.value("expires_in", 0), 3600);
  }
  // keybridge refreshed at Dropbox once, with its own refresh token, for both answers.
  EXPECT_EQ(dropbox_.RefreshRequestCount(), refreshes + 1);
}

TEST_F(TokenEndpointTest, AnswersRfc6749ErrorsAClientUnderstands) {
  const std::string session = SessionToken();
  const std::string handle = RcloneConfig(session, dropbox_id_)["token"].value("refresh_token", "");

  EXPECT_EQ(OAuthError(Refresh(dropbox_id_, handle + "x")), "invalid_grant");
  EXPECT_EQ(OAuthError(Refresh(dropbox_id_, "kbr_not-a-handle")), "invalid_grant");
  // A handle is bound to its connection.
  EXPECT_EQ(OAuthError(Refresh(gitlab_id_, handle)), "invalid_grant");
  EXPECT_EQ(OAuthError(Refresh(dropbox_id_, handle, true, "authorization_code")),
            "unsupported_grant_type");
  auto json_body =
      kb_.Call("POST", "/api/data/oauth2/connections/" + dropbox_id_ + "/token_endpoint", "",
               json{{"grant_type", "refresh_token"}, {"refresh_token", handle}}.dump(),
               {{"Content-Type", "application/json"}});
  EXPECT_EQ(OAuthError(json_body), "invalid_request");
  auto repeated = kb_.Call(
      "POST", "/api/data/oauth2/connections/" + dropbox_id_ + "/token_endpoint", "",
      "grant_type=refresh_token&refresh_token=a&refresh_token=" + core::PercentEncode(handle),
      {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(OAuthError(repeated), "invalid_request");
  // Not a keybridge credential anywhere else.
  EXPECT_EQ(
      kb_.Call("GET", "/api/data/oauth2/connections/" + dropbox_id_ + "/token", handle).status,
      401);

  // The handle ends with the session token it was issued to...
  ASSERT_EQ(kb_.Call("DELETE", "/api/data/sessions/tokens/" + session_id_, alice_).status, 204);
  auto ended = Refresh(dropbox_id_, handle);
  EXPECT_EQ(OAuthError(ended), "invalid_grant");
  EXPECT_NE(ended.body.find("session has ended"), std::string::npos) << ended.body;
  // ...and a user's handle with the connection.
  const std::string users = RcloneConfig(alice_, dropbox_id_)["token"].value("refresh_token", "");
  ASSERT_EQ(Refresh(dropbox_id_, users).status, 200);
  ASSERT_EQ(kb_.Call("DELETE", "/api/data/oauth2/connections/" + dropbox_id_, alice_).status, 204);
  EXPECT_EQ(OAuthError(Refresh(dropbox_id_, users)), "invalid_grant");
}

TEST_F(TokenEndpointTest, RealRcloneRefreshesThroughKeybridgeAndUsesTheFreshToken) {
  ASSERT_TRUE(fs::exists(kRclone)) << "apt-get install rclone (./dev test does)";
  StorageApiStandIn storage;
  const std::string session = SessionToken();

  // `keybridge rclone-config` as a session runs it.
  const fakes::ProcessResult printed = fakes::RunProcess(
      {KEYBRIDGE_BINARY_PATH, "rclone-config", dropbox_id_, "--name", "data"},
      {"KEYBRIDGE_URL=" + kb_.BaseUrl(), "KEYBRIDGE_TOKEN=" + session, "PATH=/usr/bin:/bin"});
  ASSERT_TRUE(printed.ok()) << printed.err;
  EXPECT_TRUE(printed.out.starts_with("[data]\ntype = dropbox\ntoken_url = " + kb_.BaseUrl()))
      << printed.out;
  const auto token_line = printed.out.find("token = ");
  ASSERT_NE(token_line, std::string::npos) << printed.out;
  json token = json::parse(printed.out.substr(token_line + 8), nullptr, false);
  ASSERT_TRUE(token.is_object()) << printed.out;
  const std::string handle = token.value("refresh_token", "");
  const std::string first_access = token.value("access_token", "");

  // The same section with the stand-in's backend, its access token expired (as after a few hours
  // in a session): rclone must refresh before its first call.
  testing::WaitUntilShortTokensNeedRefresh();
  provider_clock_.Advance(testing::kShortTokenLifetime);
  token["expiry"] = "2020-01-01T00:00:00Z";
  const fs::path config = dir_ / "rclone.conf";
  {
    std::ofstream out(config);
    out << "[data]\ntype = hidrive\nendpoint = " << storage.Endpoint()
        << "\nclient_id = " << kClientId << "\nclient_secret = " << kClientSecret << "\n"
        << printed.out.substr(printed.out.find("token_url = "),
                              token_line - printed.out.find("token_url = "))
        << "token = " << token.dump() << "\n";
  }
  const fakes::ProcessResult listed = fakes::RunProcess(
      {kRclone, "--config", config.string(), "--low-level-retries", "1", "--retries", "1", "lsjson",
       "data:"},
      {"HOME=" + (dir_ / "home").string(), "PATH=/usr/bin:/bin"}, {}, std::chrono::seconds(60));

  ASSERT_TRUE(listed.ok()) << listed.err;
  EXPECT_EQ(json::parse(listed.out, nullptr, false), json::array());
  const auto bearers = StorageApiStandIn::Bearers();
  ASSERT_FALSE(bearers.empty());
  const std::string used = bearers.back().substr(std::string("Bearer ").size());
  EXPECT_NE(used, first_access);
  EXPECT_TRUE(dropbox_.IsAccessTokenLive(used)) << "rclone used the token keybridge refreshed";
  // rclone stored the new access token and kept keybridge's handle as its refresh token.
  std::ifstream saved(config);
  const std::string written((std::istreambuf_iterator<char>(saved)),
                            std::istreambuf_iterator<char>());
  EXPECT_NE(written.find(used), std::string::npos) << written;
  EXPECT_NE(written.find(handle), std::string::npos) << written;
}

}  // namespace
}  // namespace keybridge
