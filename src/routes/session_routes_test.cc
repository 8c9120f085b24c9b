// The session token and git credentials routes over in-memory repositories: request parsing,
// status codes and JSON shapes. The end-to-end behaviour is in tests/integration.
#include "routes/session_routes.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/url.h"
#include "crypto/system_random.h"
#include "routes/git_credentials_routes.h"
#include "support/fake_clock.h"
#include "support/in_memory_repositories.h"
#include "support/scripted_http_client.h"

namespace keybridge::routes {
namespace {

using nlohmann::json;

constexpr const char* kRepo = "https://gitlab.example.org/group/a.git";
constexpr const char* kConnection = "01HAAAAAAAAAAAAAAAAAAAAAAA";

class SessionRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::Provider gitlab;
    gitlab.id = core::ProviderId("gitlab");
    gitlab.kind = core::ProviderKind::kGitLab;
    gitlab.display_name = "GitLab";
    gitlab.url = "https://gitlab.example.org";
    ASSERT_TRUE(providers_.Insert(gitlab).ok());
    AddSessionRoutes(routes_, sessions_);
    AddGitCredentialsRoutes(routes_, credentials_);
  }

  void ConnectAlice() {
    core::Connection c;
    c.id = core::ConnectionId(kConnection);
    c.user_id = core::UserId("alice");
    c.provider_id = core::ProviderId("gitlab");
    ASSERT_TRUE(connections_.FindOrInsert(c).ok());
    core::TokenSet token;
    token.access_token = core::Secret("glpat-abc");
    token.expires_at = clock_.Now() + core::Seconds(7200);
    token.obtained_at = clock_.Now();
    ASSERT_TRUE(connections_.StoreToken(c.id, token, clock_.Now()).ok());
  }

  http::Response Call(const std::string& method, const std::string& path,
                      const std::string& body = "", const std::string& query = "") {
    http::Request request;
    request.method = method;
    request.path = path;
    request.raw_query = query;
    request.body = body;
    if (!body.empty()) {
      request.headers.push_back({"content-type", "application/json"});
    }
    return http::RunHere(routes_.Dispatch(request));
  }
  static std::string Header(const http::Response& response, const std::string& name) {
    for (const auto& h : response.headers) {
      if (h.name == name) {
        return h.value;
      }
    }
    return "";
  }

  core::Caller caller_ = core::Caller::User(core::UserId("alice"));
  testing::FakeClock clock_;
  crypto::SystemRandom random_;
  testing::InMemorySessionTokenRepository tokens_;
  testing::InMemoryProviderRepository providers_;
  testing::InMemoryConnectionRepository connections_;
  testing::ScriptedHttpClient http_;
  service::ProviderGateway gateway_{http_, clock_};
  service::ProviderMatcher matcher_{providers_};
  service::SessionScopePolicy scope_{connections_, matcher_};
  service::TokenService token_service_{
      connections_, providers_, gateway_,
      clock_,       scope_,     {core::Seconds(300), core::PublicUrls("https://kb.example.org")}};
  service::SessionTokenService sessions_{tokens_, scope_, random_, clock_,
                                         service::SessionTokenServiceOptions{}};
  service::GitCredentialService credentials_{providers_, connections_, matcher_, token_service_,
                                             core::PublicUrls("https://kb.example.org")};
  // The route table authenticates every request as `caller_`.
  RequestPolicy policy_{[this](std::string_view, std::string_view) { return caller_; }, {}};
  RouteTable routes_{policy_};
};

TEST_F(SessionRoutesTest, PostReturnsTheTokenOnceWithTheGitConfiguration) {
  auto created = Call("POST", "/api/data/sessions/tokens",
                      R"({"session_name":"jupyter","ttl_seconds":3600,"repository_urls":[")"
                          + std::string(kRepo) + R"("]})");

  ASSERT_EQ(created.status, 201) << created.body;
  const json body = json::parse(created.body);
  EXPECT_EQ(body["token"].get<std::string>().rfind("kbs_", 0), 0U);
  EXPECT_EQ(body["session_name"], "jupyter");
  EXPECT_EQ(body["status"], "active");
  EXPECT_EQ(body["repository_urls"], json::array({kRepo}));
  EXPECT_EQ(body["connection_ids"], json::array());
  EXPECT_EQ(body["created_at"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(body["expires_at"], "2023-11-14T23:13:20Z");
  EXPECT_EQ(body["git_config"],
            json::array({"git config --global credential.helper '!keybridge git-credential'",
                         "git config --global credential.useHttpPath true"}));
  EXPECT_EQ(Header(created, "Cache-Control"), "no-store");
  EXPECT_EQ(Header(created, "Location"),
            "/api/data/sessions/tokens/" + body["id"].get<std::string>());
}

TEST_F(SessionRoutesTest, ListNeverShowsTokenValuesAndDeleteRevokes) {
  auto created =
      Call("POST", "/api/data/sessions/tokens",
           R"({"session_name":"s","repository_urls":[")" + std::string(kRepo) + R"("]})");
  const std::string id = json::parse(created.body)["id"];
  const std::string token = json::parse(created.body)["token"];

  auto revoked = Call("DELETE", "/api/data/sessions/tokens/" + id);
  auto listed = Call("GET", "/api/data/sessions/tokens");

  EXPECT_EQ(revoked.status, 204);
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body.find(token), std::string::npos);
  const json list = json::parse(listed.body);
  ASSERT_EQ(list.size(), 1U);
  EXPECT_EQ(list[0]["id"], id);
  EXPECT_EQ(list[0]["status"], "revoked");
  EXPECT_FALSE(list[0].contains("token"));
  EXPECT_TRUE(list[0].contains("revoked_at"));
}

