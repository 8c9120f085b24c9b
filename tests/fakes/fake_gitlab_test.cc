#include "fakes/fake_gitlab.h"

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

constexpr std::string_view kRedirectUri = "http://127.0.0.1:9/oauth2/callback";
constexpr std::string_view kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr std::string_view kInvalidGrantBody =
    R"({"error":"invalid_grant","error_description":"The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."})";
constexpr std::string_view kInvalidClientDescription =
    "Client authentication failed due to unknown client, no client authentication included, or "
    "unsupported authentication method.";

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

bool IsHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

class FakeGitLabTest : public ::testing::Test {
 protected:
  FakeGitLabTest() { Start(FakeGitLab::Options()); }

  void Start(FakeGitLab::Options options) {
    options.client_id = "app-uid";
    options.client_secret = "app-secret";
    options.redirect_uris = {"http://127.0.0.1:9/other", std::string(kRedirectUri)};
    gitlab_.reset();
    gitlab_ = std::make_unique<FakeGitLab>(clock_, std::move(options));
  }

  FormFields AuthorizeParams() const {
    return {{"client_id", "app-uid"},         {"redirect_uri", std::string(kRedirectUri)},
            {"response_type", "code"},        {"state", "st-1"},
            {"scope", "api read_user"},       {"code_challenge", S256Challenge(kVerifier)},
            {"code_challenge_method", "S256"}};
  }

  core::HttpResponse Authorize(const FormFields& params) {
    return client_.Get(gitlab_->AuthorizationEndpoint() + "?" + EncodeFormFields(params));
  }

  std::string Code(const FormFields& params) {
    const core::HttpResponse response = Authorize(params);
    EXPECT_EQ(response.status, 302) << response.body;
    return FindField(RedirectParams(response), "code").value_or("");
  }
  std::string Code() { return Code(AuthorizeParams()); }

  FormFields ExchangeParams(const std::string& code) const {
    return {{"grant_type", "authorization_code"},
            {"code", code},
            {"redirect_uri", std::string(kRedirectUri)},
            {"client_id", "app-uid"},
            {"client_secret", "app-secret"},
            {"code_verifier", std::string(kVerifier)}};
  }

  core::HttpResponse Token(const FormFields& params, std::vector<core::HttpHeader> headers = {}) {
    return client_.PostForm(gitlab_->TokenEndpoint(), params, std::move(headers));
  }

  core::HttpResponse Refresh(const std::string& refresh_token) {
    return Token({{"grant_type", "refresh_token"},
                  {"refresh_token", refresh_token},
                  {"client_id", "app-uid"},
                  {"client_secret", "app-secret"}});
  }

  TokenPair Connect() {
    const core::HttpResponse response = Token(ExchangeParams(Code()));
    EXPECT_EQ(response.status, 200) << response.body;
    const Json body = Json::parse(response.body);
    return TokenPair{body.value("access_token", ""), body.value("refresh_token", "")};
  }

  core::HttpResponse Api(const std::string& path, const std::string& access_token) {
    return client_.Get(gitlab_->ApiBaseUrl() + path, {{"Authorization", "Bearer " + access_token}});
  }

  testing::FakeClock clock_;
  TestClient client_;
  std::unique_ptr<FakeGitLab> gitlab_;
};

TEST_F(FakeGitLabTest, AuthorizeRedirectsBackWithHexCodeAndExactState) {
  FormFields params = AuthorizeParams();
  Set(params, "state", "a b&c=d/é+");

  const core::HttpResponse response = Authorize(params);

  ASSERT_EQ(response.status, 302);
  EXPECT_EQ(RedirectTarget(response), kRedirectUri);
  const FormFields back = RedirectParams(response);
  const std::string code = FindField(back, "code").value_or("");
  EXPECT_EQ(code.size(), 64U);
  EXPECT_TRUE(IsHex(code));
  EXPECT_EQ(FindField(back, "state"), "a b&c=d/é+");
  EXPECT_NE(response.Header("location").find("state=a+b%26c%3Dd%2F%C3%A9%2B"), std::string::npos);
}

