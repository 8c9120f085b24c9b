// FakeGitHub's OAuth endpoints: authorize, the code and refresh grants, PKCE, the App lookup.
#include <gtest/gtest.h>

#include <string>

#include "fakes/fake_github_test_fixture.h"

namespace keybridge::fakes::github_test {
namespace {

TEST_F(FakeGitHubTest, FullCodeFlowWithPkceReturnsUserToServerTokens) {
  const std::string code = Code();

  const core::HttpResponse response = Token(ExchangeParams(code));

  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(code.size(), 20U);
  const Json body = Json::parse(response.body);
  const std::string access = body["access_token"];
  const std::string refresh = body["refresh_token"];
  EXPECT_EQ(access.size(), 40U);
  EXPECT_TRUE(access.starts_with("ghu_"));
  EXPECT_TRUE(IsAlnum(access.substr(4)));
  EXPECT_EQ(refresh.size(), 80U);
  EXPECT_TRUE(refresh.starts_with("ghr_"));
  EXPECT_TRUE(IsAlnum(refresh.substr(4)));
  EXPECT_EQ(body["expires_in"], 28800);
  EXPECT_EQ(body["refresh_token_expires_in"], 15897600);
  EXPECT_EQ(body["scope"], "");
  EXPECT_EQ(body["token_type"], "bearer");
  EXPECT_EQ(github_->CodeExchangeCount(), 1);
}

TEST_F(FakeGitHubTest, TokenResponseIsFormEncodedWithoutAcceptJson) {
  const core::HttpResponse response = Token(ExchangeParams(Code()), {});

  ASSERT_EQ(response.status, 200);
  EXPECT_NE(response.Header("content-type").find("application/x-www-form-urlencoded"),
            std::string::npos);
  const FormFields fields = ParseFormFields(response.body);
  ASSERT_EQ(fields.size(), 6U);
  EXPECT_EQ(fields[0].first, "access_token");
  EXPECT_EQ(FindField(fields, "expires_in"), "28800");
  EXPECT_EQ(FindField(fields, "refresh_token_expires_in"), "15897600");
  EXPECT_NE(response.body.find("&scope=&token_type=bearer"), std::string::npos);
}

TEST_F(FakeGitHubTest, TokenErrorsAreHttp200WithAnErrorField) {
  FormFields bad_code = ExchangeParams("0123456789abcdef0123");
  FormFields bad_secret = ExchangeParams(Code());
  Set(bad_secret, "client_secret", "wrong");

  const core::HttpResponse json_error = Token(bad_code);
  const core::HttpResponse form_error = Token(bad_secret, {});

  EXPECT_EQ(json_error.status, 200);
  const Json body = Json::parse(json_error.body);
  EXPECT_EQ(body["error"], "bad_verification_code");
  EXPECT_EQ(body["error_description"], "The code passed is incorrect or expired.");
  EXPECT_TRUE(std::string(body["error_uri"]).ends_with("#bad-verification-code"));
  EXPECT_EQ(form_error.status, 200);
  EXPECT_EQ(FindField(ParseFormFields(form_error.body), "error"), "incorrect_client_credentials");
  EXPECT_EQ(FindField(ParseFormFields(form_error.body), "error_description"),
            "The client_id and/or client_secret passed are incorrect.");
}

TEST_F(FakeGitHubTest, HttpBasicClientAuthIsNotAccepted) {
  FormFields params = ExchangeParams(Code());
  Remove(params, "client_id");
  Remove(params, "client_secret");
  std::vector<core::HttpHeader> headers = kJson;
  headers.push_back({"Authorization", BasicAuth(kClientId, kClientSecret)});

  const core::HttpResponse response = Token(params, headers);

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(Json::parse(response.body)["error"], "incorrect_client_credentials");
}

TEST_F(FakeGitHubTest, QueryParametersAreAcceptedAtTheTokenEndpoint) {
  const std::string query = EncodeFormFields(ExchangeParams(Code()));

  const core::HttpResponse response =
      client_.Send("POST", github_->TokenEndpoint() + "?" + query, kJson);

  ASSERT_EQ(response.status, 200);
  EXPECT_TRUE(Json::parse(response.body).contains("access_token")) << response.body;
}

TEST_F(FakeGitHubTest, WrongVerifierIsBadVerificationCode) {
  FormFields params = ExchangeParams(Code());
  Set(params, "code_verifier", "ks02i3jdikdo2k0dkfodf3m39rjfjsdk0wk349rj3jrhf");

  const core::HttpResponse response = Token(params);

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(Json::parse(response.body)["error"], "bad_verification_code");
}

TEST_F(FakeGitHubTest, RedirectUriDifferentFromAuthorizeIsMismatch) {
  FormFields params = ExchangeParams(Code());
  Set(params, "redirect_uri", "http://127.0.0.1:9/second");

  const core::HttpResponse response = Token(params);

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(Json::parse(response.body)["error"], "redirect_uri_mismatch");
}

// The integration check's probe: an invalid code says nothing about the code before the client
// and the callback URL were checked, each with GitHub's HTTP 200 error.
TEST_F(FakeGitHubTest, AnInvalidCodeRevealsWrongCredentialsAndUnregisteredCallbacks) {
  FormFields params = ExchangeParams("not-a-code");
  Remove(params, "code_verifier");
  EXPECT_EQ(Json::parse(Token(params).body)["error"], "bad_verification_code");

  FormFields unregistered = params;
  Set(unregistered, "redirect_uri", "http://127.0.0.1:9/typo/callback");
  const core::HttpResponse mismatch = Token(unregistered);
  EXPECT_EQ(mismatch.status, 200);
  EXPECT_EQ(Json::parse(mismatch.body)["error"], "redirect_uri_mismatch");

  FormFields wrong_secret = unregistered;
  Set(wrong_secret, "client_secret", "wrong");
  const core::HttpResponse rejected = Token(wrong_secret);
  EXPECT_EQ(rejected.status, 200);
  EXPECT_EQ(Json::parse(rejected.body)["error"], "incorrect_client_credentials")
      << "the client is authenticated before anything else";
}

TEST_F(FakeGitHubTest, GetAppBySlugIsPublicAndNamesTheClientId) {
  const core::HttpResponse app = client_.Get(github_->ApiBaseUrl() + "/apps/keybridge-test",
                                             {{"Accept", "application/vnd.github+json"}});
  const core::HttpResponse missing = client_.Get(github_->ApiBaseUrl() + "/apps/keybridge-tset");

  ASSERT_EQ(app.status, 200) << app.body;
  const Json body = Json::parse(app.body);
  EXPECT_EQ(body["slug"], "keybridge-test");
  EXPECT_EQ(body["client_id"], kClientId);
  EXPECT_EQ(body["name"], "Keybridge Test");
  EXPECT_EQ(body["owner"]["login"], "keybridge-org");
  EXPECT_EQ(body["html_url"], github_->BaseUrl() + "/apps/keybridge-test");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Json::parse(missing.body)["message"], "Not Found");

