// The audit trail end to end: every hand-out path (connection token, git credentials for the
// helper and for git-proxy, rclone remote, token endpoint, image pull secret, registry
// credentials for `keybridge docker-credential`) and every change (integration created, updated,
// deleted; connected; disconnected; refresh failed; signed in; session token created and revoked)
// is read back through GET /api/data/audit with its consumer, caller kind and token fingerprint —
// and never the token. A user reads only their own events; a non-administrator cannot read the
// whole trail.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/url.h"
#include "crypto/base64.h"
#include "crypto/hash.h"
#include "fakes/fake_dropbox.h"
#include "fakes/fake_gitlab.h"
#include "integration/harness.h"
#include "support/fake_clock.h"

namespace keybridge {
namespace {

using nlohmann::json;

std::string Fingerprint(const std::string& token) {
  return crypto::Sha256Hex(token).substr(0, 12);
}

// The registry the GitLab integration serves images from (nothing listens there: handing out a
// pull secret or registry credentials asks only the integration, never the registry).
constexpr const char* kRegistry = "registry.gitlab.example.org";

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string callback = kb_.BaseUrl() + "/api/data/oauth2/callback";
    gitlab_.SetRedirectUris({callback});
    dropbox_.SetRedirectUris({callback});
    kb_.CreateProvider({{"id", "gitlab"},
                        {"kind", "gitlab"},
                        {"client_id", gitlab_.AppOptions().client_id},
                        {"client_secret", gitlab_.AppOptions().client_secret},
                        {"display_name", "GitLab"},
                        {"scope", "api"},
                        {"url", gitlab_.BaseUrl()},
                        {"image_registry_url", std::string("https://") + kRegistry}});
    kb_.CreateProvider({{"id", "dropbox"},
                        {"kind", "dropbox"},
                        {"client_id", dropbox_.AppOptions().client_id},
                        {"client_secret", dropbox_.AppOptions().client_secret},
                        {"display_name", "Dropbox"},
                        {"scope", "account_info.read files.content.read"},
                        {"url", dropbox_.BaseUrl()}});
    alice_ = kb_.issuer().TokenFor("alice");
    ASSERT_EQ(kb_.Connect(alice_, "gitlab").status, 200);
    ASSERT_EQ(kb_.Connect(alice_, "dropbox").status, 200);
    gitlab_id_ = kb_.ConnectionId(alice_, "gitlab");
    dropbox_id_ = kb_.ConnectionId(alice_, "dropbox");
  }

  // The whole trail as the administrator sees it (newest first).
  json Trail(const std::string& query = "") {
    auto r = kb_.Call("GET", "/api/data/audit?per_page=100" + query, kb_.issuer().AdminToken());
    EXPECT_EQ(r.status, 200) << r.body;
    bodies_ += r.body;
    return json::parse(r.body, nullptr, false);
  }

  // The newest event matching `kind`, `consumer` and `caller_kind` ("" any); null if none.
  static json Find(const json& trail, const std::string& kind, const std::string& consumer = "",
                   const std::string& caller_kind = "") {
    for (const json& event : trail) {
      if (event.value("kind", "") == kind
          && (consumer.empty() || event.value("consumer", "") == consumer)
          && (caller_kind.empty() || event.value("caller_kind", "") == caller_kind)) {
        return event;
      }
    }
    return nullptr;
  }

  // A session token of alice's; returns its token and id.
  std::pair<std::string, std::string> MintSessionToken(const json& scope) {
    json mint = {{"session_name", "jupyter-1"}, {"ttl_seconds", 3600}};
    mint.update(scope);
    auto minted = kb_.Call("POST", "/api/data/sessions/tokens", alice_, mint.dump());
    EXPECT_EQ(minted.status, 201) << minted.body;
    const json body = json::parse(minted.body, nullptr, false);
    return {body.value("token", ""), body.value("id", "")};
  }

