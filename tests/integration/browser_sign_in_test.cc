// Browser sign-in over HTTP against the real Application: the one-time administrator
// link printed at start, signing in with an API token, the session cookie's attributes, CSRF
// (token and Origin) on cookie-authenticated state changes while bearer clients are unaffected,
// sign-out, and the OIDC sign-in (authorization code + PKCE S256 + state) at the test issuer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>

#include "core/text.h"
#include "crypto/key_ring.h"
#include "crypto/system_random.h"
#include "integration/harness.h"
#include "service/api_token_service.h"
#include "storage/store.h"

namespace keybridge {
namespace {

using nlohmann::json;

std::string HeaderOf(const core::HttpResponse& response, const std::string& lower_name) {
  for (const auto& header : response.headers) {
    if (core::AsciiLower(header.name) == lower_name) {
      return header.value;
    }
  }
  return "";
}

json Body(const core::HttpResponse& response) {
  return json::parse(response.body, nullptr, false);
}

std::string GitLabProvider() {
  return json{{"id", "gitlab"},
              {"kind", "gitlab"},
              {"client_id", "cid"},
              {"client_secret", "csecret"},
              {"display_name", "GitLab"},
              {"scope", "read_api"},
              {"url", "https://gitlab.example.org"}}
      .dump();
}

class EmbeddedSignInTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kb_ = std::make_unique<testing::KeybridgeHarness>(
        [](app::ServeConfig& config) { config.oidc_issuer.clear(); });
    std::ostringstream announced;
    kb_->application().AnnounceAdminSignInLink(announced);
    stdout_ = announced.str();
  }

  // The token of the one-time link keybridge wrote to its 0600 file ("" if none).
  std::string LinkToken() const {
    std::ifstream file(kb_->dir() / "admin-sign-in-link");
    std::stringstream text;
    text << file.rdbuf();
    const std::string written = text.str();
    std::smatch match;
    const std::regex link(R"((http://127\.0\.0\.1:[0-9]+)/api/data/auth/once#([A-Za-z0-9_-]+))");
    return std::regex_search(written, match, link) ? match[2].str() : "";
  }

  // An API token made the way `keybridge tokens create` makes it, on the same database.
  std::string ApiToken(const std::string& user, bool admin) {
    crypto::SystemRandom random;
    auto keys = crypto::KeyRing::LoadOrCreate((kb_->dir() / "keybridge.key").string(), random);
    EXPECT_TRUE(keys.ok());
    auto store = storage::OpenStore("sqlite://" + (kb_->dir() / "keybridge.db").string(), **keys);
    EXPECT_TRUE(store.ok());
    core::SystemClock clock;
    service::ApiTokenService tokens(*(*store)->api_tokens, random, clock);
    auto issued = tokens.Create(core::UserId(user), admin, "browser test", std::nullopt);
    EXPECT_TRUE(issued.ok());
    return issued->token.Reveal();
  }

  // Signs in with `path` and `token`; returns the "kb_session=..." cookie pair and the CSRF token.
  std::pair<std::string, std::string> SignIn(const std::string& path, const std::string& token) {
    auto r =
        kb_->Call("POST", path, "", json{{"token", token}}.dump(), {{"Origin", kb_->BaseUrl()}});
    EXPECT_EQ(r.status, 200) << r.body;
    return {testing::CookiePair(r), Body(r).value("csrf_token", "")};
  }

  std::unique_ptr<testing::KeybridgeHarness> kb_;
  std::string stdout_;
};

