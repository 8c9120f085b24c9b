// End to end for the data-connector kinds (dropbox, google, zenodo): an admin creates each
// integration through the API with the fake's loopback URL (the local stand-in the server accepts
// for Dropbox and Google), a user connects through the real authorize and callback routes, reads
// the token, gets it refreshed after it expired (non-rotated refresh tokens for Dropbox and
// Google stay and keep working; Zenodo rotates), reads the account, and disconnects (Dropbox and
// Google revoke the grant; Zenodo has no revocation endpoint, so nothing is called).
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fakes/fake_dropbox.h"
#include "fakes/fake_google.h"
#include "fakes/fake_zenodo.h"
#include "integration/harness.h"
#include "support/fake_clock.h"

namespace keybridge {
namespace {

using nlohmann::json;

// The recorded token requests of one grant type, oldest first.
std::vector<fakes::RecordedRequest> Grants(const fakes::FakeOAuthProvider& fake,
                                           const std::string& token_path,
                                           const std::string& grant_type) {
  std::vector<fakes::RecordedRequest> matching;
  for (auto& request : fake.RequestsTo(token_path)) {
    if (request.Form("grant_type") == grant_type) {
      matching.push_back(std::move(request));
    }
  }
  return matching;
}

class DataConnectorKindsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string callback = kb_.BaseUrl() + "/api/data/oauth2/callback";
    dropbox_.SetRedirectUris({callback});
    google_.SetRedirectUris({callback});
    zenodo_.SetRedirectUris({callback});
    kb_.CreateProvider({{"id", "dropbox"},
                        {"kind", "dropbox"},
                        {"client_id", dropbox_.AppOptions().client_id},
                        {"client_secret", dropbox_.AppOptions().client_secret},
                        {"display_name", "Fake Dropbox"},
                        {"scope", "account_info.read files.content.read"},
                        {"url", dropbox_.BaseUrl()}});
    kb_.CreateProvider({{"id", "google"},
                        {"kind", "google"},
                        {"client_id", google_.AppOptions().client_id},
                        {"client_secret", google_.AppOptions().client_secret},
                        {"display_name", "Fake Google Drive"},
                        {"scope", "openid email https://www.googleapis.com/auth/drive"},
                        {"url", google_.BaseUrl()}});
    kb_.CreateProvider({{"id", "zenodo"},
                        {"kind", "zenodo"},
                        {"client_id", zenodo_.AppOptions().client_id},
                        {"client_secret", zenodo_.AppOptions().client_secret},
                        {"display_name", "Fake Zenodo"},
                        {"scope", "deposit:write deposit:actions"},
                        {"url", zenodo_.BaseUrl() + "/"}});
    alice_ = kb_.issuer().TokenFor("alice");
  }

  std::string Connect(const std::string& provider_id) {
    auto done = kb_.Connect(alice_, provider_id);
    EXPECT_EQ(done.status, 200) << provider_id << ": " << done.body;
    std::string id = kb_.ConnectionId(alice_, provider_id);
    EXPECT_FALSE(id.empty()) << provider_id;
    auto connection = json::parse(
        kb_.Call("GET", "/api/data/oauth2/connections/" + id, alice_).body, nullptr, false);
    EXPECT_EQ(connection.value("status", ""), "connected") << connection;
    return id;
  }

