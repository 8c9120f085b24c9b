// End to end (issue #12, defect 1): an administrator who points an integration at another host
// gets nothing of the old registration there. A fake GitLab at the old URL and a second one at
// the new URL; every request the new one receives is checked for the old client secret and the
// users' old access and refresh tokens.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/url.h"
#include "fakes/fake_gitlab.h"
#include "integration/harness.h"
#include "support/fake_clock.h"

namespace keybridge {
namespace {

using nlohmann::json;

class RetargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string callback = kb_.BaseUrl() + "/api/data/oauth2/callback";
    old_.SetRedirectUris({callback});
    new_.SetRedirectUris({callback});
    new_.SetClientCredentials("new-client-id", "new-client-secret");
    ASSERT_NE(old_.AppOptions().client_secret, "new-client-secret");
    kb_.CreateProvider({{"id", "gitlab"},
                        {"kind", "gitlab"},
                        {"client_id", old_.AppOptions().client_id},
                        {"client_secret", old_.AppOptions().client_secret},
                        {"display_name", "GitLab"},
                        {"scope", "api"},
                        {"url", old_.BaseUrl()}});
    alice_ = kb_.issuer().TokenFor("alice");
    bob_ = kb_.issuer().TokenFor("bob");
    admin_ = kb_.issuer().AdminToken();
  }

  // The access token keybridge hands out for `bearer`'s connection now.
  std::string AccessToken(const std::string& bearer, const std::string& connection_id) {
    auto r = kb_.Call("GET", "/api/data/oauth2/connections/" + connection_id + "/token", bearer);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false).value("access_token", "");
  }

  json Connection(const std::string& bearer, const std::string& connection_id) {
    auto r = kb_.Call("GET", "/api/data/oauth2/connections/" + connection_id, bearer);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  testing::FakeClock provider_clock_{std::chrono::system_clock::now()};
  fakes::FakeGitLab old_{provider_clock_};
  fakes::FakeGitLab new_{provider_clock_};
  testing::KeybridgeHarness kb_;
  std::string alice_;
  std::string bob_;
  std::string admin_;
};