  // Signs `user` in through the browser flow at the test issuer (OIDC code + PKCE); returns the
  // session cookie pair ("" on failure).
  std::string SignInBrowser(const std::string& user) {
    kb_.issuer().SetBrowserUser(user);
    auto login = kb_.Call("GET", "/api/data/auth/login");
    EXPECT_EQ(login.status, 302) << login.body;
    const std::string flow_cookie = testing::CookiePair(login);
    auto at_issuer = kb_.Call("GET", login.Header("location"));
    EXPECT_EQ(at_issuer.status, 302) << at_issuer.body;
    auto done = kb_.Call("GET", at_issuer.Header("location"), "", "", {{"Cookie", flow_cookie}});
    EXPECT_EQ(done.status, 303) << done.body;
    for (const auto& header : done.headers) {
      if (header.value.rfind("kb_session=", 0) == 0) {
        return header.value.substr(0, header.value.find(';'));
      }
    }
    return "";
  }

  testing::FakeClock provider_clock_{std::chrono::system_clock::now()};
  fakes::FakeGitLab gitlab_{provider_clock_};
  fakes::FakeDropbox dropbox_{provider_clock_};
  // With browser sign-in at the test issuer, for the signed-in event.
  testing::KeybridgeHarness kb_{[](app::ServeConfig& config) {
    config.oidc_client_id = testing::TestIssuerServer::kClientId;
    config.oidc_client_secret = testing::TestIssuerServer::kClientSecret;
  }};
  std::string alice_;
  std::string gitlab_id_;
  std::string dropbox_id_;
  std::string bodies_;  // every audit answer read, to check no token is in any of them
};