TEST_F(FakeGitLabTest, FullCodeFlowWithPkceReturnsDoorkeeperTokenResponse) {
  const std::string code = Code();

  const core::HttpResponse response = Token(ExchangeParams(code));

  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.Header("cache-control"), "no-store, no-cache");
  EXPECT_EQ(response.Header("content-type"), "application/json; charset=utf-8");
  const Json body = Json::parse(response.body);
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 7200);
  EXPECT_EQ(body["scope"], "api read_user");
  EXPECT_EQ(body["created_at"], 1'700'000'000);
  const std::string access = body["access_token"];
  const std::string refresh = body["refresh_token"];
  EXPECT_EQ(access.size(), 64U);
  EXPECT_TRUE(IsHex(access));
  EXPECT_EQ(refresh.size(), 64U);
  EXPECT_TRUE(IsHex(refresh));
  EXPECT_EQ(gitlab_->CodeExchangeCount(), 1);
  const auto recorded = gitlab_->RequestsTo("/oauth/token");
  ASSERT_EQ(recorded.size(), 1U);
  EXPECT_EQ(recorded[0].Form("code_verifier"), kVerifier);
  EXPECT_EQ(recorded[0].Header("user-agent"), "keybridge-test/1.0");
}

TEST_F(FakeGitLabTest, PlainPkceIsAccepted) {
  FormFields params = AuthorizeParams();
  Set(params, "code_challenge", "plain-verifier-plain-verifier-plain-verifier");
  Set(params, "code_challenge_method", "plain");
  FormFields exchange = ExchangeParams(Code(params));
  Set(exchange, "code_verifier", "plain-verifier-plain-verifier-plain-verifier");

  const core::HttpResponse response = Token(exchange);

  EXPECT_EQ(response.status, 200) << response.body;
}

TEST_F(FakeGitLabTest, WrongVerifierIsInvalidGrantWithDoorkeeperHeaders) {
  FormFields exchange = ExchangeParams(Code());
  Set(exchange, "code_verifier", "ks02i3jdikdo2k0dkfodf3m39rjfjsdk0wk349rj3jrhf");

  const core::HttpResponse response = Token(exchange);

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body, kInvalidGrantBody);
  EXPECT_EQ(response.Header("cache-control"), "no-store, no-cache");
  EXPECT_EQ(
      response.Header("www-authenticate")
          .rfind("Bearer realm=\"Doorkeeper\", error=\"invalid_grant\", error_description=\"The "
                 "provided authorization grant is invalid",
                 0),
      0U);
}

TEST_F(FakeGitLabTest, MissingVerifierIsInvalidRequest) {
  FormFields exchange = ExchangeParams(Code());
  Remove(exchange, "code_verifier");

  const core::HttpResponse response = Token(exchange);

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(Json::parse(response.body),
            Json::parse(R"({"error":"invalid_request",)"
                        R"("error_description":"Missing required parameter: code_verifier."})"));
}

TEST_F(FakeGitLabTest, CodeIsSingleUse) {
  const std::string code = Code();
  ASSERT_EQ(Token(ExchangeParams(code)).status, 200);

  const core::HttpResponse again = Token(ExchangeParams(code));

  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.body, kInvalidGrantBody);
}

TEST_F(FakeGitLabTest, CodeExpiresAfterTenMinutes) {
  const std::string code = Code();

  clock_.Advance(core::Seconds(600));
  const core::HttpResponse response = Token(ExchangeParams(code));

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body, kInvalidGrantBody);
}

TEST_F(FakeGitLabTest, RedirectUriMustEqualTheOneSentToAuthorize) {
  FormFields exchange = ExchangeParams(Code());
  Set(exchange, "redirect_uri", "http://127.0.0.1:9/other");

  const core::HttpResponse response = Token(exchange);

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body, kInvalidGrantBody);
}

TEST_F(FakeGitLabTest, ClientCredentialsMayComeAsHttpBasic) {
  FormFields exchange = ExchangeParams(Code());
  Remove(exchange, "client_id");
  Remove(exchange, "client_secret");

  const core::HttpResponse response =
      Token(exchange, {{"Authorization", BasicAuth("app-uid", "app-secret")}});

  EXPECT_EQ(response.status, 200) << response.body;
}

