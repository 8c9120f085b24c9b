// The data connector kinds (dropbox, google, zenodo) through the public oauth/ builders and
// parsers, with answers shaped as the providers send them.
#include "oauth/data_connectors.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "oauth/account.h"
#include "oauth/authorization_request.h"
#include "oauth/form.h"
#include "oauth/revocation.h"
#include "oauth/test_fixtures.h"
#include "oauth/token_request.h"
#include "oauth/token_response.h"

namespace keybridge::oauth {
namespace {

using testing::DropboxProvider;
using testing::GoogleProvider;
using testing::HeaderLines;
using testing::Json;
using testing::ZenodoProvider;

ProviderEndpoints EndpointsOf(const core::Provider& provider) {
  auto endpoints = EndpointsFor(provider, nullptr);
  EXPECT_TRUE(endpoints.ok()) << endpoints.error().message;
  return endpoints.ok() ? *endpoints : ProviderEndpoints{};
}

core::TokenSet Tokens(std::string access, std::string refresh) {
  core::TokenSet tokens;
  tokens.access_token = core::Secret(std::move(access));
  if (!refresh.empty()) {
    tokens.refresh_token = core::Secret(std::move(refresh));
  }
  return tokens;
}

// --- endpoints ---

TEST(DataConnectorEndpoints, DropboxProductionUsesItsFixedHosts) {
  const ProviderEndpoints e = EndpointsOf(DropboxProvider());
  EXPECT_EQ(e.authorize_url, "https://www.dropbox.com/oauth2/authorize");
  EXPECT_EQ(e.token_url, "https://api.dropboxapi.com/oauth2/token");
  EXPECT_EQ(e.revoke_url, "https://api.dropboxapi.com/2/auth/token/revoke");
  EXPECT_EQ(e.userinfo_url, "https://api.dropboxapi.com/2/users/get_current_account");
  EXPECT_EQ(e.token_auth, ClientAuthMethod::kClientSecretPost);
  EXPECT_TRUE(e.issuer.empty());
}

TEST(DataConnectorEndpoints, GoogleProductionUsesItsFixedHosts) {
  const ProviderEndpoints e = EndpointsOf(GoogleProvider());
  EXPECT_EQ(e.authorize_url, "https://accounts.google.com/o/oauth2/v2/auth");
  EXPECT_EQ(e.token_url, "https://oauth2.googleapis.com/token");
  EXPECT_EQ(e.revoke_url, "https://oauth2.googleapis.com/revoke");
  EXPECT_EQ(e.userinfo_url, "https://openidconnect.googleapis.com/v1/userinfo");
  EXPECT_EQ(e.token_auth, ClientAuthMethod::kClientSecretPost);
}

TEST(DataConnectorEndpoints, ALoopbackStandInServesEveryPathItself) {
  const ProviderEndpoints dropbox = EndpointsOf(DropboxProvider("http://127.0.0.1:4100/"));
  EXPECT_EQ(dropbox.authorize_url, "http://127.0.0.1:4100/oauth2/authorize");
  EXPECT_EQ(dropbox.token_url, "http://127.0.0.1:4100/oauth2/token");
  EXPECT_EQ(dropbox.revoke_url, "http://127.0.0.1:4100/2/auth/token/revoke");
  EXPECT_EQ(dropbox.userinfo_url, "http://127.0.0.1:4100/2/users/get_current_account");

  const ProviderEndpoints google = EndpointsOf(GoogleProvider("http://localhost:4200"));
  EXPECT_EQ(google.authorize_url, "http://localhost:4200/o/oauth2/v2/auth");
  EXPECT_EQ(google.token_url, "http://localhost:4200/token");
  EXPECT_EQ(google.revoke_url, "http://localhost:4200/revoke");
  EXPECT_EQ(google.userinfo_url, "http://localhost:4200/v1/userinfo");

  const ProviderEndpoints ipv6 = EndpointsOf(GoogleProvider("http://[::1]:4300"));
  EXPECT_EQ(ipv6.token_url, "http://[::1]:4300/token");
}

TEST(DataConnectorEndpoints, AnyOtherDropboxOrGoogleUrlSendsNothingAnywhere) {
  for (const core::Provider& provider :
       {DropboxProvider("https://dropbox.example.org"), DropboxProvider("https://dropbox.com"),
        GoogleProvider("https://accounts.google.com.example.org"),
        GoogleProvider("https://127.0.0.1.nip.io")}) {
    auto endpoints = EndpointsFor(provider, nullptr);
    ASSERT_FALSE(endpoints.ok()) << provider.url;
    EXPECT_EQ(endpoints.error().code, core::ErrorCode::kInvalidArgument);
    EXPECT_NE(endpoints.error().message.find("local stand-in"), std::string::npos);
  }
}

TEST(DataConnectorEndpoints, ZenodoAppendsInvenioPathsToItsUrl) {
  for (const std::string url : {"https://sandbox.zenodo.org", "https://sandbox.zenodo.org/"}) {
    const ProviderEndpoints e = EndpointsOf(ZenodoProvider(url));
    EXPECT_EQ(e.authorize_url, "https://sandbox.zenodo.org/oauth/authorize");
    EXPECT_EQ(e.token_url, "https://sandbox.zenodo.org/oauth/token");
    EXPECT_EQ(e.userinfo_url, "https://sandbox.zenodo.org/api/deposit/depositions?size=1");
    EXPECT_EQ(e.revoke_url, "");
    EXPECT_EQ(e.token_auth, ClientAuthMethod::kClientSecretPost);
  }
  EXPECT_EQ(EndpointsOf(ZenodoProvider("http://127.0.0.1:5000")).token_url,
            "http://127.0.0.1:5000/oauth/token");
}

TEST(DataConnectorEndpoints, OtherKindsAreNotDataConnectors) {
  EXPECT_EQ(
      DataConnectorEndpoints(testing::GitLabProvider(), "https://gitlab.example.com").error().code,
      core::ErrorCode::kInternal);
  EXPECT_EQ(GitUsername(core::ProviderKind::kDropbox), "oauth2");
  EXPECT_EQ(GitUsername(core::ProviderKind::kZenodo), "oauth2");
}

// --- authorization request ---

TEST(DataConnectorAuthorization, DropboxAsksForAnOfflineToken) {
  const core::Provider provider = DropboxProvider();
  const std::string challenge = "chal";
  const std::string url = BuildAuthorizationUrl(provider, EndpointsOf(provider),
                                                "https://kb.example.org/cb", "st", &challenge);
  EXPECT_EQ(url,
            "https://www.dropbox.com/oauth2/authorize?response_type=code&client_id=db-app-key"
            "&redirect_uri=https%3A%2F%2Fkb.example.org%2Fcb&state=st"
            "&scope=account_info.read%20files.content.read&code_challenge=chal"
            "&code_challenge_method=S256&token_access_type=offline");
}

TEST(DataConnectorAuthorization, GoogleAsksForOfflineAccessAndConsent) {
  const core::Provider provider = GoogleProvider();
  const std::string url = BuildAuthorizationUrl(provider, EndpointsOf(provider),
                                                "https://kb.example.org/cb", "st", nullptr);
  EXPECT_NE(url.find("&access_type=offline&prompt=consent"), std::string::npos) << url;
  EXPECT_EQ(url.rfind("https://accounts.google.com/o/oauth2/v2/auth?response_type=code", 0), 0U);
  EXPECT_NE(url.find("scope=openid%20email%20https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fdrive"),
            std::string::npos);
}

TEST(DataConnectorAuthorization, ZenodoAndGitKindsGetNoExtras) {
  EXPECT_TRUE(AuthorizationExtras(core::ProviderKind::kZenodo).empty());
  EXPECT_TRUE(AuthorizationExtras(core::ProviderKind::kGitLab).empty());
  EXPECT_TRUE(AuthorizationExtras(core::ProviderKind::kGitHub).empty());
  EXPECT_TRUE(AuthorizationExtras(core::ProviderKind::kGenericOidc).empty());
  const core::Provider provider = ZenodoProvider();
  const std::string url =
      BuildAuthorizationUrl(provider, EndpointsOf(provider), "https://kb/cb", "st", nullptr);
  EXPECT_EQ(url,
            "https://zenodo.org/oauth/authorize?response_type=code&client_id=zen-client"
            "&redirect_uri=https%3A%2F%2Fkb%2Fcb&state=st"
            "&scope=deposit%3Awrite%20deposit%3Aactions");
}

// --- token requests: client_secret_post for all three ---

TEST(DataConnectorTokens, CodeExchangeAndRefreshSendTheSecretInTheBody) {
  for (const core::Provider& provider : {DropboxProvider(), GoogleProvider(), ZenodoProvider()}) {
    const ProviderEndpoints endpoints = EndpointsOf(provider);
    const core::Secret code("the-code");
    const core::HttpRequest exchange =
        BuildCodeExchange(provider, endpoints, "https://kb/cb", code, nullptr);
    EXPECT_EQ(exchange.url, endpoints.token_url);
    EXPECT_EQ(exchange.body,
              "grant_type=authorization_code&code=the-code&redirect_uri=https%3A%2F%2Fkb%2Fcb"
              "&client_id="
                  + FormEncodeComponent(provider.client_id)
                  + "&client_secret=" + FormEncodeComponent(provider.client_secret->Reveal()));
    for (const auto& line : HeaderLines(exchange)) {
      EXPECT_EQ(line.rfind("Authorization", 0), std::string::npos) << line;
    }
    const core::HttpRequest refresh =
        BuildRefresh(provider, endpoints, core::Secret("rt"), "https://kb/cb");
    EXPECT_EQ(refresh.body, "grant_type=refresh_token&refresh_token=rt&client_id="
                                + FormEncodeComponent(provider.client_id) + "&client_secret="
                                + FormEncodeComponent(provider.client_secret->Reveal()));
  }
}

core::TimePoint Now() {
  return core::TimePoint(std::chrono::seconds(1'700'000'000));
}

TEST(DataConnectorTokens, DropboxAnswersParse) {
  auto code = ParseTokenResponse(
      Json(200, R"({"access_token":"sl.abc","token_type":"bearer","expires_in":14400,)"
                R"("refresh_token":"r-123","scope":"account_info.read files.content.read",)"
                R"("uid":"12345","account_id":"dbid:AAB"})"),
      Now(), GrantKind::kCode);
  ASSERT_TRUE(code.ok()) << code.error().message;
  EXPECT_EQ(code->access_token.Reveal(), "sl.abc");
  EXPECT_EQ(code->refresh_token->Reveal(), "r-123");
  EXPECT_EQ(*code->expires_at, Now() + core::Seconds(14400));

  // Not rotated: the answer has no refresh_token, the caller keeps the old one.
  auto refresh = ParseTokenResponse(
      Json(200, R"({"access_token":"sl.new","token_type":"bearer","expires_in":14400})"), Now(),
      GrantKind::kRefresh);
  ASSERT_TRUE(refresh.ok());
  EXPECT_FALSE(refresh->refresh_token.has_value());

  auto revoked = ParseTokenResponse(
      Json(
          400,
          R"({"error":"invalid_grant","error_description":"refresh token is invalid or revoked"})"),
      Now(), GrantKind::kRefresh);
  EXPECT_EQ(revoked.error().code, core::ErrorCode::kReauthorizationRequired);
  auto bad_code =
      ParseTokenResponse(Json(400, R"({"error":"invalid_grant"})"), Now(), GrantKind::kCode);
  EXPECT_EQ(bad_code.error().code, core::ErrorCode::kInvalidArgument);
  auto bad_client = ParseTokenResponse(
      Json(
          400,
          R"({"error":"invalid_client","error_description":"Invalid client_id or client_secret"})"),
      Now(), GrantKind::kRefresh);
  EXPECT_EQ(bad_client.error().code, core::ErrorCode::kUpstreamFailed);
  EXPECT_EQ(bad_client.error().detail, "invalid_client");
}

TEST(DataConnectorTokens, GoogleAnswersParse) {
  auto code = ParseTokenResponse(
      Json(200,
           R"({"access_token":"ya29.a0","expires_in":3599,"refresh_token":"1//0g",)"
           R"("scope":"openid https://www.googleapis.com/auth/drive email","token_type":"Bearer",)"
           R"("id_token":"eyJ.eyJ.sig"})"),
      Now(), GrantKind::kCode);
  ASSERT_TRUE(code.ok()) << code.error().message;
  EXPECT_EQ(code->refresh_token->Reveal(), "1//0g");
  EXPECT_EQ(code->id_token->Reveal(), "eyJ.eyJ.sig");
  EXPECT_EQ(code->scope, "openid https://www.googleapis.com/auth/drive email");

  auto refresh = ParseTokenResponse(
      Json(200, R"({"access_token":"ya29.b","expires_in":3599,"token_type":"Bearer"})"), Now(),
      GrantKind::kRefresh);
  ASSERT_TRUE(refresh.ok());
  EXPECT_FALSE(refresh->refresh_token.has_value());

  auto expired = ParseTokenResponse(
      Json(400,
           R"({"error":"invalid_grant","error_description":"Token has been expired or revoked."})"),
      Now(), GrantKind::kRefresh);
  EXPECT_EQ(expired.error().code, core::ErrorCode::kReauthorizationRequired);
  EXPECT_EQ(expired.error().detail, "invalid_grant");
  auto malformed = ParseTokenResponse(
      Json(400, R"({"error":"invalid_grant","error_description":"Malformed auth code."})"), Now(),
      GrantKind::kCode);
  EXPECT_EQ(malformed.error().code, core::ErrorCode::kInvalidArgument);
  for (const char* description : {"The OAuth client was not found.", "Unauthorized"}) {
    auto client = ParseTokenResponse(
        Json(401, std::string(R"({"error":"invalid_client","error_description":")") + description
                      + "\"}"),
        Now(), GrantKind::kCode);
    EXPECT_EQ(client.error().code, core::ErrorCode::kUpstreamFailed);
    EXPECT_NE(client.error().message.find("client_id and client_secret"), std::string::npos);
  }
}

TEST(DataConnectorTokens, ZenodoRotatesAndIgnoresItsUserObject) {
  auto refresh = ParseTokenResponse(
      Json(200, R"({"access_token":"zat","token_type":"Bearer","expires_in":3600,)"
                R"("refresh_token":"zrt-2","scope":"deposit:write","user":{"id":"42"}})"),
      Now(), GrantKind::kRefresh);
  ASSERT_TRUE(refresh.ok()) << refresh.error().message;
  EXPECT_EQ(refresh->refresh_token->Reveal(), "zrt-2");
  EXPECT_EQ(
      ParseTokenResponse(Json(401, R"({"error":"invalid_client"})"), Now(), GrantKind::kRefresh)
          .error()
          .detail,
      "invalid_client");
}

TEST(DataConnectorTokens, ADescriptionQuotingAGoogleOrDropboxTokenIsDropped) {
  // A description is quoted in the message only when it carries nothing token-like.
  for (const std::string token : {"ya29.a0AfH6SM", "1//0gLsecret", "sl.BFoo-secret"}) {
    auto refused =
        ParseTokenResponse(Json(400, R"({"error":"invalid_request","error_description":"token )"
                                         + token + R"( is not valid here"})"),
                           Now(), GrantKind::kRefresh);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().message.find("is not valid here"), std::string::npos)
        << refused.error().message;
    EXPECT_EQ(refused.error().message.find(token), std::string::npos);
  }
  auto plain = ParseTokenResponse(
      Json(400, R"({"error":"invalid_request","error_description":"grant type is not supported"})"),
      Now(), GrantKind::kRefresh);
  EXPECT_NE(plain.error().message.find("grant type is not supported"), std::string::npos)
      << plain.error().message;
}

// --- revocation ---

TEST(DataConnectorRevocation, DropboxPostsTheAccessTokenAsBearerWithoutABody) {
  const core::Provider provider = DropboxProvider();
  const auto request = BuildRevocation(provider, EndpointsOf(provider), Tokens("sl.at", "rt"));
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->method, "POST");
  EXPECT_EQ(request->url, "https://api.dropboxapi.com/2/auth/token/revoke");
  EXPECT_EQ(request->body, "");
  EXPECT_EQ(HeaderLines(*request),
            (std::vector<std::string>{"Accept: application/json", "User-Agent: keybridge/0.1",
                                      "Authorization: Bearer sl.at"}));
  EXPECT_FALSE(BuildRevocation(provider, EndpointsOf(provider), Tokens("", "rt")).has_value());
  EXPECT_TRUE(RevocationNeedsLiveAccessToken(core::ProviderKind::kDropbox));
  EXPECT_FALSE(RevocationNeedsLiveAccessToken(core::ProviderKind::kGoogle));
}

