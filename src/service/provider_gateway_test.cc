#include "service/provider_gateway.h"

#include <gtest/gtest.h>

#include "support/fake_clock.h"
#include "support/scripted_http_client.h"

namespace keybridge::service {
namespace {

constexpr const char* kDiscovery =
    "https://id.example.org/realms/hpc/.well-known/openid-configuration";

core::Provider Oidc() {
  core::Provider p;
  p.id = core::ProviderId("hpc");
  p.kind = core::ProviderKind::kGenericOidc;
  p.client_id = "c";
  p.display_name = "HPC";
  p.url = "https://hpc.example.org";
  p.oidc_issuer_url = "https://id.example.org/realms/hpc";
  return p;
}

std::string Metadata() {
  return R"({"issuer":"https://id.example.org/realms/hpc",)"
         R"("authorization_endpoint":"https://id.example.org/realms/hpc/auth",)"
         R"("token_endpoint":"https://id.example.org/realms/hpc/token",)"
         R"("userinfo_endpoint":"https://id.example.org/realms/hpc/userinfo",)"
         R"("jwks_uri":"https://id.example.org/realms/hpc/certs"})";
}

TEST(ProviderGateway, CachesOidcDiscoveryForABoundedTime) {
  testing::FakeClock clock;
  testing::ScriptedHttpClient http;
  http.Always("GET", kDiscovery, testing::JsonResponse(200, Metadata()));
  ProviderGateway gateway(http, clock, core::Seconds(3600));

  ASSERT_TRUE(gateway.Endpoints(Oidc()).ok());
  ASSERT_TRUE(gateway.Endpoints(Oidc()).ok());
  EXPECT_EQ(http.CountRequests(kDiscovery), 1U);
  clock.Advance(core::Seconds(3601));
  auto endpoints = gateway.Endpoints(Oidc());

  ASSERT_TRUE(endpoints.ok());
  EXPECT_EQ(endpoints->token_url, "https://id.example.org/realms/hpc/token");
  EXPECT_EQ(http.CountRequests(kDiscovery), 2U);
}

TEST(ProviderGateway, DiscoveryFailureIsA502NotA500) {
  testing::FakeClock clock;
  testing::ScriptedHttpClient http;
  http.Always("GET", kDiscovery, testing::JsonResponse(500, "oops"));
  ProviderGateway gateway(http, clock);

  auto endpoints = gateway.Endpoints(Oidc());

  ASSERT_FALSE(endpoints.ok());
  EXPECT_EQ(endpoints.error().code, core::ErrorCode::kUpstreamFailed);
  EXPECT_NE(endpoints.error().message.find("hpc"), std::string::npos);
}

TEST(ProviderGateway, AStaleDocumentIsUsedWhileTheIssuerIsDown) {
  testing::FakeClock clock;
  testing::ScriptedHttpClient http;
  http.Enqueue("GET", kDiscovery, testing::JsonResponse(200, Metadata()));
  http.Always("GET", kDiscovery, testing::JsonResponse(503, ""));
  ProviderGateway gateway(http, clock, core::Seconds(60));
  ASSERT_TRUE(gateway.Endpoints(Oidc()).ok());
  clock.Advance(core::Seconds(61));

  EXPECT_TRUE(gateway.Endpoints(Oidc()).ok());
}

TEST(ProviderGateway, IssuerMismatchIsRejected) {
  testing::FakeClock clock;
  testing::ScriptedHttpClient http;
  std::string metadata = Metadata();
  metadata.replace(metadata.find("realms/hpc\""), 10, "realms/evil");
  http.Always("GET", kDiscovery, testing::JsonResponse(200, metadata));
  ProviderGateway gateway(http, clock);

  EXPECT_FALSE(gateway.Endpoints(Oidc()).ok());
}

// --- data connectors: the connect, refresh, account and revoke paths take them ---

core::Provider DataConnector(core::ProviderKind kind, std::string url) {
  core::Provider p;
  p.id = core::ProviderId(std::string(core::ToString(kind)));
  p.kind = kind;
  p.client_id = "app";
  p.client_secret = core::Secret("app-secret");
  p.display_name = "Data";
  p.url = std::move(url);
  return p;
}

core::TokenSet Tokens(const testing::FakeClock& clock, core::Seconds lifetime) {
  core::TokenSet tokens;
  tokens.access_token = core::Secret("sl.old");
  tokens.refresh_token = core::Secret("refresh-1");
  tokens.obtained_at = clock.Now();
  tokens.expires_at = clock.Now() + lifetime;
  return tokens;
}

constexpr const char* kDropboxToken = "http://127.0.0.1:4100/oauth2/token";
constexpr const char* kDropboxRevoke = "http://127.0.0.1:4100/2/auth/token/revoke";

TEST(ProviderGateway, DropboxExchangesRefreshesAndReadsTheAccountAtTheStandIn) {
  testing::FakeClock clock;
  testing::ScriptedHttpClient http;
  http.Always("POST", kDropboxToken,
              testing::JsonResponse(200, R"({"access_token":"sl.new","token_type":"bearer",)"
                                         R"("expires_in":14400,"refresh_token":"r","uid":"1"})"));
  http.Always("POST", "http://127.0.0.1:4100/2/users/get_current_account",
              testing::JsonResponse(200, R"({"account_id":"dbid:1","email":"a@example.com"})"));
  ProviderGateway gateway(http, clock);
  const core::Provider dropbox =
      DataConnector(core::ProviderKind::kDropbox, "http://127.0.0.1:4100");

  auto exchanged = gateway.ExchangeCode(dropbox, "https://kb/cb", core::Secret("code"), nullptr);
  auto refreshed = gateway.Refresh(dropbox, core::Secret("r"));
  auto account = gateway.Account(dropbox, core::Secret("sl.new"));

  ASSERT_TRUE(exchanged.ok()) << exchanged.error().message;
  EXPECT_EQ(exchanged->access_token.Reveal(), "sl.new");
  ASSERT_TRUE(refreshed.ok());
  ASSERT_TRUE(account.ok()) << account.error().message;
  EXPECT_EQ(account->username, "a@example.com");
  EXPECT_EQ(http.Requests().back().body, "null");
}

TEST(ProviderGateway, DropboxRevokesALiveAccessTokenDirectly) {
  testing::FakeClock clock;
  testing::ScriptedHttpClient http;
  http.Always("POST", kDropboxRevoke, testing::JsonResponse(200, "null"));
  ProviderGateway gateway(http, clock);

  ASSERT_TRUE(gateway
                  .Revoke(DataConnector(core::ProviderKind::kDropbox, "http://127.0.0.1:4100"),
                          Tokens(clock, core::Seconds(3600)))
                  .ok());

  ASSERT_EQ(http.Requests().size(), 1U);
  EXPECT_EQ(http.Requests()[0].url, kDropboxRevoke);
  EXPECT_EQ(http.Requests()[0].body, "");
  EXPECT_EQ(http.Requests()[0].headers.back().value, "Bearer sl.old");
}

TEST(ProviderGateway, DropboxRefreshesAnExpiredAccessTokenToRevokeTheGrant) {
  testing::FakeClock clock;
  testing::ScriptedHttpClient http;
  http.Always("POST", kDropboxToken,
              testing::JsonResponse(200, R"({"access_token":"sl.fresh","token_type":"bearer",)"
                                         R"("expires_in":14400})"));
  http.Always("POST", kDropboxRevoke, testing::JsonResponse(200, "null"));
  ProviderGateway gateway(http, clock);
  const core::TokenSet expired = Tokens(clock, core::Seconds(10));
  clock.Advance(core::Seconds(3600));

  ASSERT_TRUE(
      gateway.Revoke(DataConnector(core::ProviderKind::kDropbox, "http://127.0.0.1:4100"), expired)
          .ok());

  const auto requests = http.Requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(requests[0].url, kDropboxToken);
  EXPECT_NE(requests[0].body.find("refresh_token=refresh-1"), std::string::npos);
  EXPECT_EQ(requests[1].url, kDropboxRevoke);
  EXPECT_EQ(requests[1].headers.back().value, "Bearer sl.fresh");
}

TEST(ProviderGateway, ADropboxGrantThatNoLongerRefreshesNeedsNoRevocation) {
  testing::FakeClock clock;
  testing::ScriptedHttpClient http;
  http.Always(
      "POST", kDropboxToken,
      testing::JsonResponse(
          400,
          R"({"error":"invalid_grant","error_description":"refresh token is invalid or revoked"})"));
  ProviderGateway gateway(http, clock);
  const core::TokenSet expired = Tokens(clock, core::Seconds(10));
  clock.Advance(core::Seconds(3600));

  EXPECT_TRUE(
      gateway.Revoke(DataConnector(core::ProviderKind::kDropbox, "http://127.0.0.1:4100"), expired)
          .ok());
  EXPECT_EQ(http.CountRequests(kDropboxRevoke), 0U);

  http.Always("POST", kDropboxToken, testing::JsonResponse(503, "{}"));
  EXPECT_EQ(
      gateway.Revoke(DataConnector(core::ProviderKind::kDropbox, "http://127.0.0.1:4100"), expired)
          .error()
          .code,
      core::ErrorCode::kUnavailable);
}

TEST(ProviderGateway, GoogleRevokesTheRefreshTokenAndTakesAnUnknownOneAsGone) {
  testing::FakeClock clock;
  testing::ScriptedHttpClient http;
  http.Enqueue("POST", "https://oauth2.googleapis.com/revoke", testing::JsonResponse(200, "{}"));
  http.Enqueue(
      "POST", "https://oauth2.googleapis.com/revoke",
      testing::JsonResponse(
          400, R"({"error":"invalid_token","error_description":"Token expired or revoked"})"));
  http.Enqueue("POST", "https://oauth2.googleapis.com/revoke", testing::JsonResponse(500, "{}"));
  ProviderGateway gateway(http, clock);
  const core::Provider google =
      DataConnector(core::ProviderKind::kGoogle, "https://accounts.google.com");
  const core::TokenSet expired = Tokens(clock, core::Seconds(0));

  EXPECT_TRUE(gateway.Revoke(google, expired).ok());
  EXPECT_TRUE(gateway.Revoke(google, expired).ok());
  EXPECT_EQ(gateway.Revoke(google, expired).error().code, core::ErrorCode::kUpstreamFailed);
  EXPECT_EQ(http.Requests().size(), 3U) << "no refresh first: Google takes the refresh token";
  EXPECT_EQ(http.Requests()[0].body, "token=refresh-1");
}

TEST(ProviderGateway, ZenodoHasNoRevocationAndReadsTheDepositionOwner) {
  testing::FakeClock clock;
  testing::ScriptedHttpClient http;
  http.Always("GET", "https://zenodo.org/api/deposit/depositions?size=1",
              testing::JsonResponse(200, R"([{"id":1,"owner":99}])"));
  ProviderGateway gateway(http, clock);
  const core::Provider zenodo = DataConnector(core::ProviderKind::kZenodo, "https://zenodo.org/");

  EXPECT_TRUE(gateway.Revoke(zenodo, Tokens(clock, core::Seconds(60))).ok());
  EXPECT_TRUE(http.Requests().empty());
  auto account = gateway.Account(zenodo, core::Secret("zat"));
  ASSERT_TRUE(account.ok()) << account.error().message;
  EXPECT_EQ(account->username, "Zenodo user ID: 99");
}

}  // namespace
}  // namespace keybridge::service