TEST_F(RetargetTest, NothingOfTheOldRegistrationReachesTheNewHost) {
  ASSERT_EQ(kb_.Connect(alice_, "gitlab").status, 200);
  ASSERT_EQ(kb_.Connect(bob_, "gitlab").status, 200);
  const std::string alice_connection = kb_.ConnectionId(alice_, "gitlab");
  const std::string bob_connection = kb_.ConnectionId(bob_, "gitlab");
  // Everything of the old grants a request could carry: the secret, both access tokens and the
  // refresh tokens the old GitLab issued (from its token answers, as keybridge stored them).
  std::vector<std::string> old_secrets = {old_.AppOptions().client_secret,
                                          AccessToken(alice_, alice_connection),
                                          AccessToken(bob_, bob_connection)};
  ASSERT_EQ(old_.RequestsTo("/oauth/token").size(), 2U);
  ASSERT_EQ(old_.RevocationCount(), 0);
  for (const std::string& access : {old_secrets[1], old_secrets[2]}) {
    ASSERT_FALSE(access.empty());
    ASSERT_TRUE(old_.IsAccessTokenLive(access));
  }

  // Without a new secret: refused, nothing changes.
  auto refused = kb_.Call("PATCH", "/api/data/oauth2/providers/gitlab", admin_,
                          json{{"url", new_.BaseUrl()}}.dump());
  ASSERT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.body.find("Changing url requires a new client_secret"), std::string::npos)
      << refused.body;
  EXPECT_EQ(AccessToken(alice_, alice_connection), old_secrets[1]);

  auto patched = kb_.Call("PATCH", "/api/data/oauth2/providers/gitlab", admin_,
                          json{{"url", new_.BaseUrl()},
                               {"client_id", "new-client-id"},
                               {"client_secret", "new-client-secret"}}
                              .dump());
  ASSERT_EQ(patched.status, 200) << patched.body;

  // Revoked at the OLD provider, both users.
  EXPECT_EQ(old_.RevocationCount(), 2);
  EXPECT_FALSE(old_.IsAccessTokenLive(old_secrets[1]));
  EXPECT_FALSE(old_.IsAccessTokenLive(old_secrets[2]));
  for (const auto& revocation : old_.RequestsTo("/oauth/revoke")) {
    old_secrets.push_back(revocation.Form("token").value_or(""));  // what keybridge held
  }
  // Every path that would send a token or the secret: token reads (with and without a forced
  // refresh), the account, git credentials, the integration check.
  for (const auto& [bearer, id] : {std::pair{alice_, alice_connection}, {bob_, bob_connection}}) {
    const json connection = Connection(bearer, id);
    EXPECT_EQ(connection.value("status", ""), "invalid_credentials");
    EXPECT_EQ(connection.value("status_reason", ""),
              "The integration's url changed from " + old_.BaseUrl() + " to " + new_.BaseUrl()
                  + ", client_id changed from " + old_.AppOptions().client_id
                  + " to new-client-id; reconnect.");
    auto token = kb_.Call("GET", "/api/data/oauth2/connections/" + id + "/token", bearer);
    EXPECT_NE(token.status, 200) << token.body;
    EXPECT_NE(token.body.find("reconnect"), std::string::npos) << token.body;
    EXPECT_NE(kb_.Call("GET", "/api/data/oauth2/connections/" + id + "/account", bearer).status,
              200);
    EXPECT_NE(kb_.Call("GET",
                       "/api/data/git/credentials?url="
                           + core::PercentEncode(new_.BaseUrl() + "/group/project.git"),
                       bearer)
                  .status,
              200);
  }
  static_cast<void>(kb_.Call("POST", "/api/data/oauth2/providers/gitlab/check", admin_, "{}"));
  // The user reconnects: a new grant at the new host, with the new registration only.
  ASSERT_EQ(kb_.Connect(alice_, "gitlab").status, 200);
  EXPECT_EQ(Connection(alice_, alice_connection).value("status", ""), "connected");
  const std::string fresh = AccessToken(alice_, alice_connection);
  EXPECT_TRUE(new_.IsAccessTokenLive(fresh));

  ASSERT_FALSE(new_.Requests().empty());  // the check and the reconnect did reach it
  for (const auto& request : new_.Requests()) {
    std::string seen = request.path + "?" + request.query + "\n" + request.body;
    for (const auto& header : request.headers) {
      seen += "\n" + header.name + ": " + header.value;
    }
    for (const std::string& secret : old_secrets) {
      EXPECT_EQ(seen.find(secret), std::string::npos) << request.method << " " << request.path;
    }
  }
  // No refresh grant at all reached the new host (the old refresh tokens are gone with the rows).
  for (const auto& request : new_.RequestsTo("/oauth/token")) {
    EXPECT_NE(request.Form("grant_type"), std::optional<std::string>("refresh_token"));
  }
}

// Defect 10: deleting an integration removes its connections with it; their grants must not stay
// live at the provider.
TEST_F(RetargetTest, DeletingAnIntegrationRevokesItsGrantsAtTheProvider) {
  ASSERT_EQ(kb_.Connect(alice_, "gitlab").status, 200);
  ASSERT_EQ(kb_.Connect(bob_, "gitlab").status, 200);
  const std::string alice_access = AccessToken(alice_, kb_.ConnectionId(alice_, "gitlab"));
  const std::string bob_access = AccessToken(bob_, kb_.ConnectionId(bob_, "gitlab"));
  ASSERT_TRUE(old_.IsAccessTokenLive(alice_access));
  ASSERT_TRUE(old_.IsAccessTokenLive(bob_access));

  auto deleted = kb_.Call("DELETE", "/api/data/oauth2/providers/gitlab", admin_);

  ASSERT_EQ(deleted.status, 204) << deleted.body;
  EXPECT_EQ(old_.RevocationCount(), 2);
  EXPECT_FALSE(old_.IsAccessTokenLive(alice_access));
  EXPECT_FALSE(old_.IsAccessTokenLive(bob_access));
  auto listed = kb_.Call("GET", "/api/data/oauth2/connections", alice_);
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(json::parse(listed.body, nullptr, false), json::array()) << "gone with the integration";
}

}  // namespace
}  // namespace keybridge
