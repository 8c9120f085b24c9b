#include "fakes/fake_zenodo.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fakes/fake_test_client.h"
#include "support/fake_clock.h"

namespace keybridge::fakes {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kRedirectUri = "http://127.0.0.1:9/api/data/oauth2/callback";

class FakeZenodoTest : public ::testing::Test {
 protected:
  FakeZenodoTest() : zenodo_(clock_, Options()) {}

  static FakeZenodo::Options Options() {
    FakeZenodo::Options options;
    options.client_id = "zen-id";
    options.client_secret = "zen-secret";
    options.redirect_uris = {std::string(kRedirectUri)};
    return options;
  }

  static FormFields AuthorizeParams(const std::string& scope = "deposit:write deposit:actions") {
    return {{"client_id", "zen-id"},
            {"redirect_uri", std::string(kRedirectUri)},
            {"response_type", "code"},
            {"scope", scope},
            {"state", "st-1"}};
  }

  core::HttpResponse Authorize(const FormFields& params) {
    return client_.Get(zenodo_.AuthorizationEndpoint() + "?" + EncodeFormFields(params));
  }

  std::string Code(const FormFields& params = AuthorizeParams()) {
    const auto response = Authorize(params);
    EXPECT_EQ(response.status, 302) << response.body;
    return FindField(RedirectParams(response), "code").value_or("");
  }

  core::HttpResponse Exchange(const std::string& code, std::vector<core::HttpHeader> headers = {}) {
    FormFields form = {{"grant_type", "authorization_code"},
                       {"code", code},
                       {"redirect_uri", std::string(kRedirectUri)}};
    if (headers.empty()) {
      form.emplace_back("client_id", "zen-id");
      form.emplace_back("client_secret", "zen-secret");
    }
    return client_.PostForm(zenodo_.TokenEndpoint(), form, std::move(headers));
  }

  Json Tokens(const FormFields& params = AuthorizeParams()) {
    const auto response = Exchange(Code(params));
    EXPECT_EQ(response.status, 200) << response.body;
    return Json::parse(response.body);
  }

  core::HttpResponse Refresh(const std::string& refresh_token) {
    return client_.PostForm(zenodo_.TokenEndpoint(), {{"grant_type", "refresh_token"},
                                                      {"refresh_token", refresh_token},
                                                      {"client_id", "zen-id"},
                                                      {"client_secret", "zen-secret"}});
  }

  core::HttpResponse Depositions(const std::string& access_token) {
    return client_.Get(zenodo_.DepositionsEndpoint() + "?size=1",
                       {{"Authorization", "Bearer " + access_token}});
  }