  json Token(const std::string& id, int min_valid = 0) {
    auto r = kb_.Call("GET",
                      "/api/data/oauth2/connections/" + id
                          + "/token?min_valid_seconds=" + std::to_string(min_valid),
                      alice_);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  json Account(const std::string& id) {
    auto r = kb_.Call("GET", "/api/data/oauth2/connections/" + id + "/account", alice_);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  // Past half the short lifetime keybridge refreshes on read; the fake's clock also moves past
  // the lifetime, so the access token keybridge held is expired at the provider too.
  json RefreshedToken(const std::string& id, fakes::FakeOAuthProvider& fake) {
    testing::WaitUntilShortTokensNeedRefresh();
    provider_clock_.Advance(testing::kShortTokenLifetime);
    const int before = fake.RefreshRequestCount();
    json token = Token(id, 7300);
    EXPECT_EQ(fake.RefreshRequestCount(), before + 1);
    EXPECT_TRUE(fake.IsAccessTokenLive(token.value("access_token", "")));
    return token;
  }

  testing::FakeClock provider_clock_{std::chrono::system_clock::now()};
  fakes::FakeDropbox dropbox_{provider_clock_};
  fakes::FakeGoogle google_{provider_clock_};
  fakes::FakeZenodo zenodo_{provider_clock_};
  testing::KeybridgeHarness kb_;
  std::string alice_;
};

TEST_F(DataConnectorKindsTest, DropboxOfflineConnectNonRotatedRefreshAccountAndRevocation) {
  dropbox_.SetAccessTokenLifetime(testing::kShortTokenLifetime);
  const std::string id = Connect("dropbox");
  const auto authorize = dropbox_.RequestsTo("/oauth2/authorize").at(0);
  EXPECT_EQ(authorize.Query("token_access_type"), "offline");
  EXPECT_EQ(authorize.Query("response_type"), "code");
  const auto exchange = Grants(dropbox_, "/oauth2/token", "authorization_code").at(0);
  EXPECT_EQ(exchange.Form("client_secret"), dropbox_.AppOptions().client_secret)
      << "client_secret_post";

  const json first = Token(id);
  const std::string access = first.value("access_token", "");
  EXPECT_TRUE(access.starts_with("sl.")) << first;
  EXPECT_TRUE(dropbox_.IsAccessTokenLive(access));
  EXPECT_FALSE(first.contains("refresh_token"));
  const json account = Account(id);
  EXPECT_EQ(account.value("username", ""), "alice@example.com") << account;
  EXPECT_EQ(account.value("web_url", "absent"), "") << account;
  EXPECT_FALSE(dropbox_.RequestsTo("/2/users/get_current_account").empty());

  const json refreshed = RefreshedToken(id, dropbox_);
  EXPECT_NE(refreshed.value("access_token", ""), access);
  const json again = RefreshedToken(id, dropbox_);  // the kept refresh token still works
  EXPECT_NE(again.value("access_token", ""), refreshed.value("access_token", ""));
  const auto refreshes = Grants(dropbox_, "/oauth2/token", "refresh_token");
  ASSERT_GE(refreshes.size(), 2U);
  const std::string refresh_token = refreshes.front().Form("refresh_token").value_or("");
  EXPECT_FALSE(refresh_token.empty());
  EXPECT_EQ(refreshes.back().Form("refresh_token"), refresh_token) << "not rotated, kept";
  EXPECT_TRUE(dropbox_.IsRefreshTokenLive(refresh_token));

  auto gone = kb_.Call("DELETE", "/api/data/oauth2/connections/" + id, alice_);

  EXPECT_EQ(gone.status, 204) << gone.body;
  EXPECT_EQ(dropbox_.RevocationCount(), 1);
  const auto revoke = dropbox_.RequestsTo("/2/auth/token/revoke").at(0);
  EXPECT_TRUE(revoke.Header("authorization").starts_with("Bearer ")) << "revoked with a token";
  EXPECT_FALSE(dropbox_.IsRefreshTokenLive(refresh_token)) << "the whole grant is revoked";
  EXPECT_FALSE(dropbox_.IsAccessTokenLive(again.value("access_token", "")));
  EXPECT_EQ(kb_.Call("GET", "/api/data/oauth2/connections/" + id, alice_).status, 404);
}

TEST_F(DataConnectorKindsTest, GoogleOfflineConsentConnectNonRotatedRefreshAccountAndRevocation) {
  google_.SetAccessTokenLifetime(testing::kShortTokenLifetime);
  const std::string id = Connect("google");
  const auto authorize = google_.RequestsTo("/o/oauth2/v2/auth").at(0);
  EXPECT_EQ(authorize.Query("access_type"), "offline");
  EXPECT_EQ(authorize.Query("prompt"), "consent");
  const auto exchange = Grants(google_, "/token", "authorization_code").at(0);
  EXPECT_EQ(exchange.Form("client_secret"), google_.AppOptions().client_secret);

  const json first = Token(id);
  const std::string access = first.value("access_token", "");
  EXPECT_TRUE(access.starts_with("ya29.")) << first;
  EXPECT_TRUE(google_.IsAccessTokenLive(access));
  const json account = Account(id);
  EXPECT_EQ(account.value("username", ""), "alice@example.com") << account;
  EXPECT_EQ(account.value("web_url", "absent"), "") << account;
  EXPECT_FALSE(google_.RequestsTo("/v1/userinfo").empty());

  const json refreshed = RefreshedToken(id, google_);
  EXPECT_NE(refreshed.value("access_token", ""), access);
  const json again = RefreshedToken(id, google_);
  const auto refreshes = Grants(google_, "/token", "refresh_token");
  ASSERT_GE(refreshes.size(), 2U);
  const std::string refresh_token = refreshes.front().Form("refresh_token").value_or("");
  EXPECT_TRUE(refresh_token.starts_with("1//"));
  EXPECT_EQ(refreshes.back().Form("refresh_token"), refresh_token) << "not rotated, kept";

  auto gone = kb_.Call("DELETE", "/api/data/oauth2/connections/" + id, alice_);

  EXPECT_EQ(gone.status, 204) << gone.body;
  EXPECT_EQ(google_.RevocationCount(), 1);
  const auto revoke = google_.RequestsTo("/revoke").at(0);
  EXPECT_TRUE(revoke.Form("token").has_value()) << "token in a form body: " << revoke.body;
  EXPECT_FALSE(google_.IsRefreshTokenLive(refresh_token)) << "the whole grant is revoked";
  EXPECT_FALSE(google_.IsAccessTokenLive(again.value("access_token", "")));
  EXPECT_EQ(kb_.Call("GET", "/api/data/oauth2/connections/" + id, alice_).status, 404);
}

TEST_F(DataConnectorKindsTest, ZenodoConnectRotatedRefreshDepositionAccountAndLocalDisconnect) {
  zenodo_.SetAccessTokenLifetime(testing::kShortTokenLifetime);
  zenodo_.AddDeposition({.id = 0, .owner = 1, .title = "Dataset"});
  const std::string id = Connect("zenodo");
  const auto exchange = Grants(zenodo_, "/oauth/token", "authorization_code").at(0);
  EXPECT_EQ(exchange.Form("client_secret"), zenodo_.AppOptions().client_secret)
      << "Zenodo takes body credentials only";

  const json first = Token(id);
  const std::string access = first.value("access_token", "");
  EXPECT_TRUE(zenodo_.IsAccessTokenLive(access));
  const json account = Account(id);
  EXPECT_EQ(account.value("username", ""), "Zenodo user ID: 1") << account;
  EXPECT_EQ(account.value("web_url", "absent"), "") << account;
  const auto listed = zenodo_.RequestsTo("/api/deposit/depositions").at(0);
  EXPECT_EQ(listed.Query("size"), "1");

  const json refreshed = RefreshedToken(id, zenodo_);
  EXPECT_NE(refreshed.value("access_token", ""), access);
  RefreshedToken(id, zenodo_);  // with the rotated refresh token keybridge stored
  const auto refreshes = Grants(zenodo_, "/oauth/token", "refresh_token");
  ASSERT_GE(refreshes.size(), 2U);
  const std::string first_refresh = refreshes.front().Form("refresh_token").value_or("");
  EXPECT_NE(refreshes.back().Form("refresh_token"), first_refresh) << "rotated";
  EXPECT_FALSE(zenodo_.IsRefreshTokenLive(first_refresh));
  const std::size_t requests_before = zenodo_.Requests().size();

  auto gone = kb_.Call("DELETE", "/api/data/oauth2/connections/" + id, alice_);

  EXPECT_EQ(gone.status, 204) << gone.body;
  EXPECT_EQ(zenodo_.Requests().size(), requests_before) << "no revocation endpoint to call";
  EXPECT_EQ(zenodo_.RevocationCount(), 0);
  EXPECT_EQ(kb_.Call("GET", "/api/data/oauth2/connections/" + id, alice_).status, 404);
}

TEST_F(DataConnectorKindsTest, ZenodoAccountWithoutDepositionsIsAPlainZenodoUser) {
  const std::string id = Connect("zenodo");

  EXPECT_EQ(Account(id).value("username", ""), "Zenodo user");
}

TEST_F(DataConnectorKindsTest, DropboxAndGoogleRefuseUrlsOtherThanTheirsOrLoopback) {
  for (const char* kind : {"dropbox", "google"}) {
    const json body = {{"id", std::string("elsewhere-") + kind},
                       {"kind", kind},
                       {"client_id", "id"},
                       {"client_secret", "secret"},
                       {"display_name", "Elsewhere"},
                       {"scope", ""},
                       {"url", "https://tokens.example.com"}};

    auto r = kb_.Call("POST", "/api/data/oauth2/providers", kb_.issuer().AdminToken(), body.dump());

    EXPECT_EQ(r.status, 422) << kind << ": " << r.body;
  }
}

}  // namespace
}  // namespace keybridge
