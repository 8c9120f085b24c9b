#include "fakes/fake_dropbox.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fakes/fake_test_client.h"
#include "http/server_test_support.h"
#include "support/fake_clock.h"

namespace keybridge::fakes {
namespace {

using Json = nlohmann::json;
using http::server_test_support::RawResponse;

constexpr std::string_view kRedirectUri = "http://127.0.0.1:9/api/data/oauth2/callback";
constexpr std::string_view kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

class FakeDropboxTest : public ::testing::Test {
 protected:
  FakeDropboxTest() : dropbox_(clock_, Options()) {}

  static FakeDropbox::Options Options() {
    FakeDropbox::Options options;
    options.client_id = "app-key";
    options.client_secret = "app-secret";
    options.redirect_uris = {std::string(kRedirectUri)};
    return options;
  }

  FormFields AuthorizeParams(bool offline = true) const {
    FormFields params = {{"client_id", "app-key"},
                         {"redirect_uri", std::string(kRedirectUri)},
                         {"response_type", "code"},
                         {"state", "st-1"},
                         {"code_challenge", S256Challenge(kVerifier)},
                         {"code_challenge_method", "S256"}};
    if (offline) {
      params.emplace_back("token_access_type", "offline");
    }
    return params;
  }

  core::HttpResponse Authorize(const FormFields& params) {
    return client_.Get(dropbox_.AuthorizationEndpoint() + "?" + EncodeFormFields(params));
  }

  std::string Code(bool offline = true) {
    const auto response = Authorize(AuthorizeParams(offline));
    EXPECT_EQ(response.status, 302) << response.body;
    return FindField(RedirectParams(response), "code").value_or("");
  }

  core::HttpResponse Exchange(const std::string& code,
                              std::string verifier = std::string(kVerifier),
                              std::string secret = "app-secret") {
    return client_.PostForm(dropbox_.TokenEndpoint(), {{"grant_type", "authorization_code"},
                                                       {"code", code},
                                                       {"redirect_uri", std::string(kRedirectUri)},
                                                       {"code_verifier", verifier},
                                                       {"client_id", "app-key"},
                                                       {"client_secret", secret}});
  }

  Json Tokens(bool offline = true) {
    const auto response = Exchange(Code(offline));
    EXPECT_EQ(response.status, 200) << response.body;
    return Json::parse(response.body);
  }

  core::HttpResponse Refresh(const std::string& refresh_token,
                             std::vector<core::HttpHeader> headers = {},
                             const std::string& secret = "app-secret") {
    FormFields form = {{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}};
    if (headers.empty()) {
      form.emplace_back("client_id", "app-key");
      form.emplace_back("client_secret", secret);
    }
    return client_.PostForm(dropbox_.TokenEndpoint(), form, std::move(headers));
  }

  // A POST as keybridge's HTTP client could never send it (no Content-Type at all).
  RawResponse RawPost(const std::string& path, const std::string& access_token,
                      const std::string& content_type, const std::string& body) {
    const std::string url = dropbox_.BaseUrl();
    const auto port = static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
    std::string request = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                          + access_token + "\r\nContent-Length: " + std::to_string(body.size())
                          + "\r\n";
    if (!content_type.empty()) {
      request += "Content-Type: " + content_type + "\r\n";
    }
    request += "\r\n" + body;
    auto response = http::server_test_support::Exchange(port, request);
    EXPECT_TRUE(response.has_value());
    return response.value_or(RawResponse{});
  }