TEST(DataConnectorRevocation, GooglePostsOneTokenAsAFormPreferringTheRefreshToken) {
  const core::Provider provider = GoogleProvider();
  const ProviderEndpoints endpoints = EndpointsOf(provider);
  const auto request = BuildRevocation(provider, endpoints, Tokens("ya29.x", "1//r"));
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->method, "POST");
  EXPECT_EQ(request->url, "https://oauth2.googleapis.com/revoke");
  EXPECT_EQ(request->body, "token=1%2F%2Fr");
  EXPECT_EQ(HeaderLines(*request)[0], "Content-Type: application/x-www-form-urlencoded");
  EXPECT_EQ(request->body.find("client_secret"), std::string::npos);
  const auto access_only = BuildRevocation(provider, endpoints, Tokens("ya29.x", ""));
  ASSERT_TRUE(access_only.has_value());
  EXPECT_EQ(access_only->body, "token=ya29.x");
}

TEST(DataConnectorRevocation, ZenodoHasNothingToCall) {
  const core::Provider provider = ZenodoProvider();
  EXPECT_FALSE(BuildRevocation(provider, EndpointsOf(provider), Tokens("at", "rt")).has_value());
}

TEST(DataConnectorRevocation, GoogleCountsAnUnknownTokenAsRevoked) {
  const auto unknown =
      Json(400, R"({"error":"invalid_token","error_description":"Token expired or revoked"})");
  EXPECT_TRUE(IsRevocationSuccess(core::ProviderKind::kGoogle, unknown));
  EXPECT_FALSE(IsRevocationSuccess(core::ProviderKind::kGitLab, unknown));
  EXPECT_FALSE(IsRevocationSuccess(core::ProviderKind::kGoogle,
                                   Json(400, R"({"error":"invalid_request"})")));
  EXPECT_TRUE(IsRevocationSuccess(core::ProviderKind::kGoogle, Json(200, "{}")));
  EXPECT_TRUE(IsRevocationSuccess(core::ProviderKind::kDropbox, Json(200, "null")));
  EXPECT_FALSE(IsRevocationSuccess(core::ProviderKind::kDropbox, Json(401, "{}")));
}