TEST_F(FakeGitLabTest, WrongClientSecretIsInvalidClientWith401) {
  FormFields exchange = ExchangeParams(Code());
  Set(exchange, "client_secret", "wrong");

  const core::HttpResponse response = Token(exchange);

  EXPECT_EQ(response.status, 401);
  const Json body = Json::parse(response.body);
  EXPECT_EQ(body["error"], "invalid_client");
  EXPECT_EQ(body["error_description"], kInvalidClientDescription);
}

// The integration check's probe: Doorkeeper authenticates the client before it looks the code
// up, so an invalid code tells right credentials (invalid_grant) from wrong ones (invalid_client).
TEST_F(FakeGitLabTest, AnInvalidCodeTellsRightFromWrongClientCredentials) {
  FormFields probe = ExchangeParams("not-a-code");
  Remove(probe, "code_verifier");
  const core::HttpResponse right = Token(probe);
  Set(probe, "client_secret", "wrong");
  const core::HttpResponse wrong = Token(probe);

  EXPECT_EQ(right.status, 400);
  EXPECT_EQ(right.body, kInvalidGrantBody);
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(Json::parse(wrong.body)["error"], "invalid_client");
}

TEST_F(FakeGitLabTest, RootRedirectsToSignInAndUnknownPagesAreHtml404s) {
  FakeGitLab::Options options;
  options.path_prefix = "/gitlab";
  Start(std::move(options));

  const core::HttpResponse root = client_.Get(gitlab_->BaseUrl());
  const core::HttpResponse elsewhere = client_.Send("POST", gitlab_->BaseUrl() + "/-/oauth/token");

  EXPECT_EQ(root.status, 302);
  EXPECT_EQ(root.Header("location"), gitlab_->BaseUrl() + "/users/sign_in");
  EXPECT_EQ(elsewhere.status, 404);
  EXPECT_NE(elsewhere.Header("content-type").find("text/html"), std::string::npos);
}

TEST_F(FakeGitLabTest, UnknownClientGetsAnHtmlPageAndNoRedirect) {
  FormFields params = AuthorizeParams();
  Set(params, "client_id", "someone-else");

  const core::HttpResponse response = Authorize(params);

  EXPECT_EQ(response.status, 401);
  EXPECT_TRUE(response.Header("location").empty());
  EXPECT_NE(response.Header("content-type").find("text/html"), std::string::npos);
}

TEST_F(FakeGitLabTest, UnregisteredRedirectUriGetsAPageNotARedirect) {
  FormFields params = AuthorizeParams();
  Set(params, "redirect_uri", std::string(kRedirectUri) + "/evil");

  const core::HttpResponse response = Authorize(params);

  EXPECT_EQ(response.status, 400);
  EXPECT_TRUE(response.Header("location").empty());
  EXPECT_NE(response.body.find("The redirect URI included is not valid."), std::string::npos);
}

TEST_F(FakeGitLabTest, ScopeOutsideTheRegisteredOnesGetsAPage) {
  gitlab_->SetAllowedScopes({"read_user"});

  const core::HttpResponse response = Authorize(AuthorizeParams());

  EXPECT_EQ(response.status, 400);
  EXPECT_TRUE(response.Header("location").empty());
  EXPECT_NE(response.body.find("The requested scope is invalid, unknown, or malformed."),
            std::string::npos);
}

TEST_F(FakeGitLabTest, DeniedConsentRedirectsWithAccessDenied) {
  gitlab_->DenyConsent();

  const core::HttpResponse response = Authorize(AuthorizeParams());

  ASSERT_EQ(response.status, 302);
  EXPECT_EQ(response.Header("location"),
            std::string(kRedirectUri)
                + "?error=access_denied&error_description=The+resource+owner+or+authorization+"
                  "server+denied+the+request.&state=st-1");
}

TEST_F(FakeGitLabTest, ConsentPagePostsBackToApprove) {
  gitlab_->SetAutoApprove(false);
  const core::HttpResponse page = Authorize(AuthorizeParams());
  ASSERT_EQ(page.status, 200);
  ASSERT_NE(page.body.find("<form method=\"post\""), std::string::npos);

  const core::HttpResponse approved =
      client_.PostForm(gitlab_->AuthorizationEndpoint(), AuthorizeParams());

  ASSERT_EQ(approved.status, 302);
  EXPECT_TRUE(FindField(RedirectParams(approved), "code").has_value());
}