  testing::FakeClock clock_;
  FakeZenodo zenodo_;
  TestClient client_;
};

TEST_F(FakeZenodoTest, CodeExchangeAnswersTheUserIdAsAString) {
  const Json tokens = Tokens();

  EXPECT_FALSE(tokens["access_token"].get<std::string>().empty());
  EXPECT_FALSE(tokens["refresh_token"].get<std::string>().empty());
  EXPECT_EQ(tokens["token_type"], "Bearer");
  EXPECT_EQ(tokens["expires_in"], 3600);
  EXPECT_EQ(tokens["scope"], "deposit:write deposit:actions");
  EXPECT_EQ(tokens["user"], Json::parse(R"({"id":"1"})"));
}

TEST_F(FakeZenodoTest, RefreshRotatesTheRefreshToken) {
  const Json tokens = Tokens();
  const std::string first_refresh = tokens["refresh_token"];

  const auto rotated = Refresh(first_refresh);
  const auto reused = Refresh(first_refresh);

  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const Json body = Json::parse(rotated.body);
  EXPECT_NE(body["refresh_token"], first_refresh);
  EXPECT_NE(body["access_token"], tokens["access_token"]);
  EXPECT_FALSE(zenodo_.IsRefreshTokenLive(first_refresh));
  EXPECT_TRUE(zenodo_.IsRefreshTokenLive(body["refresh_token"].get<std::string>()));
  EXPECT_EQ(reused.status, 400);
  EXPECT_EQ(reused.body, R"({"error":"invalid_grant"})");
  EXPECT_EQ(Refresh(body["refresh_token"]).status, 200);
}

TEST_F(FakeZenodoTest, OnlyBodyCredentialsAuthenticateTheClient) {
  const std::string code = Code();

  const auto basic = Exchange(code, {{"Authorization", BasicAuth("zen-id", "zen-secret")}});
  const auto body = Exchange(code);
  const auto bad_code = Exchange("nope");

  EXPECT_EQ(basic.status, 401);
  EXPECT_EQ(basic.body, R"({"error":"invalid_client"})");
  EXPECT_EQ(body.status, 200) << body.body;
  EXPECT_EQ(bad_code.status, 400);
  EXPECT_EQ(bad_code.body, R"({"error":"invalid_grant"})");
}

TEST_F(FakeZenodoTest, DepositionsListTheTokenUsersDepositionsWithTheirOwner) {
  const Json tokens = Tokens();
  const std::string access = tokens["access_token"];
  const auto empty = Depositions(access);
  zenodo_.AddDeposition({.id = 0, .owner = 2, .title = "Someone else's"});
  zenodo_.AddDeposition({.id = 0, .owner = 1, .title = "Older"});
  const std::int64_t newest = zenodo_.AddDeposition({.id = 0, .owner = 1, .title = "Newest"});

  const auto listed = Depositions(access);
  const auto all = client_.Get(zenodo_.DepositionsEndpoint() + "?access_token=" + access);

  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(empty.body, "[]");
  ASSERT_EQ(listed.status, 200) << listed.body;
  const Json list = Json::parse(listed.body);
  ASSERT_EQ(list.size(), 1U) << "size=1";
  EXPECT_EQ(list[0]["owner"], 1);
  EXPECT_TRUE(list[0]["owner"].is_number_integer());
  EXPECT_EQ(list[0]["id"], newest);
  EXPECT_EQ(list[0]["title"], "Newest");
  EXPECT_EQ(Json::parse(all.body).size(), 2U) << "the token in the query string works too";
}

TEST_F(FakeZenodoTest, DepositionsRefuseBadTokensAndMissingScopes) {
  zenodo_.SetAccessTokenLifetime(core::Seconds(10));
  const Json tokens = Tokens();
  const Json email_only = Tokens(AuthorizeParams("user:email"));
  clock_.Advance(core::Seconds(10));

  const auto expired = Depositions(tokens["access_token"]);
  const auto unknown = Depositions("nope");
  zenodo_.SetAccessTokenLifetime(core::Seconds(3600));
  const auto refreshed = Json::parse(Refresh(tokens["refresh_token"]).body);
  const Json scoped = Tokens(AuthorizeParams("user:email"));
  const auto forbidden = Depositions(scoped["access_token"]);

  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(Json::parse(expired.body)["status"], 401);
  EXPECT_FALSE(Json::parse(expired.body)["message"].get<std::string>().empty());
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(Depositions(refreshed["access_token"]).status, 200);
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_EQ(Json::parse(forbidden.body)["status"], 403);
  EXPECT_EQ(email_only["scope"], "user:email");
}

TEST_F(FakeZenodoTest, AuthorizeChecksScopesIgnoresPkceAndHasNoRevocation) {
  const auto bad_scope = Authorize(AuthorizeParams("deposit:write admin"));
  FormFields with_pkce = AuthorizeParams();
  with_pkce.emplace_back("code_challenge", "abc");
  with_pkce.emplace_back("code_challenge_method", "S256");
  const auto exchanged = Exchange(Code(with_pkce));  // no verifier: PKCE is not supported
  const auto revoke = client_.PostForm(zenodo_.BaseUrl() + "/oauth/revoke", {{"token", "x"}});
  zenodo_.FailNextTokenRequests(1, 502);
  const auto failed = Exchange(Code());

  ASSERT_EQ(bad_scope.status, 302);
  EXPECT_EQ(FindField(RedirectParams(bad_scope), "error"), "invalid_scope");
  EXPECT_EQ(FindField(RedirectParams(bad_scope), "state"), "st-1");
  EXPECT_EQ(exchanged.status, 200) << exchanged.body;
  EXPECT_EQ(revoke.status, 404);
  EXPECT_EQ(failed.status, 502);
}

}  // namespace
}  // namespace keybridge::fakes
