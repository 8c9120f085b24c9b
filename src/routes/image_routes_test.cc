// The image routes over in-memory repositories: query parsing, status codes and JSON shapes
// (the registry flows themselves are in service/image_service_test.cc).
#include "routes/image_routes.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "crypto/base64.h"
#include "crypto/system_random.h"
#include "routes/session_routes.h"
#include "support/fake_clock.h"
#include "support/in_memory_repositories.h"
#include "support/scripted_http_client.h"

namespace keybridge::routes {
namespace {

using nlohmann::json;

constexpr const char* kConnection = "01HAAAAAAAAAAAAAAAAAAAAAAA";

class ImageRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::Provider gitlab;
    gitlab.id = core::ProviderId("gitlab");
    gitlab.kind = core::ProviderKind::kGitLab;
    gitlab.display_name = "GitLab";
    gitlab.url = "https://gitlab.example.org";
    gitlab.image_registry_url = "https://registry.example.org";
    ASSERT_TRUE(providers_.Insert(gitlab).ok());
    AddImageRoutes(routes_, images_, nullptr);
    AddSessionRoutes(routes_, sessions_);
  }

  void ConnectAlice(std::optional<core::TimePoint> expires_at) {
    core::Connection c;
    c.id = core::ConnectionId(kConnection);
    c.user_id = core::UserId("alice");
    c.provider_id = core::ProviderId("gitlab");
    ASSERT_TRUE(connections_.FindOrInsert(c).ok());
    core::TokenSet token;
    token.access_token = core::Secret("glpat-abc");
    token.expires_at = expires_at;
    token.obtained_at = clock_.Now();
    ASSERT_TRUE(connections_.StoreToken(c.id, token, clock_.Now()).ok());
  }

  http::Response Call(const std::string& method, const std::string& path, const std::string& query,
                      const std::string& body = "") {
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
  service::ImageService images_{matcher_,       connections_,
                                token_service_, core::PublicUrls("https://kb.example.org"),
                                http_,          http_};
  RequestPolicy policy_{[this](std::string_view, std::string_view) { return caller_; }, {}};
  RouteTable routes_{policy_};
};

TEST_F(ImageRoutesTest, RegistryCredentialsAnswerTheContractShape) {
  ConnectAlice(clock_.Now() + core::Seconds(7200));

  auto response = Call("GET", kRegistryCredentialsPath,
                       "server_url=https%3A%2F%2Fregistry.example.org&min_valid_seconds=60");

  ASSERT_EQ(response.status, 200) << response.body;
  const json body = json::parse(response.body);
  EXPECT_EQ(body["server_url"], "registry.example.org");
  EXPECT_EQ(body["username"], "oauth2");
  EXPECT_EQ(body["secret"], "glpat-abc");
  EXPECT_EQ(body["expires_at"], core::FormatIso8601(clock_.Now() + core::Seconds(7200)));
  EXPECT_EQ(body["provider_id"], "gitlab");
  EXPECT_EQ(body["connection_id"], kConnection);
  EXPECT_EQ(Header(response, "Cache-Control"), "no-store");
}

TEST_F(ImageRoutesTest, PullSecretIsAKubernetesDockerConfigJsonSecret) {
  ConnectAlice(std::nullopt);

  auto response = Call("GET", kPullSecretPath, "image_url=registry.example.org%2Fgroup%2Fapp%3A1");

  ASSERT_EQ(response.status, 200) << response.body;
  const json body = json::parse(response.body);
  EXPECT_EQ(body["apiVersion"], "v1");
  EXPECT_EQ(body["kind"], "Secret");
  EXPECT_EQ(body["type"], "kubernetes.io/dockerconfigjson");
  EXPECT_EQ(body["metadata"]["name"], "keybridge-gitlab");
  EXPECT_TRUE(body["expires_at"].is_null());
  const auto config = json::parse(
      crypto::Base64Decode(body["data"][".dockerconfigjson"].get<std::string>()).value());
  const json& auth = config["auths"]["registry.example.org"];
  EXPECT_EQ(auth["username"], "oauth2");
  EXPECT_EQ(auth["password"], "glpat-abc");
  EXPECT_EQ(auth["auth"], crypto::Base64Encode("oauth2:glpat-abc"));
}

TEST_F(ImageRoutesTest, ErrorsNameTheRegistryOrTheConnectUrl) {
  auto unknown = Call("GET", kRegistryCredentialsPath, "server_url=ghcr.io");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("No integration serves registry ghcr.io"), std::string::npos);

  auto unconnected = Call("GET", kRegistryCredentialsPath, "server_url=registry.example.org");
  EXPECT_EQ(unconnected.status, 404) << "as git credentials answer a missing connection";
  EXPECT_EQ(json::parse(unconnected.body)["connect_url"],
            "https://kb.example.org/api/data/oauth2/providers/gitlab/authorize");

  auto secret = Call("GET", kPullSecretPath, "image_url=registry.example.org%2Fgroup%2Fapp");
  EXPECT_EQ(secret.status, 403);
  EXPECT_NE(secret.body.find("Connect at https://kb.example.org/api/data/oauth2/providers/gitlab/"
                             "authorize"),
            std::string::npos);

  EXPECT_EQ(Call("GET", kRegistryCredentialsPath, "").status, 422);
  EXPECT_EQ(Call("GET", kRegistryCredentialsPath, "server_url=x&extra=1").status, 422);
  EXPECT_EQ(Call("GET", kPullSecretPath, "image_url=registry.example.org%2FUPPER").status, 422);
  EXPECT_EQ(
      Call("GET", kRegistryCredentialsPath, "server_url=registry.example.org&min_valid_seconds=-1")
          .status,
      422);
}

TEST_F(ImageRoutesTest, ImageCheckAnswersAccessibleAndTheConnectUrl) {
  http_.Always("GET", "https://registry.example.org/v2/group/app/manifests/latest",
               core::HttpResponse{401, {}, R"({"errors":[{"code":"UNAUTHORIZED"}]})"});

  auto response = Call("GET", kImageCheckPath, "image_url=registry.example.org%2Fgroup%2Fapp");

  ASSERT_EQ(response.status, 200) << response.body;
  const json body = json::parse(response.body);
  EXPECT_EQ(body["accessible"], false);
  EXPECT_EQ(body["provider"]["id"], "gitlab");
  EXPECT_EQ(body["connect_url"],
            "https://kb.example.org/api/data/oauth2/providers/gitlab/authorize");
  EXPECT_TRUE(body.contains("message"));
  EXPECT_FALSE(body.contains("platforms"));
  EXPECT_EQ(Call("GET", kImageCheckPath, "image_url=%3A%3A").status, 422);
}

TEST_F(ImageRoutesTest, SessionTokensStoreAndShowImageRepositories) {
  auto created =
      Call("POST", "/api/data/sessions/tokens", "",
           R"({"session_name":"s","image_repositories":["Registry.example.org/group/"]})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(json::parse(created.body)["image_repositories"],
            json::array({"registry.example.org/group"}));

  auto unserved = Call("POST", "/api/data/sessions/tokens", "",
                       R"({"session_name":"s","image_repositories":["ghcr.io/alice"]})");
  EXPECT_EQ(unserved.status, 422);
  EXPECT_NE(unserved.body.find("image_repositories"), std::string::npos);
}

}  // namespace
}  // namespace keybridge::routes
