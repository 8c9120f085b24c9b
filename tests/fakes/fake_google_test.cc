#include "fakes/fake_google.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "crypto/base64.h"
#include "fakes/fake_test_client.h"
#include "support/fake_clock.h"

namespace keybridge::fakes {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kRedirectUri = "http://127.0.0.1:9/api/data/oauth2/callback";
constexpr std::string_view kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr std::string_view kScope = "openid email profile https://www.googleapis.com/auth/drive";

class FakeGoogleTest : public ::testing::Test {
 protected:
  FakeGoogleTest() : google_(clock_, Options()) {}

  static FakeGoogle::Options Options() {
    FakeGoogle::Options options;
    options.client_id = "app.apps.googleusercontent.com";
    options.client_secret = "app-secret";
    options.redirect_uris = {std::string(kRedirectUri)};
    return options;
  }

  static FormFields AuthorizeParams(const std::string& access_type = "offline",
                                    const std::string& prompt = "consent",
                                    const std::string& scope = std::string(kScope)) {
    FormFields params = {{"client_id", "app.apps.googleusercontent.com"},
                         {"redirect_uri", std::string(kRedirectUri)},
                         {"response_type", "code"},
                         {"scope", scope},
                         {"state", "st-1"},
                         {"code_challenge", S256Challenge(kVerifier)},
                         {"code_challenge_method", "S256"}};
    if (!access_type.empty()) {
      params.emplace_back("access_type", access_type);
    }
    if (!prompt.empty()) {
      params.emplace_back("prompt", prompt);
    }
    return params;
  }

  core::HttpResponse Authorize(const FormFields& params) {
    return client_.Get(google_.AuthorizationEndpoint() + "?" + EncodeFormFields(params));
  }

  std::string Code(const FormFields& params) {
    const auto response = Authorize(params);
    EXPECT_EQ(response.status, 302) << response.body;
    return FindField(RedirectParams(response), "code").value_or("");
  }

  core::HttpResponse Exchange(const std::string& code, std::vector<core::HttpHeader> headers = {},
                              const std::string& client_id = "app.apps.googleusercontent.com",
                              const std::string& secret = "app-secret") {
    FormFields form = {{"grant_type", "authorization_code"},
                       {"code", code},
                       {"redirect_uri", std::string(kRedirectUri)},
                       {"code_verifier", std::string(kVerifier)}};
    if (headers.empty()) {
      form.emplace_back("client_id", client_id);
      form.emplace_back("client_secret", secret);
    }
    return client_.PostForm(google_.TokenEndpoint(), form, std::move(headers));
  }

  Json Tokens(const FormFields& params = AuthorizeParams()) {
    const auto response = Exchange(Code(params));
    EXPECT_EQ(response.status, 200) << response.body;
    return Json::parse(response.body);
  }

  core::HttpResponse Refresh(const std::string& refresh_token) {
    return client_.PostForm(google_.TokenEndpoint(),
                            {{"grant_type", "refresh_token"},
                             {"refresh_token", refresh_token},
                             {"client_id", "app.apps.googleusercontent.com"},
                             {"client_secret", "app-secret"}});
  }

  core::HttpResponse Userinfo(const std::string& access_token) {
    return client_.Get(google_.UserinfoEndpoint(), {{"Authorization", "Bearer " + access_token}});
  }