TEST_F(FakeGitLabTest, StrictRefreshKillsTheOldPairAndRejectsReuse) {
  const TokenPair first = Connect();

  const core::HttpResponse refreshed = Refresh(first.refresh_token);
  const core::HttpResponse reused = Refresh(first.refresh_token);

  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  const Json body = Json::parse(refreshed.body);
  EXPECT_NE(body["access_token"], first.access_token);
  EXPECT_NE(body["refresh_token"], first.refresh_token);
  EXPECT_EQ(reused.status, 400);
  EXPECT_EQ(reused.body, kInvalidGrantBody);
  const core::HttpResponse old_access = Api("/user", first.access_token);
  EXPECT_EQ(old_access.status, 401);
  EXPECT_EQ(
      old_access.body,
      R"({"error":"invalid_token","error_description":"Token was revoked. You have to re-authorize from the user."})");
  EXPECT_EQ(Api("/user", body["access_token"]).status, 200);
  EXPECT_EQ(gitlab_->RefreshRequestCount(), 2);
}

TEST_F(FakeGitLabTest, GraceModeKeepsTheOldRefreshTokenUntilTheNewAccessTokenIsUsed) {
  gitlab_->SetRefreshGraceUntilFirstUse(true);
  const TokenPair first = Connect();

  const core::HttpResponse second = Refresh(first.refresh_token);
  const core::HttpResponse concurrent = Refresh(first.refresh_token);
  ASSERT_EQ(second.status, 200);
  ASSERT_EQ(concurrent.status, 200);
  EXPECT_EQ(Api("/user", Json::parse(second.body)["access_token"]).status, 200);
  const core::HttpResponse after_use = Refresh(first.refresh_token);

  EXPECT_EQ(after_use.status, 400);
  EXPECT_EQ(after_use.body, kInvalidGrantBody);
  EXPECT_EQ(Refresh(Json::parse(concurrent.body)["refresh_token"]).status, 200);
}

TEST_F(FakeGitLabTest, ApiDistinguishesExpiredRevokedAndUnknownTokens) {
  const TokenPair expired = Connect();
  clock_.Advance(core::Seconds(7200));
  const TokenPair revoked = Connect();
  gitlab_->RevokeAllTokens();

  const core::HttpResponse expired_response = Api("/user", expired.access_token);
  const core::HttpResponse revoked_response = Api("/user", revoked.access_token);
  const core::HttpResponse garbage_response = Api("/user", "garbage");

  EXPECT_EQ(expired_response.status, 401);
  EXPECT_EQ(
      expired_response.body,
      R"({"error":"invalid_token","error_description":"Token is expired. You can either do re-authorization or token refresh."})");
  EXPECT_EQ(revoked_response.status, 401);
  EXPECT_EQ(
      revoked_response.body,
      R"({"error":"invalid_token","error_description":"Token was revoked. You have to re-authorize from the user."})");
  EXPECT_EQ(garbage_response.status, 401);
  EXPECT_EQ(garbage_response.body, R"({"message":"401 Unauthorized"})");
}

TEST_F(FakeGitLabTest, UserIsTheOneSignedInWhenTheCodeWasIssued) {
  const TokenPair alice = Connect();
  gitlab_->SetCurrentUser(FakeUser{.id = 7, .username = "bob", .name = "Bob", .email = "b@x"});
  const TokenPair bob = Connect();

  const Json alice_user = Json::parse(Api("/user", alice.access_token).body);
  const Json bob_user = Json::parse(Api("/user", bob.access_token).body);

  EXPECT_EQ(alice_user["id"], 1);
  EXPECT_EQ(alice_user["username"], "alice");
  EXPECT_EQ(alice_user["web_url"], gitlab_->BaseUrl() + "/alice");
  EXPECT_EQ(alice_user["email"], "alice@example.com");
  EXPECT_EQ(bob_user["id"], 7);
  EXPECT_EQ(bob_user["username"], "bob");
}