  testing::FakeClock clock_;
  FakeDropbox dropbox_;
  TestClient client_;
};

TEST_F(FakeDropboxTest, OfflineAuthorizationYieldsARefreshTokenAndDropboxsTokenFields) {
  const Json tokens = Tokens(/*offline=*/true);

  EXPECT_TRUE(tokens["access_token"].get<std::string>().starts_with("sl."));
  EXPECT_EQ(tokens["token_type"], "bearer");
  EXPECT_EQ(tokens["expires_in"], 14400);
  EXPECT_FALSE(tokens["refresh_token"].get<std::string>().empty());
  EXPECT_EQ(tokens["scope"], "account_info.read files.metadata.read files.content.read");
  EXPECT_EQ(tokens["uid"], "1");
  EXPECT_TRUE(tokens["account_id"].get<std::string>().starts_with("dbid:"));
  // The request log keeps what the client sent to authorize.
  EXPECT_EQ(dropbox_.RequestsTo("/oauth2/authorize").at(0).Query("token_access_type"), "offline");
}

TEST_F(FakeDropboxTest, WithoutTokenAccessTypeOfflineThereIsNoRefreshToken) {
  const Json tokens = Tokens(/*offline=*/false);

  EXPECT_FALSE(tokens.contains("refresh_token"));
  EXPECT_EQ(tokens["expires_in"], 14400);
}

TEST_F(FakeDropboxTest, RefreshDoesNotRotateAndAnswersOnlyTheAccessToken) {
  const Json tokens = Tokens();
  const std::string refresh_token = tokens["refresh_token"];

  const auto first = Refresh(refresh_token);
  const auto second =
      Refresh(refresh_token, {{"Authorization", BasicAuth("app-key", "app-secret")}});

  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(second.status, 200) << second.body;
  const Json body = Json::parse(first.body);
  EXPECT_EQ(body.size(), 3U) << body;
  EXPECT_TRUE(body["access_token"].get<std::string>().starts_with("sl."));
  EXPECT_EQ(body["token_type"], "bearer");
  EXPECT_EQ(body["expires_in"], 14400);
  EXPECT_TRUE(dropbox_.IsRefreshTokenLive(refresh_token));
  EXPECT_TRUE(dropbox_.IsAccessTokenLive(tokens["access_token"].get<std::string>()));
  EXPECT_EQ(dropbox_.RefreshRequestCount(), 2);
}

TEST_F(FakeDropboxTest, TokenEndpointErrorsAreDropboxs400Bodies) {
  const std::string code = Code();
  auto wrong_secret = Exchange(code, std::string(kVerifier), "nope");
  auto wrong_verifier = Exchange(code, "a-verifier-that-does-not-match-the-challenge-xyz");
  auto bad_refresh = Refresh("no-such-token");
  auto unsupported = client_.PostForm(
      dropbox_.TokenEndpoint(),
      {{"grant_type", "password"}, {"client_id", "app-key"}, {"client_secret", "app-secret"}});

  EXPECT_EQ(wrong_secret.status, 400);
  EXPECT_EQ(Json::parse(wrong_secret.body)["error"], "invalid_client");
  EXPECT_EQ(wrong_verifier.status, 400);
  EXPECT_EQ(Json::parse(wrong_verifier.body)["error"], "invalid_grant");
  EXPECT_EQ(bad_refresh.status, 400);
  EXPECT_EQ(
      bad_refresh.body,
      R"({"error":"invalid_grant","error_description":"refresh token is invalid or revoked"})");
  EXPECT_EQ(unsupported.status, 400);
  EXPECT_EQ(Json::parse(unsupported.body)["error"], "unsupported_grant_type");
  // The code survived the failed attempts and is single use.
  EXPECT_EQ(Exchange(code).status, 200);
  auto reused = Exchange(code);
  EXPECT_EQ(reused.status, 400);
  EXPECT_EQ(Json::parse(reused.body)["error"], "invalid_grant");
}

TEST_F(FakeDropboxTest, AccountTakesAnEmptyBodyWithoutContentTypeOrJsonNull) {
  const std::string access = Tokens()["access_token"];

  const RawResponse empty = RawPost("/2/users/get_current_account", access, "", "");
  const RawResponse null_json =
      RawPost("/2/users/get_current_account", access, "application/json", "null");
  const RawResponse empty_json =
      RawPost("/2/users/get_current_account", access, "application/json", "");
  const RawResponse form =
      RawPost("/2/users/get_current_account", access, "application/x-www-form-urlencoded", "");

  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(null_json.status, 200) << null_json.body;
  EXPECT_EQ(empty.Header("content-type").rfind("application/json", 0), 0U);
  const Json account = Json::parse(empty.body);
  EXPECT_TRUE(account["account_id"].get<std::string>().starts_with("dbid:"));
  EXPECT_EQ(account["email"], "alice@example.com");
  EXPECT_EQ(account["email_verified"], true);
  EXPECT_EQ(account["name"]["display_name"], "Alice Example");
  EXPECT_EQ(account["name"]["given_name"], "Alice");
  EXPECT_EQ(account["name"]["surname"], "Example");
  EXPECT_EQ(account["name"]["abbreviated_name"], "AE");
  EXPECT_EQ(account["account_type"][".tag"], "basic");
  EXPECT_EQ(empty_json.status, 400);
  EXPECT_EQ(empty_json.Header("content-type").rfind("text/plain", 0), 0U);
  EXPECT_EQ(empty_json.body,
            "Error in call to API function \"users/get_current_account\": request body: could not "
            "decode input as JSON");
  EXPECT_EQ(form.status, 400);
  EXPECT_NE(form.body.find("Bad HTTP \"Content-Type\" header"), std::string::npos) << form.body;
}

TEST_F(FakeDropboxTest, ExpiredAndUnknownAccessTokensAre401WithTheirTags) {
  dropbox_.SetAccessTokenLifetime(core::Seconds(60));
  const Json tokens = Tokens();
  EXPECT_EQ(tokens["expires_in"], 60);
  clock_.Advance(core::Seconds(60));

  const RawResponse expired =
      RawPost("/2/users/get_current_account", tokens["access_token"], "application/json", "null");
  const RawResponse unknown =
      RawPost("/2/users/get_current_account", "sl.nope", "application/json", "null");

  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(
      expired.body,
      R"({"error_summary":"expired_access_token/..","error":{".tag":"expired_access_token"}})");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(Json::parse(unknown.body)["error"][".tag"], "invalid_access_token");
  // The refresh token outlives the access token.
  EXPECT_EQ(Refresh(tokens["refresh_token"]).status, 200);
}

TEST_F(FakeDropboxTest, RevokingTheAccessTokenRevokesTheWholeGrant) {
  const Json tokens = Tokens();
  const std::string access = tokens["access_token"];
  const std::string refresh_token = tokens["refresh_token"];
  const auto refreshed = Refresh(refresh_token);
  const std::string second_access = Json::parse(refreshed.body)["access_token"];
  const Json other = Tokens();  // another grant is untouched

  const RawResponse revoked = RawPost("/2/auth/token/revoke", access, "", "");

  EXPECT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(revoked.body, "null");
  EXPECT_EQ(revoked.Header("content-type").rfind("application/json", 0), 0U);
  EXPECT_EQ(dropbox_.RevocationCount(), 1);
  EXPECT_EQ(dropbox_.RequestsTo("/2/auth/token/revoke").at(0).Header("authorization"),
            "Bearer " + access);
  EXPECT_FALSE(dropbox_.IsAccessTokenLive(access));
  EXPECT_FALSE(dropbox_.IsAccessTokenLive(second_access));
  EXPECT_FALSE(dropbox_.IsRefreshTokenLive(refresh_token));
  auto refused = Refresh(refresh_token);
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(Json::parse(refused.body)["error"], "invalid_grant");
  EXPECT_EQ(RawPost("/2/users/get_current_account", access, "", "").status, 401);
  EXPECT_TRUE(dropbox_.IsRefreshTokenLive(other["refresh_token"].get<std::string>()));
}

TEST_F(FakeDropboxTest, AuthorizeRefusesUnknownClientsAndRedirectsAndHonoursDenial) {
  FormFields unknown_client = AuthorizeParams();
  unknown_client[0].second = "other-app";
  FormFields unknown_redirect = AuthorizeParams();
  unknown_redirect[1].second = "http://127.0.0.1:9/elsewhere";

  const auto client_page = Authorize(unknown_client);
  const auto redirect_page = Authorize(unknown_redirect);
  dropbox_.DenyConsent();
  const auto denied = Authorize(AuthorizeParams());

  EXPECT_EQ(client_page.status, 400);
  EXPECT_TRUE(client_page.Header("location").empty());
  EXPECT_EQ(redirect_page.status, 400);
  EXPECT_TRUE(redirect_page.Header("location").empty());
  ASSERT_EQ(denied.status, 302);
  EXPECT_EQ(RedirectTarget(denied), kRedirectUri);
  EXPECT_EQ(FindField(RedirectParams(denied), "error"), "access_denied");
  EXPECT_EQ(FindField(RedirectParams(denied), "state"), "st-1");
  EXPECT_FALSE(FindField(RedirectParams(denied), "code").has_value());
}

TEST_F(FakeDropboxTest, InjectedFailuresComeBeforeAnyStateChanges) {
  const std::string refresh_token = Tokens()["refresh_token"];
  dropbox_.FailNextTokenRequests(1, 503, 7);

  const auto failed = Refresh(refresh_token);
  const auto retried = Refresh(refresh_token);

  EXPECT_EQ(failed.status, 503);
  EXPECT_EQ(failed.Header("retry-after"), "7");
  EXPECT_EQ(retried.status, 200) << retried.body;
}

}  // namespace
}  // namespace keybridge::fakes