  testing::FakeClock clock_;
  FakeGoogle google_;
  TestClient client_;
};

TEST_F(FakeGoogleTest, OfflineConsentYieldsRefreshAndIdTokens) {
  const Json tokens = Tokens();

  EXPECT_TRUE(tokens["access_token"].get<std::string>().starts_with("ya29."));
  EXPECT_TRUE(tokens["refresh_token"].get<std::string>().starts_with("1//"));
  EXPECT_EQ(tokens["expires_in"], 3599);
  EXPECT_EQ(tokens["token_type"], "Bearer");
  EXPECT_EQ(tokens["scope"], kScope);
  const std::string id_token = tokens["id_token"];
  const std::string payload =
      id_token.substr(id_token.find('.') + 1, id_token.rfind('.') - id_token.find('.') - 1);
  const Json claims = Json::parse(crypto::Base64UrlDecode(payload).value_or("{}"));
  EXPECT_EQ(claims["sub"], FakeGoogle::Subject(google_.CurrentUser()));
  EXPECT_EQ(claims["aud"], "app.apps.googleusercontent.com");
  EXPECT_EQ(claims["email"], "alice@example.com");
}

TEST_F(FakeGoogleTest, RefreshTokensNeedOfflineAccessAndAfterTheFirstConsentPromptConsent) {
  const Json online = Tokens(AuthorizeParams("", "consent"));
  const Json first_offline = Tokens(AuthorizeParams("offline", ""));
  const Json silent = Tokens(AuthorizeParams("offline", ""));
  const Json forced = Tokens(AuthorizeParams("offline", "consent"));
  google_.ForgetConsents();
  const Json after_removal = Tokens(AuthorizeParams("offline", "select_account"));

  EXPECT_FALSE(online.contains("refresh_token"));
  EXPECT_TRUE(first_offline.contains("refresh_token"));
  EXPECT_FALSE(silent.contains("refresh_token"));
  EXPECT_TRUE(forced.contains("refresh_token"));
  EXPECT_TRUE(after_removal.contains("refresh_token"));
  const auto authorize = google_.RequestsTo("/o/oauth2/v2/auth").at(3);
  EXPECT_EQ(authorize.Query("access_type"), "offline");
  EXPECT_EQ(authorize.Query("prompt"), "consent");
}

TEST_F(FakeGoogleTest, RefreshKeepsTheRefreshTokenAndReissuesTheIdToken) {
  const Json tokens = Tokens();
  const std::string refresh_token = tokens["refresh_token"];

  const auto first = Refresh(refresh_token);
  const auto second = Refresh(refresh_token);

  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(second.status, 200) << second.body;
  const Json body = Json::parse(first.body);
  EXPECT_FALSE(body.contains("refresh_token"));
  EXPECT_TRUE(body.contains("id_token"));
  EXPECT_EQ(body["expires_in"], 3599);
  EXPECT_NE(body["access_token"], tokens["access_token"]);
  EXPECT_TRUE(google_.IsRefreshTokenLive(refresh_token));
}

TEST_F(FakeGoogleTest, TokenEndpointErrorsAreGooglesBodies) {
  const std::string code = Code(AuthorizeParams());

  const auto unknown_client = Exchange(code, {}, "other.apps.googleusercontent.com");
  const auto wrong_secret = Exchange(code, {}, "app.apps.googleusercontent.com", "nope");
  const auto malformed = Exchange("4/0nope");
  const auto basic = Exchange(
      code, {{"Authorization", BasicAuth("app.apps.googleusercontent.com", "app-secret")}});
  const auto reused = Exchange(code);
  const auto revoked = Refresh("1//nope");

  EXPECT_EQ(unknown_client.status, 401);
  EXPECT_EQ(Json::parse(unknown_client.body), Json::parse(R"({"error":"invalid_client",
                            "error_description":"The OAuth client was not found."})"));
  EXPECT_EQ(wrong_secret.status, 401);
  EXPECT_EQ(Json::parse(wrong_secret.body)["error_description"], "Unauthorized");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(Json::parse(malformed.body),
            Json::parse(R"({"error":"invalid_grant","error_description":"Malformed auth code."})"));
  EXPECT_EQ(basic.status, 200) << "HTTP Basic is accepted too: " << basic.body;
  EXPECT_EQ(reused.status, 400);
  EXPECT_EQ(Json::parse(reused.body)["error"], "invalid_grant");
  EXPECT_EQ(revoked.status, 400);
  EXPECT_EQ(Json::parse(revoked.body), Json::parse(R"({"error":"invalid_grant",
                            "error_description":"Token has been expired or revoked."})"));
}

TEST_F(FakeGoogleTest, UserinfoFollowsTheScopesAndRefusesBadTokens) {
  const Json full = Tokens();
  const Json openid_only = Tokens(AuthorizeParams("offline", "consent", "openid"));
  google_.SetAccessTokenLifetime(core::Seconds(30));
  const Json short_lived = Tokens();
  clock_.Advance(core::Seconds(30));

  const auto info = Userinfo(full["access_token"]);
  const auto bare = Userinfo(openid_only["access_token"]);
  const auto expired = Userinfo(short_lived["access_token"]);

  ASSERT_EQ(info.status, 200) << info.body;
  const Json user = Json::parse(info.body);
  EXPECT_EQ(user["sub"], FakeGoogle::Subject(google_.CurrentUser()));
  EXPECT_EQ(user["sub"].get<std::string>().find_first_not_of("0123456789"), std::string::npos);
  EXPECT_EQ(user["email"], "alice@example.com");
  EXPECT_EQ(user["email_verified"], true);
  EXPECT_EQ(user["name"], "Alice Example");
  EXPECT_TRUE(user["picture"].get<std::string>().starts_with("https://"));
  const Json only_sub = Json::parse(bare.body);
  EXPECT_EQ(only_sub.size(), 1U) << only_sub;
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(expired.Header("www-authenticate").find(R"(error="invalid_token")"), std::string::npos);
  EXPECT_EQ(
      Json::parse(expired.body),
      Json::parse(R"({"error":"invalid_request","error_description":"Invalid Credentials"})"));
  EXPECT_EQ(Refresh(short_lived["refresh_token"]).status, 200);
}

TEST_F(FakeGoogleTest, RevokingEitherTokenRevokesTheGrant) {
  const Json by_access = Tokens();
  const Json by_refresh = Tokens();
  const auto refreshed = Json::parse(Refresh(by_refresh["refresh_token"]).body);

  const auto first = client_.PostForm(google_.RevocationEndpoint(),
                                      {{"token", by_access["access_token"].get<std::string>()}});
  const auto second = client_.PostForm(google_.RevocationEndpoint(),
                                       {{"token", by_refresh["refresh_token"].get<std::string>()}});
  const auto again = client_.PostForm(google_.RevocationEndpoint(),
                                      {{"token", by_refresh["refresh_token"].get<std::string>()}});

  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(Json::parse(first.body), Json::object());
  EXPECT_FALSE(google_.IsRefreshTokenLive(by_access["refresh_token"].get<std::string>()));
  EXPECT_EQ(Refresh(by_access["refresh_token"]).status, 400);
  EXPECT_EQ(second.status, 200) << second.body;
  EXPECT_FALSE(google_.IsAccessTokenLive(by_refresh["access_token"].get<std::string>()));
  EXPECT_FALSE(google_.IsAccessTokenLive(refreshed["access_token"].get<std::string>()));
  EXPECT_EQ(Userinfo(refreshed["access_token"]).status, 401);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(
      Json::parse(again.body),
      Json::parse(R"({"error":"invalid_token","error_description":"Token expired or revoked"})"));
  EXPECT_EQ(google_.RevocationCount(), 3);
  EXPECT_EQ(google_.RequestsTo("/revoke").at(0).Header("content-type"),
            "application/x-www-form-urlencoded");
}

TEST_F(FakeGoogleTest, AuthorizeErrorsAndInjectedFailures) {
  FormFields unknown_client = AuthorizeParams();
  unknown_client[0].second = "other.apps.googleusercontent.com";
  const auto page = Authorize(unknown_client);
  const auto no_scope = Authorize(AuthorizeParams("offline", "consent", ""));
  google_.FailNextTokenRequests(1, 500);
  const auto failed = Exchange(Code(AuthorizeParams()));

  EXPECT_EQ(page.status, 401);
  EXPECT_TRUE(page.Header("location").empty());
  ASSERT_EQ(no_scope.status, 302);
  EXPECT_EQ(FindField(RedirectParams(no_scope), "error"), "invalid_request");
  EXPECT_EQ(failed.status, 500);
  EXPECT_EQ(google_.CodeExchangeCount(), 1);
}

}  // namespace
}  // namespace keybridge::fakes