TEST_F(EmbeddedSignInTest, OneTimeLinkSignsInAnAdministratorOnceWithAStrictCookie) {
  const std::string token = LinkToken();
  ASSERT_FALSE(token.empty()) << "no sign-in link written; stdout: " << stdout_;
  EXPECT_NE(stdout_.find((kb_->dir() / "admin-sign-in-link").string()), std::string::npos)
      << "stdout says where the link is: " << stdout_;
  EXPECT_EQ(stdout_.find(token), std::string::npos) << "stdout (a log) never carries the link";
  EXPECT_EQ(std::filesystem::status(kb_->dir() / "admin-sign-in-link").permissions()
                & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // The landing URL keeps the token in the fragment: the server only redirects to the page.
  auto landing = kb_->Call("GET", "/api/data/auth/once");
  EXPECT_EQ(landing.status, 303);
  EXPECT_EQ(HeaderOf(landing, "location"), "/?signin=once");

  auto r = kb_->Call("POST", "/api/data/auth/once", "", json{{"token", token}}.dump(),
                     {{"Origin", kb_->BaseUrl()}});

  ASSERT_EQ(r.status, 200) << r.body;
  const std::string cookie = HeaderOf(r, "set-cookie");
  EXPECT_EQ(cookie.rfind("kb_session=", 0), 0U) << cookie;
  EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("; SameSite=Lax"), std::string::npos);
  EXPECT_NE(cookie.find("; Path=/"), std::string::npos);
  EXPECT_EQ(cookie.find("Secure"), std::string::npos) << "http public URL";
  EXPECT_TRUE(Body(r)["is_admin"].get<bool>());
  auto me = kb_->Call("GET", "/api/data/user", "", "", {{"Cookie", testing::CookiePair(r)}});
  EXPECT_EQ(me.status, 200);
  EXPECT_EQ(Body(me)["id"], "admin");
  EXPECT_EQ(Body(me)["csrf_token"], Body(r)["csrf_token"]);

  auto again = kb_->Call("POST", "/api/data/auth/once", "", json{{"token", token}}.dump(),
                         {{"Origin", kb_->BaseUrl()}});
  EXPECT_EQ(again.status, 401) << "single use";
  // An administrator has signed in: later starts issue no link, even after the session ended.
  auto signed_out = kb_->Call("POST", "/api/data/auth/logout", "", "",
                              {{"Cookie", testing::CookiePair(r)},
                               {"X-CSRF-Token", Body(r)["csrf_token"].get<std::string>()},
                               {"Origin", kb_->BaseUrl()}});
  EXPECT_EQ(signed_out.status, 204) << signed_out.body;
  std::ostringstream announced;
  kb_->application().AnnounceAdminSignInLink(announced);
  EXPECT_EQ(announced.str(), "");
  auto wrong = kb_->Call("POST", "/api/data/auth/once", "", json{{"token", "x" + token}}.dump(),
                         {{"Origin", kb_->BaseUrl()}});
  EXPECT_EQ(wrong.status, 401);
}

TEST_F(EmbeddedSignInTest, CookieRequestsNeedTheCsrfTokenAndOurOriginButBearerRequestsDoNot) {
  const auto [cookie, csrf] = SignIn("/api/data/auth/once", LinkToken());
  const std::string origin = kb_->BaseUrl();

  auto no_token =
      kb_->Call("POST", "/api/data/oauth2/providers", "", GitLabProvider(), {{"Cookie", cookie}});
  auto wrong_token = kb_->Call("POST", "/api/data/oauth2/providers", "", GitLabProvider(),
                               {{"Cookie", cookie}, {"X-CSRF-Token", csrf + "x"}});
  auto other_site =
      kb_->Call("POST", "/api/data/oauth2/providers", "", GitLabProvider(),
                {{"Cookie", cookie}, {"X-CSRF-Token", csrf}, {"Origin", "http://evil.example"}});
  EXPECT_EQ(no_token.status, 403);
  EXPECT_NE(no_token.body.find("X-CSRF-Token"), std::string::npos) << no_token.body;
  EXPECT_EQ(wrong_token.status, 403);
  EXPECT_EQ(other_site.status, 403);
  EXPECT_NE(other_site.body.find("another site"), std::string::npos) << other_site.body;
  EXPECT_EQ(kb_->Call("GET", "/api/data/oauth2/providers").body, "[]") << "nothing was created";

  auto ok = kb_->Call("POST", "/api/data/oauth2/providers", "", GitLabProvider(),
                      {{"Cookie", cookie}, {"X-CSRF-Token", csrf}, {"Origin", origin}});
  EXPECT_EQ(ok.status, 201) << ok.body;

  // A bearer client sends no cookie and no CSRF token, and is not asked for one.
  const std::string admin_token = ApiToken("ops", true);
  auto bearer = kb_->Call("DELETE", "/api/data/oauth2/providers/gitlab", admin_token, "",
                          {{"Origin", "http://evil.example"}});
  EXPECT_EQ(bearer.status, 204) << bearer.body;
}