TEST_F(FakeGitLabTest, TokenInfoReportsTheRemainingLifetime) {
  const TokenPair pair = Connect();
  clock_.Advance(core::Seconds(65));

  const core::HttpResponse response = client_.Get(
      gitlab_->BaseUrl() + "/oauth/token/info", {{"Authorization", "Bearer " + pair.access_token}});

  ASSERT_EQ(response.status, 200);
  const Json body = Json::parse(response.body);
  EXPECT_EQ(body["expires_in"], 7135);
  EXPECT_EQ(body["resource_owner_id"], 1);
  EXPECT_EQ(body["scope"], Json::parse(R"(["api","read_user"])"));
  EXPECT_EQ(body["application"]["uid"], "app-uid");
}

TEST_F(FakeGitLabTest, TokenInfoRejectsAnExpiredToken) {
  const TokenPair pair = Connect();
  clock_.Advance(core::Seconds(7201));

  const core::HttpResponse response =
      client_.Get(gitlab_->BaseUrl() + "/oauth/token/info?access_token=" + pair.access_token);

  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.body,
            R"({"error":"invalid_token","error_description":"The access token expired"})");
}

TEST_F(FakeGitLabTest, RevokeAnswersEmptyObjectAndKillsThePair) {
  const TokenPair pair = Connect();

  const core::HttpResponse response =
      client_.PostForm(gitlab_->RevocationEndpoint(), {{"token", pair.refresh_token},
                                                       {"token_type_hint", "refresh_token"},
                                                       {"client_id", "app-uid"},
                                                       {"client_secret", "app-secret"}});
  const core::HttpResponse unknown = client_.PostForm(
      gitlab_->RevocationEndpoint(),
      {{"token", "nope"}, {"client_id", "app-uid"}, {"client_secret", "app-secret"}});

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "{}");
  EXPECT_EQ(unknown.status, 200);
  EXPECT_EQ(unknown.body, "{}");
  EXPECT_FALSE(gitlab_->IsAccessTokenLive(pair.access_token));
  EXPECT_EQ(Refresh(pair.refresh_token).status, 400);
  EXPECT_EQ(gitlab_->RevocationCount(), 2);
}

TEST_F(FakeGitLabTest, RevokingAnotherClientsTokenIsForbidden) {
  const TokenPair pair = Connect();
  gitlab_->SetClientCredentials("other-uid", "other-secret");

  const core::HttpResponse response =
      client_.PostForm(gitlab_->RevocationEndpoint(), {{"token", pair.access_token},
                                                       {"client_id", "other-uid"},
                                                       {"client_secret", "other-secret"}});

  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(
      response.body,
      R"({"error":"unauthorized_client","error_description":"You are not authorized to revoke this token"})");
  EXPECT_TRUE(gitlab_->IsAccessTokenLive(pair.access_token));
}

class FakeGitLabProjectTest : public FakeGitLabTest {
 protected:
  FakeGitLabProjectTest() {
    gitlab_->AddProject({.id = 42,
                         .path_with_namespace = "group/sub/project",
                         .visibility = "private",
                         .members = {{1, kGitLabDeveloper}},
                         .group_members = {{1, kGitLabMaintainer}}});
    gitlab_->AddProject({.id = 43,
                         .path_with_namespace = "other/shared",
                         .shared_group_members = {{1, kGitLabDeveloper}}});
    gitlab_->AddProject({.id = 44, .path_with_namespace = "other/secret"});
    gitlab_->AddProject({.id = 45, .path_with_namespace = "open/source", .visibility = "public"});
  }
};

TEST_F(FakeGitLabProjectTest, ProjectByEncodedPathCarriesPermissions) {
  const TokenPair pair = Connect();

  const core::HttpResponse response = Api("/projects/group%2Fsub%2Fproject", pair.access_token);

  ASSERT_EQ(response.status, 200) << response.body;
  const Json body = Json::parse(response.body);
  EXPECT_EQ(body["id"], 42);
  EXPECT_EQ(body["path_with_namespace"], "group/sub/project");
  EXPECT_EQ(body["visibility"], "private");
  EXPECT_EQ(body["default_branch"], "main");
  EXPECT_EQ(body["http_url_to_repo"], gitlab_->BaseUrl() + "/group/sub/project.git");
  EXPECT_EQ(body["web_url"], gitlab_->BaseUrl() + "/group/sub/project");
  EXPECT_EQ(body["permissions"]["project_access"]["access_level"], 30);
  EXPECT_EQ(body["permissions"]["group_access"]["access_level"], 40);
  EXPECT_FALSE(response.Header("ratelimit-remaining").empty());
}

