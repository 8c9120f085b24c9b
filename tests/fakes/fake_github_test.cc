#include "fakes/fake_github.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <nlohmann/json.hpp>

#include "fakes/fake_test_client.h"
#include "support/fake_clock.h"

namespace keybridge::fakes {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kRedirectUri = "http://127.0.0.1:9/oauth2/github/callback";
constexpr std::string_view kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr std::string_view kClientId = "Iv23liTestClient";
constexpr std::string_view kClientSecret = "s3cr3t";

void Set(FormFields& fields, const std::string& name, std::string value) {
  for (auto& [key, existing] : fields) {
    if (key == name) {
      existing = std::move(value);
      return;
    }
  }
  fields.emplace_back(name, std::move(value));
}

void Remove(FormFields& fields, const std::string& name) {
  std::erase_if(fields, [&](const auto& field) { return field.first == name; });
}

bool IsAlnum(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

const std::vector<core::HttpHeader> kJson = {{"Accept", "application/json"}};

class FakeGitHubTest : public ::testing::Test {
 protected:
  FakeGitHubTest() { Start(FakeGitHub::Options()); }

  void Start(FakeGitHub::Options options) {
    options.client_id = std::string(kClientId);
    options.client_secret = std::string(kClientSecret);
    options.redirect_uris = {std::string(kRedirectUri), "http://127.0.0.1:9/second"};
    github_.reset();
    github_ = std::make_unique<FakeGitHub>(clock_, std::move(options));
  }

  FormFields AuthorizeParams() const {
    return {{"client_id", std::string(kClientId)},
            {"redirect_uri", std::string(kRedirectUri)},
            {"state", "st-9"},
            {"code_challenge", S256Challenge(kVerifier)},
            {"code_challenge_method", "S256"}};
  }

  core::HttpResponse Authorize(const FormFields& params) {
    return client_.Get(github_->AuthorizationEndpoint() + "?" + EncodeFormFields(params));
  }

  std::string Code(const FormFields& params) {
    const core::HttpResponse response = Authorize(params);
    EXPECT_EQ(response.status, 302) << response.body;
    return FindField(RedirectParams(response), "code").value_or("");
  }
  std::string Code() { return Code(AuthorizeParams()); }

  FormFields ExchangeParams(const std::string& code) const {
    return {{"client_id", std::string(kClientId)},
            {"client_secret", std::string(kClientSecret)},
            {"code", code},
            {"redirect_uri", std::string(kRedirectUri)},
            {"code_verifier", std::string(kVerifier)}};
  }

  core::HttpResponse Token(const FormFields& params,
                           std::vector<core::HttpHeader> headers = kJson) {
    return client_.PostForm(github_->TokenEndpoint(), params, std::move(headers));
  }

  core::HttpResponse Refresh(const std::string& refresh_token) {
    return Token({{"client_id", std::string(kClientId)},
                  {"client_secret", std::string(kClientSecret)},
                  {"grant_type", "refresh_token"},
                  {"refresh_token", refresh_token}});
  }

  TokenPair Connect() {
    const core::HttpResponse response = Token(ExchangeParams(Code()));
    const Json body = Json::parse(response.body);
    EXPECT_FALSE(body.contains("error")) << response.body;
    return TokenPair{body.value("access_token", ""), body.value("refresh_token", "")};
  }

  core::HttpResponse Api(const std::string& path, const std::string& access_token,
                         const std::string& method = "GET") {
    return client_.Send(method, github_->ApiBaseUrl() + path,
                        {{"Authorization", "Bearer " + access_token},
                         {"Accept", "application/vnd.github+json"},
                         {"X-GitHub-Api-Version", "2022-11-28"}});
  }

  core::HttpResponse AppTokenCall(const std::string& method, const std::string& what,
                                  const std::string& access_token,
                                  std::string_view secret = kClientSecret) {
    return client_.Send(
        method, github_->ApiBaseUrl() + "/applications/" + std::string(kClientId) + "/" + what,
        {{"Authorization", BasicAuth(kClientId, secret)}, {"Content-Type", "application/json"}},
        Json{{"access_token", access_token}}.dump());
  }

  testing::FakeClock clock_;
  TestClient client_;
  std::unique_ptr<FakeGitHub> github_;
};

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

TEST_F(FakeGitHubTest, RestApiRequiresAUserAgent) {
  const TokenPair pair = Connect();
  TestClient anonymous_agent("");

  const core::HttpResponse response = anonymous_agent.Get(
      github_->ApiBaseUrl() + "/user", {{"Authorization", "Bearer " + pair.access_token}});

  EXPECT_EQ(response.status, 403);
  EXPECT_NE(response.body.find("make sure your request has a User-Agent header"),
            std::string::npos);
}

TEST_F(FakeGitHubTest, UserReflectsTheAccountSignedInAtAuthorize) {
  github_->SetCurrentUser(
      FakeUser{.id = 583231, .username = "octocat", .name = "The Octocat", .email = ""});
  const TokenPair pair = Connect();

  const core::HttpResponse response = Api("/user", pair.access_token);

  ASSERT_EQ(response.status, 200);
  const Json body = Json::parse(response.body);
  EXPECT_EQ(body["login"], "octocat");
  EXPECT_EQ(body["id"], 583231);
  EXPECT_EQ(body["html_url"], github_->BaseUrl() + "/octocat");
  EXPECT_TRUE(body["email"].is_null());
  EXPECT_EQ(response.Header("x-ratelimit-limit"), "5000");
  EXPECT_EQ(response.Header("x-ratelimit-remaining"), "4999");
}

TEST_F(FakeGitHubTest, TokenSchemeIsAcceptedLikeBearer) {
  const TokenPair pair = Connect();

  const core::HttpResponse response = client_.Get(
      github_->ApiBaseUrl() + "/user", {{"Authorization", "token " + pair.access_token}});

  EXPECT_EQ(response.status, 200);
}

TEST_F(FakeGitHubTest, InstallationsArePaginatedWithLinkHeaders) {
  for (int i = 0; i < 5; ++i) {
    github_->AddInstallation({.account_login = "org" + std::to_string(i),
                              .account_id = 1000 + i,
                              .account_type = "Organization",
                              .user_ids = {1}});
  }
  github_->AddInstallation({.account_login = "hidden", .account_id = 99, .user_ids = {2}});
  const TokenPair pair = Connect();
  const std::string url = github_->ApiBaseUrl() + "/user/installations";

  const core::HttpResponse first = Api("/user/installations?per_page=2", pair.access_token);
  const core::HttpResponse middle = Api("/user/installations?per_page=2&page=2", pair.access_token);
  const core::HttpResponse last = Api("/user/installations?per_page=2&page=3", pair.access_token);

  ASSERT_EQ(first.status, 200);
  const Json body = Json::parse(first.body);
  EXPECT_EQ(body["total_count"], 5);
  ASSERT_EQ(body["installations"].size(), 2U);
  EXPECT_EQ(body["installations"][0]["account"]["login"], "org0");
  EXPECT_EQ(body["installations"][0]["repository_selection"], "all");
  EXPECT_TRUE(body["installations"][0]["suspended_at"].is_null());
  EXPECT_EQ(first.Header("link"), "<" + url + "?per_page=2&page=2>; rel=\"next\", <" + url
                                      + "?per_page=2&page=3>; rel=\"last\"");
  EXPECT_EQ(middle.Header("link"), "<" + url + "?per_page=2&page=1>; rel=\"prev\", <" + url
                                       + "?per_page=2&page=3>; rel=\"next\", <" + url
                                       + "?per_page=2&page=3>; rel=\"last\", <" + url
                                       + "?per_page=2&page=1>; rel=\"first\"");
  EXPECT_EQ(Json::parse(last.body)["installations"].size(), 1U);
  EXPECT_EQ(last.Header("link").find("rel=\"next\""), std::string::npos);
}

TEST_F(FakeGitHubTest, PerPageIsCappedAtOneHundred) {
  for (int i = 0; i < 101; ++i) {
    github_->AddInstallation({.account_login = "u" + std::to_string(i), .user_ids = {1}});
  }
  const TokenPair pair = Connect();

  const core::HttpResponse response = Api("/user/installations?per_page=500", pair.access_token);

  EXPECT_EQ(Json::parse(response.body)["installations"].size(), 100U);
  EXPECT_NE(response.Header("link").find("page=2>; rel=\"next\""), std::string::npos);
}

TEST_F(FakeGitHubTest, RepositoryOutsideTheInstallationIsNotFound) {
  const std::int64_t installation = github_->AddInstallation(
      {.account_login = "alice", .account_id = 1, .repository_selection = "selected"});
  github_->AddRepository({.full_name = "alice/in",
                          .installation_id = installation,
                          .collaborators = {{1, {.admin = true, .push = true}}}});
  github_->AddRepository({.full_name = "alice/out", .collaborators = {{1, {.push = true}}}});
  const TokenPair pair = Connect();

  const core::HttpResponse inside = Api("/repos/alice/in", pair.access_token);
  const core::HttpResponse outside = Api("/repos/alice/out", pair.access_token);

  ASSERT_EQ(inside.status, 200);
  const Json body = Json::parse(inside.body);
  EXPECT_EQ(body["clone_url"], github_->BaseUrl() + "/alice/in.git");
  EXPECT_EQ(body["html_url"], github_->BaseUrl() + "/alice/in");
  EXPECT_EQ(body["visibility"], "private");
  EXPECT_EQ(body["permissions"]["push"], true);
  EXPECT_EQ(body["permissions"]["admin"], true);
  EXPECT_EQ(outside.status, 404);
  EXPECT_EQ(Json::parse(outside.body)["message"], "Not Found");
}

TEST_F(FakeGitHubTest, InstallationRepositoriesListOnlyReachableRepositories) {
  const std::int64_t installation =
      github_->AddInstallation({.account_login = "alice", .account_id = 1});
  github_->AddRepository(
      {.full_name = "alice/a", .installation_id = installation, .collaborators = {{1, {}}}});
  github_->AddRepository({.full_name = "alice/b", .installation_id = installation});
  const TokenPair pair = Connect();

  const core::HttpResponse response = Api(
      "/user/installations/" + std::to_string(installation) + "/repositories", pair.access_token);

  ASSERT_EQ(response.status, 200);
  const Json body = Json::parse(response.body);
  EXPECT_EQ(body["total_count"], 1);
  EXPECT_EQ(body["repositories"][0]["full_name"], "alice/a");
}

TEST_F(FakeGitHubTest, DeletingTheAppTokenKillsIt) {
  const TokenPair pair = Connect();

  const core::HttpResponse wrong_secret = AppTokenCall("DELETE", "token", pair.access_token, "x");
  const core::HttpResponse deleted = AppTokenCall("DELETE", "token", pair.access_token);
  const core::HttpResponse again = AppTokenCall("DELETE", "token", pair.access_token);

  EXPECT_EQ(wrong_secret.status, 404);
  EXPECT_EQ(deleted.status, 204);
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(Api("/user", pair.access_token).status, 401);
  EXPECT_EQ(Json::parse(Refresh(pair.refresh_token).body)["error"], "bad_refresh_token");
  EXPECT_EQ(github_->RevocationCount(), 3);
}

TEST_F(FakeGitHubTest, DeletingTheGrantKillsEveryTokenOfTheUser) {
  const TokenPair first = Connect();
  const TokenPair second = Connect();

  const core::HttpResponse response = AppTokenCall("DELETE", "grant", first.access_token);

  EXPECT_EQ(response.status, 204);
  EXPECT_FALSE(github_->IsAccessTokenLive(first.access_token));
  EXPECT_FALSE(github_->IsAccessTokenLive(second.access_token));
}

TEST_F(FakeGitHubTest, CheckingAnAppTokenReturnsItsOwner) {
  const TokenPair pair = Connect();

  const core::HttpResponse response = AppTokenCall("POST", "token", pair.access_token);

  ASSERT_EQ(response.status, 200) << response.body;
  const Json body = Json::parse(response.body);
  EXPECT_EQ(body["user"]["login"], "alice");
  EXPECT_EQ(body["app"]["client_id"], kClientId);
}

TEST_F(FakeGitHubTest, MintingAnEleventhTokenRevokesTheOldest) {
  std::vector<TokenPair> pairs;
  for (int i = 0; i < 11; ++i) {
    pairs.push_back(Connect());
  }

  EXPECT_FALSE(github_->IsAccessTokenLive(pairs[0].access_token));
  EXPECT_TRUE(github_->IsAccessTokenLive(pairs[1].access_token));
  EXPECT_TRUE(github_->IsAccessTokenLive(pairs[10].access_token));
}

TEST_F(FakeGitHubTest, RateLimitedApiAnswers403WithExhaustedHeaders) {
  const TokenPair pair = Connect();
  github_->SetRateLimited(true);

  const core::HttpResponse response = Api("/user", pair.access_token);

  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(response.Header("x-ratelimit-remaining"), "0");
  EXPECT_FALSE(response.Header("x-ratelimit-reset").empty());
  EXPECT_NE(std::string(Json::parse(response.body)["message"]).find("rate limit"),
            std::string::npos);
}

TEST_F(FakeGitHubTest, SecondaryRateLimitCarriesRetryAfter) {
  const TokenPair pair = Connect();
  github_->SetSecondaryRateLimited(true, core::Seconds(90));

  const core::HttpResponse response = Api("/user", pair.access_token);

  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(response.Header("retry-after"), "90");
}

TEST_F(FakeGitHubTest, GitHubComServesTheApiOnItsOwnHost) {
  const TokenPair pair = Connect();

  const core::HttpResponse on_web =
      client_.Get(github_->BaseUrl() + "/user", {{"Authorization", "Bearer " + pair.access_token}});

  EXPECT_NE(github_->ApiBaseUrl(), github_->BaseUrl());
  EXPECT_EQ(on_web.status, 404);
  EXPECT_EQ(Api("/user", pair.access_token).status, 200);
}

class FakeGitHubEnterpriseTest : public FakeGitHubTest {
 protected:
  FakeGitHubEnterpriseTest() {
    FakeGitHub::Options options;
    options.enterprise = true;
    options.enterprise_version = "3.16.2";
    Start(std::move(options));
  }
};

TEST_F(FakeGitHubEnterpriseTest, ApiLivesUnderApiV3OnTheWebHost) {
  const TokenPair pair = Connect();

  const core::HttpResponse response = Api("/user", pair.access_token);
  const core::HttpResponse root_user =
      client_.Get(github_->BaseUrl() + "/user", {{"Authorization", "Bearer " + pair.access_token}});

  EXPECT_EQ(github_->ApiBaseUrl(), github_->BaseUrl() + "/api/v3");
  EXPECT_TRUE(github_->TokenEndpoint().ends_with("/login/oauth/access_token"));
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.Header("x-github-enterprise-version"), "3.16.2");
  EXPECT_TRUE(response.Header("x-ratelimit-limit").empty());
  EXPECT_EQ(root_user.status, 404);
}

TEST_F(FakeGitHubEnterpriseTest, AppsAreLookedUpUnderApiV3WithGitHubAppsPages) {
  const core::HttpResponse app = client_.Get(github_->BaseUrl() + "/api/v3/apps/keybridge-test");
  const core::HttpResponse on_root = client_.Get(github_->BaseUrl() + "/apps/keybridge-test");

  ASSERT_EQ(app.status, 200) << app.body;
  EXPECT_EQ(Json::parse(app.body)["html_url"], github_->BaseUrl() + "/github-apps/keybridge-test");
  EXPECT_EQ(app.Header("x-github-enterprise-version"), "3.16.2");
  EXPECT_EQ(on_root.status, 404);
}

TEST_F(FakeGitHubEnterpriseTest, LinkHeadersPointAtApiV3) {
  for (int i = 0; i < 3; ++i) {
    github_->AddInstallation({.account_login = "u" + std::to_string(i), .user_ids = {1}});
  }
  const TokenPair pair = Connect();

  const core::HttpResponse response = Api("/user/installations?per_page=1", pair.access_token);

  EXPECT_NE(response.Header("link").find("<" + github_->BaseUrl()
                                         + "/api/v3/user/installations?per_page=1&page=2>"),
            std::string::npos);
}

TEST_F(FakeGitHubEnterpriseTest, MetaReportsTheInstalledVersion) {
  const core::HttpResponse response = client_.Get(github_->ApiBaseUrl() + "/meta");

  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(Json::parse(response.body)["installed_version"], "3.16.2");
}

TEST_F(FakeGitHubEnterpriseTest, OlderInstanceIgnoresPkce) {
  github_->SetPkceSupported(false);
  FormFields params = AuthorizeParams();
  Set(params, "code_challenge_method", "plain");
  FormFields exchange = ExchangeParams(Code(params));
  Remove(exchange, "code_verifier");

  const core::HttpResponse response = Token(exchange);

  EXPECT_TRUE(Json::parse(response.body).contains("access_token")) << response.body;
}

}  // namespace
}  // namespace keybridge::fakes