TEST_F(SessionRoutesTest, MalformedRequestsAreRejectedBeforeTheService) {
  EXPECT_EQ(Call("POST", "/api/data/sessions/tokens", "{").status, 400);
  EXPECT_EQ(
      Call("POST", "/api/data/sessions/tokens", R"({"session_name":"s","admin":true})").status,
      422);
  EXPECT_EQ(Call("POST", "/api/data/sessions/tokens",
                 R"({"session_name":"s","ttl_seconds":"1h","repository_urls":[]})")
                .status,
            422);
  EXPECT_EQ(
      Call("POST", "/api/data/sessions/tokens", R"({"session_name":"s","repository_urls":"x"})")
          .status,
      422);
  EXPECT_EQ(Call("POST", "/api/data/sessions/tokens", R"({"repository_urls":[]})").status, 422);
  EXPECT_EQ(Call("DELETE", "/api/data/sessions/tokens/tok_123").status, 404);
  EXPECT_EQ(Call("DELETE", "/api/data/sessions/tokens/st_0123456789ab").status, 404);
}

TEST_F(SessionRoutesTest, AnonymousCallersGet401) {
  caller_ = core::Caller::Anonymous();

  EXPECT_EQ(Call("GET", "/api/data/sessions/tokens").status, 401);
  EXPECT_EQ(Call("GET", "/api/data/git/credentials", "",
                 "url=https%3A%2F%2Fgitlab.example.org%2Fg%2Fa.git")
                .status,
            401);
}

TEST_F(SessionRoutesTest, GitCredentialsAnswerUsernamePasswordAndExpiry) {
  ConnectAlice();

  auto answer = Call("GET", kGitCredentialsPath, "",
                     "url=" + core::PercentEncode(kRepo) + "&min_valid_seconds=60");

  ASSERT_EQ(answer.status, 200) << answer.body;
  const json body = json::parse(answer.body);
  EXPECT_EQ(body["username"], "oauth2");
  EXPECT_EQ(body["password"], "glpat-abc");
  EXPECT_EQ(body["expires_at"], core::ToUnixSeconds(clock_.Now()) + 7200);
  EXPECT_EQ(body["provider_id"], "gitlab");
  EXPECT_EQ(body["connection_id"], kConnection);
  EXPECT_EQ(Header(answer, "Cache-Control"), "no-store");
}

TEST_F(SessionRoutesTest, GitCredentialsWithoutAConnectionNameTheConnectUrl) {
  auto answer = Call("GET", kGitCredentialsPath, "", "url=" + core::PercentEncode(kRepo));

  EXPECT_EQ(answer.status, 404);
  const json body = json::parse(answer.body);
  EXPECT_EQ(body["connect_url"],
            "https://kb.example.org/api/data/oauth2/providers/gitlab/authorize");
  EXPECT_EQ(body["provider_id"], "gitlab");
  EXPECT_EQ(body["provider_name"], "GitLab");
  EXPECT_EQ(body["error"]["code"], 1404);
}

TEST_F(SessionRoutesTest, GitCredentialsQueryIsStrict) {
  const std::string url = "url=" + core::PercentEncode(kRepo);

  EXPECT_EQ(Call("GET", kGitCredentialsPath).status, 422);
  EXPECT_EQ(Call("GET", kGitCredentialsPath, "", url + "&min_valid_seconds=-1").status, 422);
  EXPECT_EQ(Call("GET", kGitCredentialsPath, "", url + "&force_refresh=yes").status, 422);
  EXPECT_EQ(
      Call("GET", kGitCredentialsPath, "", url + "&rejected_sha256=" + std::string(64, 'a')).status,
      422);
  EXPECT_EQ(Call("GET", kGitCredentialsPath, "", url + "&token=x").status, 422);
  auto unserved = Call("GET", kGitCredentialsPath, "",
                       "url=" + core::PercentEncode("https://elsewhere.example.org/a.git"));
  EXPECT_EQ(unserved.status, 404);
  EXPECT_FALSE(json::parse(unserved.body).contains("connect_url"));
}

}  // namespace
}  // namespace keybridge::routes
