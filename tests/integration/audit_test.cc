// The audit trail end to end: every hand-out path (connection token, git credentials for the
// helper and for git-proxy, rclone remote, token endpoint) and every change (integration created,
// updated, deleted; connected; disconnected; session token created) is read back through
// GET /api/data/audit with its consumer, caller kind and token fingerprint — and never the token.
// A user reads only their own events; a non-administrator cannot read the whole trail.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/url.h"
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
                        {"url", gitlab_.BaseUrl()}});
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

  // The newest event matching `kind` and `consumer` ("" any); null if none.
  static json Find(const json& trail, const std::string& kind, const std::string& consumer = "") {
    for (const json& event : trail) {
      if (event.value("kind", "") == kind
          && (consumer.empty() || event.value("consumer", "") == consumer)) {
        return event;
      }
    }
    return nullptr;
  }

  testing::FakeClock provider_clock_{std::chrono::system_clock::now()};
  fakes::FakeGitLab gitlab_{provider_clock_};
  fakes::FakeDropbox dropbox_{provider_clock_};
  testing::KeybridgeHarness kb_;
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