TEST_F(FakeGitLabProjectTest, SharedGroupAccessShowsNullPermissions) {
  const TokenPair pair = Connect();

  const core::HttpResponse response = Api("/projects/43", pair.access_token);

  ASSERT_EQ(response.status, 200);
  const Json body = Json::parse(response.body);
  EXPECT_TRUE(body["permissions"]["project_access"].is_null());
  EXPECT_TRUE(body["permissions"]["group_access"].is_null());
}

TEST_F(FakeGitLabProjectTest, InvisibleAndMissingProjectsLookTheSame) {
  const TokenPair pair = Connect();

  const core::HttpResponse invisible = Api("/projects/other%2Fsecret", pair.access_token);
  const core::HttpResponse missing = Api("/projects/no%2Fsuch", pair.access_token);

  EXPECT_EQ(invisible.status, 404);
  EXPECT_EQ(invisible.body, R"({"message":"404 Project Not Found"})");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, invisible.body);
}

TEST_F(FakeGitLabProjectTest, ReadUserTokenLacksScopeForProjects) {
  FormFields params = AuthorizeParams();
  Set(params, "scope", "read_user");
  const core::HttpResponse token = Token(ExchangeParams(Code(params)));
  const std::string access = Json::parse(token.body)["access_token"];

  const core::HttpResponse response = Api("/projects/42", access);

  EXPECT_EQ(response.status, 403);
  const Json body = Json::parse(response.body);
  EXPECT_EQ(body["error"], "insufficient_scope");
  EXPECT_EQ(body["error_description"],
            "The request requires higher privileges than provided by the access token.");
}

TEST_F(FakeGitLabProjectTest, AnonymousCallerSeesPublicProjectsWithoutPermissions) {
  const core::HttpResponse open = client_.Get(gitlab_->ApiBaseUrl() + "/projects/open%2Fsource");
  const core::HttpResponse closed = client_.Get(gitlab_->ApiBaseUrl() + "/projects/42");

  ASSERT_EQ(open.status, 200);
  EXPECT_FALSE(Json::parse(open.body).contains("permissions"));
  EXPECT_EQ(closed.status, 404);
}

TEST_F(FakeGitLabTest, RateLimitedApiAnswersPlainText429) {
  const TokenPair pair = Connect();
  gitlab_->SetRateLimited(true, core::Seconds(30));

  const core::HttpResponse response = Api("/user", pair.access_token);

  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(response.body, "Retry later\n");
  EXPECT_EQ(response.Header("content-type"), "text/plain");
  EXPECT_EQ(response.Header("retry-after"), "30");
  EXPECT_EQ(response.Header("ratelimit-remaining"), "0");
  EXPECT_FALSE(response.Header("ratelimit-resettime").empty());
}

TEST_F(FakeGitLabTest, PathPrefixedInstanceServesEverythingUnderThePrefix) {
  FakeGitLab::Options options;
  options.path_prefix = "/gitlab";
  Start(std::move(options));
  ASSERT_TRUE(gitlab_->BaseUrl().ends_with("/gitlab"));

  const TokenPair pair = Connect();
  const core::HttpResponse user = Api("/user", pair.access_token);
  const std::string root = gitlab_->BaseUrl().substr(0, gitlab_->BaseUrl().size() - 7);
  const core::HttpResponse unprefixed = client_.Get(root + "/oauth/authorize?client_id=app-uid");

  EXPECT_EQ(user.status, 200);
  EXPECT_EQ(Json::parse(user.body)["web_url"], gitlab_->BaseUrl() + "/alice");
  EXPECT_EQ(unprefixed.status, 404);
  EXPECT_EQ(gitlab_->RequestsTo("/gitlab/oauth/token").size(), 1U);
}

}  // namespace
}  // namespace keybridge::fakes