TEST_F(AuditTest, EveryHandOutAndChangeIsReadBackWithoutTheToken) {
  const std::string admin = kb_.issuer().AdminToken();
  ASSERT_EQ(kb_.Call("PATCH", "/api/data/oauth2/providers/gitlab", admin,
                     R"j({"display_name":"GitLab (company)"})j")
                .status,
            200);
  kb_.CreateProvider({{"id", "spare"},
                      {"kind", "gitlab"},
                      {"client_id", "spare-client"},
                      {"client_secret", "spare-secret-value"},
                      {"display_name", "Spare"},
                      {"scope", "api"},
                      {"url", "https://spare.example.org"}});
  ASSERT_EQ(kb_.Call("DELETE", "/api/data/oauth2/providers/spare", admin).status, 204);

  auto minted = kb_.Call("POST", "/api/data/sessions/tokens", alice_,
                         json{{"session_name", "jupyter-1"},
                              {"ttl_seconds", 3600},
                              {"connection_ids", {gitlab_id_, dropbox_id_}},
                              {"repository_urls", {gitlab_.GitUrl("group/project")}}}
                             .dump());
  ASSERT_EQ(minted.status, 201) << minted.body;
  const std::string session = json::parse(minted.body).value("token", "");
  const std::string session_id = json::parse(minted.body).value("id", "");

  // Hand-outs, each through its own door.
  std::set<std::string> tokens;
  auto token = kb_.Call("GET", "/api/data/oauth2/connections/" + gitlab_id_ + "/token", session);
  ASSERT_EQ(token.status, 200) << token.body;
  const std::string gitlab_token = json::parse(token.body).value("access_token", "");
  tokens.insert(gitlab_token);
  auto helper = kb_.Call(
      "GET",
      "/api/data/git/credentials?url=" + core::PercentEncode(gitlab_.GitUrl("group/project")),
      session);
  ASSERT_EQ(helper.status, 200) << helper.body;
  tokens.insert(json::parse(helper.body).value("password", ""));
  auto proxy = kb_.Call(
      "GET", "/api/data/git/credentials?provider_id=gitlab&path=group/project.git", session);
  ASSERT_EQ(proxy.status, 200) << proxy.body;
  auto rclone =
      kb_.Call("GET", "/api/data/oauth2/connections/" + dropbox_id_ + "/rclone_config", session);
  ASSERT_EQ(rclone.status, 200) << rclone.body;
  const json remote = json::parse(rclone.body);
  const std::string dropbox_token = remote["token"].value("access_token", "");
  tokens.insert(dropbox_token);
  auto refreshed =
      kb_.Call("POST", "/api/data/oauth2/connections/" + dropbox_id_ + "/token_endpoint", "",
               "grant_type=refresh_token&refresh_token="
                   + core::PercentEncode(remote["token"].value("refresh_token", "")),
               {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  const std::string endpoint_token = json::parse(refreshed.body).value("access_token", "");
  tokens.insert(endpoint_token);
  ASSERT_EQ(kb_.Call("DELETE", "/api/data/oauth2/connections/" + dropbox_id_, alice_).status, 204);

  const json trail = Trail();
  ASSERT_TRUE(trail.is_array());

  const json api = Find(trail, "token-handout", "api");
  ASSERT_TRUE(api.is_object()) << trail.dump(1);
  EXPECT_EQ(api["user"], "alice");
  EXPECT_EQ(api["caller_kind"], "session-token");
  EXPECT_EQ(api["session_token_id"], session_id);
  EXPECT_EQ(api["connection_id"], gitlab_id_);
  EXPECT_EQ(api["provider_id"], "gitlab");
  EXPECT_EQ(api["token_fingerprint"], Fingerprint(gitlab_token));

  const json credential = Find(trail, "token-handout", "git-credential");
  ASSERT_TRUE(credential.is_object());
  EXPECT_EQ(credential["caller_kind"], "session-token");
  EXPECT_EQ(credential["token_fingerprint"],
            Fingerprint(json::parse(helper.body).value("password", "")));
  EXPECT_NE(credential.value("target", "").find("group/project"), std::string::npos);
  EXPECT_TRUE(Find(trail, "token-handout", "git-proxy").is_object());

  const json rclone_event = Find(trail, "token-handout", "rclone");
  ASSERT_TRUE(rclone_event.is_object());
  EXPECT_EQ(rclone_event["connection_id"], dropbox_id_);
  EXPECT_EQ(rclone_event["token_fingerprint"], Fingerprint(dropbox_token));
  const json endpoint = Find(trail, "token-handout", "token-endpoint");
  ASSERT_TRUE(endpoint.is_object());
  EXPECT_EQ(endpoint["token_fingerprint"], Fingerprint(endpoint_token));
  EXPECT_EQ(endpoint["user"], "alice");

  const json created = Find(trail, "integration-created");
  ASSERT_TRUE(created.is_object());
  EXPECT_EQ(created["user"], "admin-1");
  EXPECT_EQ(created["caller_kind"], "jwt");
  const json updated = Find(trail, "integration-updated");
  ASSERT_TRUE(updated.is_object());
  EXPECT_EQ(updated["provider_id"], "gitlab");
  EXPECT_EQ(updated["changes"]["display_name"]["before"], "GitLab");
  EXPECT_EQ(updated["changes"]["display_name"]["after"], "GitLab (company)");
  const json deleted = Find(trail, "integration-deleted");
  ASSERT_TRUE(deleted.is_object());
  EXPECT_EQ(deleted["provider_id"], "spare");

  const json connected = Find(trail, "connected");
  ASSERT_TRUE(connected.is_object());
  EXPECT_EQ(connected["user"], "alice");
  const json disconnected = Find(trail, "disconnected");
  ASSERT_TRUE(disconnected.is_object());
  EXPECT_EQ(disconnected["connection_id"], dropbox_id_);
  EXPECT_EQ(disconnected["caller_kind"], "jwt");
  const json session_created = Find(trail, "session-token-created");
  ASSERT_TRUE(session_created.is_object());
  EXPECT_EQ(session_created["session_token_id"], session_id);

  // Filters: one kind of one integration.
  const json handouts = Trail("&kind=token-handout&provider=gitlab");
  ASSERT_TRUE(handouts.is_array());
  EXPECT_EQ(handouts.size(), 3u);  // api, git-credential, git-proxy
  for (const json& event : handouts) {
    EXPECT_EQ(event["kind"], "token-handout");
    EXPECT_EQ(event["provider_id"], "gitlab");
  }
  EXPECT_EQ(Trail("&since=2001-01-01T00:00:00Z&until=2001-12-31T23:59:59Z").size(), 0u);

  // Never a token, secret or session token in any answer.
  for (const std::string& handed_out : tokens) {
    ASSERT_FALSE(handed_out.empty());
    EXPECT_EQ(bodies_.find(handed_out), std::string::npos);
  }
  EXPECT_EQ(bodies_.find(session), std::string::npos);
  EXPECT_EQ(bodies_.find("spare-secret-value"), std::string::npos);
  EXPECT_EQ(bodies_.find(gitlab_.AppOptions().client_secret), std::string::npos);
}

// The image paths: a Kubernetes pull secret and `keybridge docker-credential`'s registry
// credentials, each obtained with a session token and with the user's own token.
TEST_F(AuditTest, ImagePullSecretsAndRegistryCredentialsAreReadBackWithoutTheSecret) {
  const auto [session, session_id] =
      MintSessionToken({{"image_repositories", {std::string(kRegistry) + "/group/project"}}});
  ASSERT_FALSE(session.empty());
  const std::string image = std::string(kRegistry) + "/group/project/app:v1";

  // The registry password inside a pull secret's .dockerconfigjson, and the whole encoded value.
  std::vector<std::string> secrets;
  const auto pull_secret = [&](const std::string& bearer) -> std::string {
    auto r = kb_.Call(
        "GET", "/api/data/sessions/pull-secret?image_url=" + core::PercentEncode(image), bearer);
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) {
      return "";
    }
    const std::string encoded =
        json::parse(r.body).at("data").at(".dockerconfigjson").get<std::string>();
    const json config = json::parse(crypto::Base64Decode(encoded).value_or("{}"));
    const json login = config.at("auths").at(kRegistry);
    secrets.push_back(encoded);
    secrets.push_back(login.at("auth").get<std::string>());
    return login.at("password").get<std::string>();
  };
  const auto registry_credentials = [&](const std::string& bearer) -> std::string {
    auto r = kb_.Call(
        "GET", std::string("/api/data/sessions/registry-credentials?server_url=") + kRegistry,
        bearer);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? json::parse(r.body).value("secret", "") : "";
  };
  const std::string session_pull = pull_secret(session);
  const std::string session_helper = registry_credentials(session);
  const std::string user_pull = pull_secret(alice_);
  const std::string user_helper = registry_credentials(alice_);
  for (const std::string& secret : {session_pull, session_helper, user_pull, user_helper}) {
    ASSERT_FALSE(secret.empty());
    secrets.push_back(secret);
  }

  const json trail = Trail("&kind=token-handout");
  ASSERT_TRUE(trail.is_array());
  struct Expected {
    const char* consumer;
    const char* caller_kind;
    std::string session_token_id;
    std::string target;
    std::string secret;
  };
  const std::vector<Expected> expected = {
      {"pull-secret", "session-token", session_id, image, session_pull},
      {"docker-helper", "session-token", session_id, kRegistry, session_helper},
      {"pull-secret", "jwt", "", image, user_pull},
      {"docker-helper", "jwt", "", kRegistry, user_helper},
  };
  for (const Expected& want : expected) {
    SCOPED_TRACE(std::string(want.consumer) + " with " + want.caller_kind);
    const json event = Find(trail, "token-handout", want.consumer, want.caller_kind);
    ASSERT_TRUE(event.is_object()) << trail.dump(1);
    EXPECT_EQ(event["user"], "alice");
    EXPECT_EQ(event["session_token_id"], want.session_token_id);
    EXPECT_EQ(event["connection_id"], gitlab_id_);
    EXPECT_EQ(event["provider_id"], "gitlab");
    EXPECT_EQ(event["target"], want.target);
    EXPECT_EQ(event["token_fingerprint"], Fingerprint(want.secret));
  }

  for (const std::string& secret : secrets) {
    ASSERT_FALSE(secret.empty());
    EXPECT_EQ(bodies_.find(secret), std::string::npos);
  }
  EXPECT_EQ(bodies_.find(session), std::string::npos);
}

// What happens to a user without a hand-out: a refresh the provider refused, a browser sign-in,
// a session token revoked.
TEST_F(AuditTest, RefreshFailuresSignInsAndRevocationsAreReadBack) {
  auto token = kb_.Call("GET", "/api/data/oauth2/connections/" + gitlab_id_ + "/token", alice_);
  ASSERT_EQ(token.status, 200) << token.body;
  const std::string access_token = json::parse(token.body).value("access_token", "");
  ASSERT_FALSE(access_token.empty());
  // The user de-authorized keybridge at GitLab: the refresh git's rejection forces is refused.
  gitlab_.RevokeAllTokens();
  auto refused = kb_.Call(
      "GET",
      "/api/data/git/credentials?url=" + core::PercentEncode(gitlab_.GitUrl("group/project"))
          + "&force_refresh=1&rejected_sha256=" + crypto::Sha256Hex(access_token),
      alice_);
  EXPECT_NE(refused.status, 200) << refused.body;
  EXPECT_EQ(gitlab_.RefreshRequestCount(), 1);

  const std::string cookie = SignInBrowser("carol");
  ASSERT_FALSE(cookie.empty());

  const auto [session, session_id] = MintSessionToken({{"connection_ids", {gitlab_id_}}});
  ASSERT_EQ(kb_.Call("DELETE", "/api/data/sessions/tokens/" + session_id, alice_).status, 204);

  const json trail = Trail();
  ASSERT_TRUE(trail.is_array());

  const json refresh = Find(trail, "refresh-failed");
  ASSERT_TRUE(refresh.is_object()) << trail.dump(1);
  EXPECT_EQ(refresh["user"], "alice");  // whose connection
  EXPECT_EQ(refresh["connection_id"], gitlab_id_);
  EXPECT_EQ(refresh["provider_id"], "gitlab");
  EXPECT_EQ(refresh["changes"]["outcome"], "rejected");
  EXPECT_EQ(refresh["token_fingerprint"], "");

  const json signed_in = Find(trail, "signed-in");
  ASSERT_TRUE(signed_in.is_object());
  EXPECT_EQ(signed_in["user"], "carol");
  EXPECT_EQ(signed_in["caller_kind"], "browser");

  const json revoked = Find(trail, "session-token-revoked");
  ASSERT_TRUE(revoked.is_object());
  EXPECT_EQ(revoked["user"], "alice");
  EXPECT_EQ(revoked["caller_kind"], "jwt");
  EXPECT_EQ(revoked["session_token_id"], session_id);

  EXPECT_EQ(bodies_.find(access_token), std::string::npos);
  EXPECT_EQ(bodies_.find(cookie.substr(cookie.find('=') + 1)), std::string::npos);
  EXPECT_EQ(bodies_.find(session), std::string::npos);
}

TEST_F(AuditTest, UsersReadOnlyTheirOwnEventsAndOnlyAdministratorsTheTrail) {
  const std::string bob = kb_.issuer().TokenFor("bob");
  ASSERT_EQ(kb_.Connect(bob, "gitlab").status, 200);
  const std::string bob_connection = kb_.ConnectionId(bob, "gitlab");
  ASSERT_EQ(
      kb_.Call("GET", "/api/data/oauth2/connections/" + bob_connection + "/token", bob).status,
      200);

  auto own = kb_.Call("GET", "/api/data/user/audit", bob);
  ASSERT_EQ(own.status, 200) << own.body;
  const json events = json::parse(own.body);
  ASSERT_GE(events.size(), 2u);  // connected, token-handout
  for (const json& event : events) {
    EXPECT_EQ(event["user"], "bob");
  }
  EXPECT_EQ(events[0]["kind"], "token-handout");  // newest first
  EXPECT_EQ(events[0]["caller_kind"], "jwt");
  EXPECT_EQ(events[0]["consumer"], "api");
  EXPECT_EQ(own.Header("total"), std::to_string(events.size()));

  // ?user= is the administrator's filter: a user cannot read someone else's events with it.
  auto other = kb_.Call("GET", "/api/data/user/audit?user=alice", bob);
  ASSERT_EQ(other.status, 200) << other.body;
  for (const json& event : json::parse(other.body)) {
    EXPECT_EQ(event["user"], "bob");
  }

  EXPECT_EQ(kb_.Call("GET", "/api/data/audit", bob).status, 403);
  EXPECT_EQ(kb_.Call("GET", "/api/data/audit").status, 401);
  EXPECT_EQ(kb_.Call("GET", "/api/data/audit?since=yesterday", kb_.issuer().AdminToken()).status,
            422);

  const auto by_user = Trail("&user=alice");
  ASSERT_TRUE(by_user.is_array());
  ASSERT_FALSE(by_user.empty());
  for (const json& event : by_user) {
    EXPECT_EQ(event["user"], "alice");
  }
}

}  // namespace
}  // namespace keybridge