// --- account ---

TEST(DataConnectorAccount, DropboxPostsNullAsJson) {
  const core::Provider provider = DropboxProvider("http://127.0.0.1:4100");
  const core::HttpRequest request =
      BuildAccountRequest(provider, EndpointsOf(provider), core::Secret("sl.at"));
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "http://127.0.0.1:4100/2/users/get_current_account");
  EXPECT_EQ(request.body, "null");
  EXPECT_EQ(
      HeaderLines(request),
      (std::vector<std::string>{"Accept: application/json", "User-Agent: keybridge/0.1",
                                "Authorization: Bearer sl.at", "Content-Type: application/json"}));
}

TEST(DataConnectorAccount, GoogleAndZenodoGetWithBearer) {
  for (const core::Provider& provider : {GoogleProvider(), ZenodoProvider()}) {
    const ProviderEndpoints endpoints = EndpointsOf(provider);
    const core::HttpRequest request = BuildAccountRequest(provider, endpoints, core::Secret("tok"));
    EXPECT_EQ(request.method, "GET");
    EXPECT_EQ(request.url, endpoints.userinfo_url);
    EXPECT_EQ(request.body, "");
    EXPECT_EQ(HeaderLines(request).back(), "Authorization: Bearer tok");
  }
}

TEST(DataConnectorAccount, DropboxNamesTheUserByEmail) {
  auto account = ParseAccount(
      core::ProviderKind::kDropbox,
      Json(200,
           R"({"account_id":"dbid:AAH4f99","name":{"given_name":"Alice","surname":"Example",)"
           R"("familiar_name":"Alice","display_name":"Alice Example","abbreviated_name":"AE"},)"
           R"("email":"alice@example.com","email_verified":true,"disabled":false,)"
           R"("country":"CH","locale":"en","account_type":{".tag":"basic"}})"));
  ASSERT_TRUE(account.ok()) << account.error().message;
  EXPECT_EQ(account->username, "alice@example.com");
  EXPECT_EQ(account->id, "dbid:AAH4f99");
  EXPECT_EQ(account->web_url, "");
  auto no_email = ParseAccount(core::ProviderKind::kDropbox,
                               Json(200, R"({"account_id":"dbid:x","name":{"display_name":"A"}})"));
  EXPECT_EQ(no_email->username, "A");
}