TEST_F(EmbeddedSignInTest, ApiTokenSignsInWithItsUserAndAdminFlag) {
  const auto user = kb_->Call("POST", "/api/data/auth/token", "",
                              json{{"token", ApiToken("researcher", false)}}.dump(),
                              {{"Origin", kb_->BaseUrl()}});
  ASSERT_EQ(user.status, 200) << user.body;
  EXPECT_EQ(Body(user)["id"], "researcher");
  EXPECT_FALSE(Body(user)["is_admin"].get<bool>());
  const std::string cookie = testing::CookiePair(user);
  const std::string csrf = Body(user)["csrf_token"];
  auto forbidden = kb_->Call("POST", "/api/data/oauth2/providers", "", GitLabProvider(),
                             {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  EXPECT_EQ(forbidden.status, 403) << "a user session is not an admin";

  auto bogus =
      kb_->Call("POST", "/api/data/auth/token", "", json{{"token", "kb_not-a-real-token"}}.dump(),
                {{"Origin", kb_->BaseUrl()}});
  EXPECT_EQ(bogus.status, 401);
  auto session_token =
      kb_->Call("POST", "/api/data/auth/token", "", json{{"token", "kbs_a-session-token"}}.dump(),
                {{"Origin", kb_->BaseUrl()}});
  EXPECT_EQ(session_token.status, 401);
}

TEST_F(EmbeddedSignInTest, SignOutNeedsCsrfThenEndsTheSessionServerSide) {
  const auto [cookie, csrf] = SignIn("/api/data/auth/token", ApiToken("researcher", false));

  auto forged = kb_->Call("POST", "/api/data/auth/logout", "", "", {{"Cookie", cookie}});
  EXPECT_EQ(forged.status, 403);
  EXPECT_EQ(kb_->Call("GET", "/api/data/user", "", "", {{"Cookie", cookie}}).status, 200);

  auto out = kb_->Call("POST", "/api/data/auth/logout", "", "",
                       {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  EXPECT_EQ(out.status, 204);
  EXPECT_NE(HeaderOf(out, "set-cookie").find("Max-Age=0"), std::string::npos);
  // The old cookie is worthless now, even if the browser had kept it.
  auto me = kb_->Call("GET", "/api/data/user", "", "", {{"Cookie", cookie}});
  EXPECT_EQ(me.status, 401);
  EXPECT_EQ(kb_->Call("GET", "/api/data/user").status, 401);
}

class OidcSignInTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kb_ = std::make_unique<testing::KeybridgeHarness>([](app::ServeConfig& config) {
      config.oidc_client_id = testing::TestIssuerServer::kClientId;
      config.oidc_client_secret = testing::TestIssuerServer::kClientSecret;
    });
  }

  std::unique_ptr<testing::KeybridgeHarness> kb_;
};

TEST_F(OidcSignInTest, CodeFlowWithPkceCreatesASessionForTheIssuersUser) {
  kb_->issuer().SetBrowserUser("admin-7", {"renku-admin"});
  EXPECT_TRUE(Body(kb_->Call("GET", "/api/data/auth/methods"))["oidc"].get<bool>());

  auto login = kb_->Call("GET", "/api/data/auth/login?next=%2F%23%2Fadmin");
  ASSERT_EQ(login.status, 302) << login.body;
  const std::string authorize = HeaderOf(login, "location");
  EXPECT_EQ(authorize.rfind(kb_->issuer().IssuerUrl() + "/protocol/openid-connect/auth", 0), 0U);
  EXPECT_EQ(testing::QueryParam(authorize, "code_challenge_method"), "S256");
  EXPECT_EQ(testing::QueryParam(authorize, "redirect_uri"),
            kb_->BaseUrl() + "/api/data/auth/callback");
  const std::string flow_cookie = testing::CookiePair(login);
  ASSERT_EQ(flow_cookie.rfind("kb_login_", 0), 0U) << flow_cookie;

  auto at_issuer = kb_->Call("GET", authorize);
  ASSERT_EQ(at_issuer.status, 302) << at_issuer.body;
  const std::string callback = HeaderOf(at_issuer, "location");
  auto done = kb_->Call("GET", callback, "", "", {{"Cookie", flow_cookie}});

  ASSERT_EQ(done.status, 303) << done.body;
  EXPECT_EQ(HeaderOf(done, "location"), "/#/admin");
  std::string session;
  for (const auto& header : done.headers) {
    if (header.value.rfind("kb_session=", 0) == 0) {
      session = header.value.substr(0, header.value.find(';'));
    }
  }
  ASSERT_FALSE(session.empty());
  auto me = kb_->Call("GET", "/api/data/user", "", "", {{"Cookie", session}});
  EXPECT_EQ(me.status, 200);
  EXPECT_EQ(Body(me)["id"], "admin-7");
  EXPECT_TRUE(Body(me)["is_admin"].get<bool>());
  EXPECT_EQ(kb_->issuer().RefusedTokenRequests(), 0);

  // The state is single use.
  auto replay = kb_->Call("GET", callback, "", "", {{"Cookie", flow_cookie}});
  EXPECT_EQ(replay.status, 400);
}

// Security issue, defect 10 (RFC 9207): the issuer advertises `iss` in its authorization
// responses, so a response naming another issuer, or none, is not redeemed.
TEST_F(OidcSignInTest, AResponseNamingAnotherIssuerOrNoneIsNotRedeemed) {
  const auto sign_in = [this]() {
    auto login = kb_->Call("GET", "/api/data/auth/login");
    EXPECT_EQ(login.status, 302);
    auto at_issuer = kb_->Call("GET", HeaderOf(login, "location"));
    EXPECT_EQ(at_issuer.status, 302);
    return kb_->Call("GET", HeaderOf(at_issuer, "location"), "", "",
                     {{"Cookie", testing::CookiePair(login)}});
  };
  kb_->issuer().SetAuthorizationResponseIssuer("https://attacker.example/realms/test");
  auto other = sign_in();
  kb_->issuer().SetAuthorizationResponseIssuer(std::nullopt);
  auto none = sign_in();
  kb_->issuer().SetAuthorizationResponseIssuer(kb_->issuer().IssuerUrl());
  auto own = sign_in();

  EXPECT_EQ(other.status, 400);
  EXPECT_NE(other.body.find("came from another issuer"), std::string::npos) << other.body;
  EXPECT_EQ(none.status, 400);
  EXPECT_NE(none.body.find("did not name its issuer"), std::string::npos) << none.body;
  for (const auto& refused : {other, none}) {
    EXPECT_EQ(HeaderOf(refused, "set-cookie").find("kb_session="), std::string::npos);
  }
  EXPECT_EQ(own.status, 303) << own.body;
}

// Security issue, defect 6: anonymous sign-in starts are rationed per client address (a burst of
// 10, then 30 a minute), besides the cap on pending flows.
TEST_F(OidcSignInTest, SignInStartsAreRationedPerClient) {
  int started = 0;
  core::HttpResponse refused;
  for (int i = 0; i < 25 && refused.status == 0; ++i) {
    auto login = kb_->Call("GET", "/api/data/auth/login");
    if (login.status == 302) {
      ++started;
    } else {
      refused = login;
    }
  }

  EXPECT_GE(started, 10) << "the burst is allowed";
  ASSERT_EQ(refused.status, 429) << refused.body;
  EXPECT_FALSE(HeaderOf(refused, "retry-after").empty());
}

TEST_F(OidcSignInTest, CallbackFromAnotherBrowserAndForeignNextAreRefused) {
  auto login = kb_->Call("GET", "/api/data/auth/login");
  ASSERT_EQ(login.status, 302);
  auto at_issuer = kb_->Call("GET", HeaderOf(login, "location"));
  // No flow cookie: the browser that finishes is not the one that started.
  auto stolen = kb_->Call("GET", HeaderOf(at_issuer, "location"));
  EXPECT_EQ(stolen.status, 403);
  EXPECT_EQ(HeaderOf(stolen, "set-cookie").find("kb_session="), std::string::npos);

  EXPECT_EQ(kb_->Call("GET", "/api/data/auth/login?next=%2F%2Fevil.example").status, 422);
  EXPECT_EQ(kb_->Call("GET", "/api/data/auth/login?next=https%3A%2F%2Fevil.example").status, 422);
}

}  // namespace
}  // namespace keybridge