  EXPECT_EQ(client_.Get(github_->BaseUrl()).status, 200) << "the home page answers";

  github_->SetAppSlug("renamed-app");
  EXPECT_EQ(client_.Get(github_->ApiBaseUrl() + "/apps/renamed-app").status, 200);
  EXPECT_EQ(client_.Get(github_->ApiBaseUrl() + "/apps/keybridge-test").status, 404);
}

TEST_F(FakeGitHubTest, PlainPkceIsRejected) {
  FormFields params = AuthorizeParams();
  Set(params, "code_challenge_method", "plain");

  const core::HttpResponse response = Authorize(params);

  ASSERT_EQ(response.status, 302);
  const FormFields back = RedirectParams(response);
  EXPECT_FALSE(FindField(back, "code").has_value());
  EXPECT_EQ(FindField(back, "error"), "invalid_request");
  EXPECT_EQ(FindField(back, "state"), "st-9");
}

TEST_F(FakeGitHubTest, PkceIsOptional) {
  FormFields params = AuthorizeParams();
  Remove(params, "code_challenge");
  Remove(params, "code_challenge_method");
  FormFields exchange = ExchangeParams(Code(params));
  Remove(exchange, "code_verifier");

  const core::HttpResponse response = Token(exchange);

  EXPECT_TRUE(Json::parse(response.body).contains("access_token")) << response.body;
}

TEST_F(FakeGitHubTest, UnregisteredRedirectUriGetsAPage) {
  FormFields params = AuthorizeParams();
  Set(params, "redirect_uri", "http://127.0.0.1:9/evil");

  const core::HttpResponse response = Authorize(params);

  EXPECT_EQ(response.status, 400);
  EXPECT_TRUE(response.Header("location").empty());
  EXPECT_NE(response.body.find("redirect_uri is not associated with this application"),
            std::string::npos);
}

TEST_F(FakeGitHubTest, DocumentedMismatchModeRedirectsToTheRegisteredCallback) {
  FakeGitHub::Options options;
  options.redirect_uri_mismatch_page = false;
  Start(std::move(options));
  FormFields params = AuthorizeParams();
  Set(params, "redirect_uri", "http://127.0.0.1:9/evil");

  const core::HttpResponse response = Authorize(params);

  ASSERT_EQ(response.status, 302);
  EXPECT_EQ(RedirectTarget(response), kRedirectUri);
  EXPECT_EQ(FindField(RedirectParams(response), "error"), "redirect_uri_mismatch");
}

TEST_F(FakeGitHubTest, SuspendedApplicationRedirectsWithError) {
  github_->SuspendApplication();

  const core::HttpResponse response = Authorize(AuthorizeParams());

  ASSERT_EQ(response.status, 302);
  EXPECT_EQ(FindField(RedirectParams(response), "error"), "application_suspended");
}

TEST_F(FakeGitHubTest, DeniedConsentRedirectsWithAccessDenied) {
  github_->DenyConsent();

  const core::HttpResponse response = Authorize(AuthorizeParams());

  ASSERT_EQ(response.status, 302);
  const FormFields back = RedirectParams(response);
  EXPECT_EQ(FindField(back, "error"), "access_denied");
  EXPECT_EQ(FindField(back, "error_description"), "The user has denied your application access.");
  EXPECT_EQ(FindField(back, "state"), "st-9");
}

TEST_F(FakeGitHubTest, UnknownClientGetsANotFoundPage) {
  FormFields params = AuthorizeParams();
  Set(params, "client_id", "Iv1.unknown");

  const core::HttpResponse response = Authorize(params);

  EXPECT_EQ(response.status, 404);
  EXPECT_TRUE(response.Header("location").empty());
}

TEST_F(FakeGitHubTest, RefreshIsStrictlySingleUse) {
  const TokenPair first = Connect();

  const core::HttpResponse refreshed = Refresh(first.refresh_token);
  const core::HttpResponse reused = Refresh(first.refresh_token);

  const Json body = Json::parse(refreshed.body);
  ASSERT_TRUE(body.contains("access_token")) << refreshed.body;
  EXPECT_EQ(body["refresh_token_expires_in"], 15897600);
  EXPECT_EQ(reused.status, 200);
  EXPECT_EQ(Json::parse(reused.body)["error"], "bad_refresh_token");
  const core::HttpResponse old_access = Api("/user", first.access_token);
  EXPECT_EQ(old_access.status, 401);
  EXPECT_EQ(Json::parse(old_access.body)["message"], "Bad credentials");
  EXPECT_EQ(Api("/user", body["access_token"]).status, 200);
}

TEST_F(FakeGitHubTest, RefreshTokenExpiresAfterItsLifetime) {
  github_->SetRefreshTokenLifetime(core::Seconds(15811200));
  const TokenPair pair = Connect();

  clock_.Advance(core::Seconds(15811200));
  const core::HttpResponse response = Refresh(pair.refresh_token);

  EXPECT_EQ(Json::parse(response.body)["error"], "bad_refresh_token");
}

TEST_F(FakeGitHubTest, ExpiredAccessTokenIsPlainBadCredentials) {
  const TokenPair pair = Connect();

  clock_.Advance(core::Seconds(28800));
  const core::HttpResponse response = Api("/user", pair.access_token);

  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(
      response.body,
      R"({"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"})");
}

TEST_F(FakeGitHubTest, NonExpiringTokensOmitExpiryAndRefreshFields) {
  github_->SetExpiringTokens(false);

  const core::HttpResponse response = Token(ExchangeParams(Code()));

  const Json body = Json::parse(response.body);
  EXPECT_TRUE(body.contains("access_token"));
  EXPECT_EQ(body["scope"], "");
  EXPECT_EQ(body["token_type"], "bearer");
  EXPECT_FALSE(body.contains("expires_in"));
  EXPECT_FALSE(body.contains("refresh_token"));
  EXPECT_FALSE(body.contains("refresh_token_expires_in"));
  clock_.Advance(core::Seconds(10 * 28800));
  EXPECT_EQ(Api("/user", body["access_token"]).status, 200);
}

}  // namespace
}  // namespace keybridge::fakes::github_test