TEST(DataConnectorAccount, DropboxErrorsMapToReauthorizationOrUpstream) {
  auto expired = ParseAccount(
      core::ProviderKind::kDropbox,
      Json(
          401,
          R"({"error_summary":"expired_access_token/..","error":{".tag":"expired_access_token"}})"));
  EXPECT_EQ(expired.error().code, core::ErrorCode::kReauthorizationRequired);
  auto bad_body = ParseAccount(
      core::ProviderKind::kDropbox,
      testing::Response(400, "text/plain; charset=utf-8",
                        "Error in call to API function \"users/get_current_account\": request "
                        "body: could not decode input as JSON"));
  EXPECT_EQ(bad_body.error().code, core::ErrorCode::kUpstreamFailed);
  EXPECT_EQ(bad_body.error().message.find("decode"), std::string::npos);
}

TEST(DataConnectorAccount, GoogleNamesTheUserByEmailElseSub) {
  auto account =
      ParseAccount(core::ProviderKind::kGoogle,
                   Json(200, R"({"sub":"1077","email":"alice@example.com","email_verified":true,)"
                             R"("name":"Alice Example","picture":"https://lh3.example/a"})"));
  ASSERT_TRUE(account.ok());
  EXPECT_EQ(account->username, "alice@example.com");
  EXPECT_EQ(account->id, "1077");
  EXPECT_EQ(account->web_url, "");
  EXPECT_EQ(ParseAccount(core::ProviderKind::kGoogle, Json(200, R"({"sub":"1077"})"))->username,
            "1077");
  EXPECT_EQ(ParseAccount(core::ProviderKind::kGoogle, Json(200, R"({"name":"x"})")).error().detail,
            "account_without_username");
  auto invalid = ParseAccount(
      core::ProviderKind::kGoogle,
      Json(401, R"({"error":"invalid_request","error_description":"Invalid Credentials"})",
           {{"www-authenticate", "Bearer error=\"invalid_token\""}}));
  EXPECT_EQ(invalid.error().code, core::ErrorCode::kReauthorizationRequired);
}

TEST(DataConnectorAccount, ZenodoNamesTheOwnerOfTheFirstDeposition) {
  auto account = ParseAccount(core::ProviderKind::kZenodo,
                              Json(200, R"([{"id":123,"owner":4711,"title":"x"}])"));
  ASSERT_TRUE(account.ok()) << account.error().message;
  EXPECT_EQ(account->username, "Zenodo user ID: 4711");
  EXPECT_EQ(account->id, "4711");
  EXPECT_EQ(account->web_url, "");
  auto none = ParseAccount(core::ProviderKind::kZenodo, Json(200, "[]"));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->username, "Zenodo user");
  EXPECT_EQ(none->id, "");
  EXPECT_EQ(ParseAccount(core::ProviderKind::kZenodo, Json(200, R"({"hits":[]})")).error().code,
            core::ErrorCode::kUpstreamFailed);
  EXPECT_EQ(ParseAccount(core::ProviderKind::kZenodo,
                         Json(401, R"({"message":"The server could not verify","status":401})"))
                .error()
                .code,
            core::ErrorCode::kReauthorizationRequired);
  EXPECT_EQ(ParseAccount(core::ProviderKind::kZenodo,
                         Json(403, R"({"message":"forbidden","status":403})"))
                .error()
                .code,
            core::ErrorCode::kUpstreamFailed);
}

}  // namespace
}  // namespace keybridge::oauth
