#include "service/image_service.h"

#include <gtest/gtest.h>

#include "crypto/base64.h"
#include "support/fake_clock.h"
#include "support/in_memory_repositories.h"
#include "support/scripted_http_client.h"

namespace keybridge::service {
namespace {

using core::ErrorCode;

const core::ConnectionId kGitLabConnection("01HAAAAAAAAAAAAAAAAAAAAAAA");
constexpr const char* kManifestUrl = "https://registry.example.org/v2/group/app/manifests/latest";
constexpr const char* kTokenUrl =
    "https://gitlab.example.org/jwt/auth?service=container_registry&scope=repository%3Agroup%2Fapp"
    "%3Apull";
constexpr const char* kChallenge =
    R"(Bearer realm="https://gitlab.example.org/jwt/auth",service="container_registry",)"
    R"(scope="repository:group/app:pull")";
constexpr const char* kIndex = R"({"schemaVersion":2,"manifests":[
  {"digest":"sha256:a","platform":{"os":"linux","architecture":"amd64"}},
  {"digest":"sha256:b","platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]})";

core::HttpResponse Answer(int status, std::string body,
                          std::vector<core::HttpHeader> headers = {}) {
  core::HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers = std::move(headers);
  return response;
}

core::HttpResponse Challenge(const std::string& value) {
  return Answer(401, R"({"errors":[{"code":"UNAUTHORIZED"}]})", {{"www-authenticate", value}});
}

std::string HeaderOf(const core::HttpRequest& request, std::string_view name) {
  for (const auto& header : request.headers) {
    if (header.name == name) {
      return header.value;
    }
  }
  return "";
}

core::Provider MakeProvider(const std::string& id, core::ProviderKind kind, const std::string& url,
                            const std::string& registry) {
  core::Provider p;
  p.id = core::ProviderId(id);
  p.kind = kind;
  p.client_id = "cid-" + id;
  p.client_secret = core::Secret("secret-" + id);
  p.display_name = "Display " + id;
  p.url = url;
  p.image_registry_url = registry;
  return p;
}

class ImageServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        providers_
            .Insert(MakeProvider("gitlab", core::ProviderKind::kGitLab,
                                 "https://gitlab.example.org", "https://registry.example.org"))
            .ok());
  }

  void Connect(const core::ConnectionId& id, const std::string& provider, const std::string& access,
               core::Seconds valid = core::Seconds(7200)) {
    core::Connection c;
    c.id = id;
    c.user_id = core::UserId("alice");
    c.provider_id = core::ProviderId(provider);
    ASSERT_TRUE(connections_.FindOrInsert(c).ok());
    core::TokenSet token;
    token.access_token = core::Secret(access);
    token.refresh_token = core::Secret("refresh-" + access);
    // Issued for two hours, `valid` of them left.
    token.expires_in = 7200;
    token.expires_at = clock_.Now() + valid;
    token.obtained_at = *token.expires_at - core::Seconds(7200);
    ASSERT_TRUE(connections_.StoreToken(id, token, clock_.Now()).ok());
  }

  static core::Caller Alice() { return core::Caller::User(core::UserId("alice")); }
  static core::Caller Session(std::vector<core::ConnectionId> connection_ids,
                              std::vector<std::string> images) {
    core::Caller caller = Alice();
    caller.session_scope = core::SessionScope{
        "st_0123456789ab", "jupyter", std::move(connection_ids), {}, std::move(images)};
    return caller;
  }

  testing::FakeClock clock_;
  testing::InMemoryProviderRepository providers_;
  testing::InMemoryConnectionRepository connections_;
  testing::ScriptedHttpClient http_;   // providers and their registries
  testing::ScriptedHttpClient probe_;  // registries no integration serves
  ProviderGateway gateway_{http_, clock_};
  ProviderMatcher matcher_{providers_};
  SessionScopePolicy scope_{connections_, matcher_};
  TokenService tokens_{
      connections_,
      providers_,
      gateway_,
      clock_,
      scope_,
      TokenServiceOptions{core::Seconds(300), core::PublicUrls("https://kb.example.org")}};
  ImageService images_{matcher_, connections_, tokens_, core::PublicUrls("https://kb.example.org"),
                       http_,    probe_};
};

TEST_F(ImageServiceTest, AGitLabImageIsCheckedWithTheUsersTokenThroughTheRegistryTokenFlow) {
  Connect(kGitLabConnection, "gitlab", "gitlab-access");
  http_.Enqueue("GET", kManifestUrl, Challenge(kChallenge));
  http_.Enqueue("GET", kTokenUrl, Answer(200, R"({"token":"registry-jwt","expires_in":300})"));
  http_.Enqueue("GET", kManifestUrl, Answer(200, kIndex));

  auto check = images_.Check(Alice(), "registry.example.org/group/app");

  ASSERT_TRUE(check.ok()) << check.error().message;
  EXPECT_TRUE(check->accessible) << check->message;
  ASSERT_EQ(check->platforms.size(), 2U);
  EXPECT_EQ(check->platforms[1], (oauth::ImagePlatform{"linux", "arm64", "v8"}));
  ASSERT_TRUE(check->provider);
  EXPECT_EQ(check->provider->id, "gitlab");
  EXPECT_FALSE(check->provider->client_secret);
  ASSERT_TRUE(check->connection);
  EXPECT_FALSE(check->connection->token);
  EXPECT_TRUE(check->connect_url.empty());
  const auto requests = http_.Requests();
  ASSERT_EQ(requests.size(), 3U);
  EXPECT_EQ(HeaderOf(requests[0], "Authorization"), "");
  EXPECT_EQ(HeaderOf(requests[1], "Authorization"),
            "Basic " + crypto::Base64Encode("oauth2:gitlab-access"));
  EXPECT_EQ(HeaderOf(requests[2], "Authorization"), "Bearer registry-jwt");
  EXPECT_TRUE(probe_.Requests().empty()) << "a matched registry is not probed";
}

TEST_F(ImageServiceTest, APublicImageOfAnUnservedRegistryIsCheckedAnonymouslyThroughTheProbe) {
  probe_.Enqueue(
      "GET", "https://registry-1.docker.io/v2/library/debian/manifests/12",
      Challenge(R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io")"));
  probe_.Enqueue(
      "GET",
      "https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary"
      "%2Fdebian%3Apull",
      Answer(200, R"({"access_token":"anon"})"));
  probe_.Enqueue("GET", "https://registry-1.docker.io/v2/library/debian/manifests/12",
                 Answer(200, R"({"schemaVersion":2,"config":{},"layers":[]})"));

  auto check = images_.Check(Alice(), "debian:12");

  ASSERT_TRUE(check.ok()) << check.error().message;
  EXPECT_TRUE(check->accessible) << check->message;
  EXPECT_TRUE(check->platforms.empty());
  EXPECT_FALSE(check->provider);
  EXPECT_TRUE(check->connect_url.empty());
  for (const auto& request : probe_.Requests()) {
    EXPECT_NE(HeaderOf(request, "Authorization").rfind("Basic", 0), 0U) << request.url;
  }
  EXPECT_EQ(HeaderOf(probe_.Requests()[1], "Authorization"), "");
  EXPECT_TRUE(http_.Requests().empty());
}

TEST_F(ImageServiceTest, APrivateAddressOfAnUnservedRegistryIsNotAccessible) {
  probe_.Enqueue("GET", "https://10.0.0.1:5000/v2/app/manifests/latest",
                 core::MakeError(ErrorCode::kPermissionDenied, "private address"));

  auto check = images_.Check(core::Caller::Anonymous(), "10.0.0.1:5000/app");

  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->accessible);
  EXPECT_NE(check->message.find("public addresses"), std::string::npos) << check->message;
}

TEST_F(ImageServiceTest, NotConnectedGetsTheConnectUrlAndTheAnonymousAnswer) {
  http_.Enqueue("GET", kManifestUrl, Challenge(kChallenge));
  http_.Enqueue("GET", kTokenUrl, Answer(200, R"({"token":"anonymous-jwt"})"));
  http_.Enqueue("GET", kManifestUrl, Answer(401, R"({"errors":[{"code":"UNAUTHORIZED"}]})"));

  auto check = images_.Check(Alice(), "registry.example.org/group/app");

  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->accessible);
  EXPECT_FALSE(check->connection);
  EXPECT_EQ(check->connect_url,
            "https://kb.example.org/api/data/oauth2/providers/gitlab/authorize");
  EXPECT_NE(check->message.find("requires signing in"), std::string::npos) << check->message;
  EXPECT_EQ(HeaderOf(http_.Requests()[1], "Authorization"), "") << "anonymous token request";
}

TEST_F(ImageServiceTest, ARegistryThatRefusesTheTokenSaysSoAndTriesAnonymously) {
  Connect(kGitLabConnection, "gitlab", "gitlab-access");
  http_.Enqueue("GET", kManifestUrl, Challenge(kChallenge));
  http_.Enqueue("GET", kTokenUrl, Answer(200, R"({"token":"registry-jwt"})"));
  // GitLab drops the pull action it will not grant; the registry then refuses the image.
  http_.Enqueue("GET", kManifestUrl, Answer(403, R"({"errors":[{"code":"DENIED"}]})"));
  http_.Enqueue("GET", kManifestUrl, Challenge(kChallenge));
  http_.Enqueue("GET", kTokenUrl, Answer(200, R"({"token":"anonymous-jwt"})"));
  http_.Enqueue("GET", kManifestUrl, Answer(401, R"({"errors":[{"code":"UNAUTHORIZED"}]})"));

  auto check = images_.Check(Alice(), "registry.example.org/group/app");

  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->accessible);
  EXPECT_NE(check->message.find("does not let your account pull"), std::string::npos)
      << check->message;
  ASSERT_TRUE(check->connection);
  EXPECT_EQ(check->connection->status, core::ConnectionStatus::kConnected);
  EXPECT_TRUE(check->connect_url.empty());
  EXPECT_EQ(http_.Requests().size(), 6U);
}

TEST_F(ImageServiceTest, ARejectedRefreshShowsInvalidCredentialsAndTheConnectUrl) {
  Connect(kGitLabConnection, "gitlab", "gitlab-access", core::Seconds(10));
  http_.Enqueue("POST", "https://gitlab.example.org/oauth/token",
                Answer(400, R"({"error":"invalid_grant","error_description":"revoked"})"));
  http_.Enqueue("GET", kManifestUrl, Answer(404, R"({"errors":[{"code":"NAME_UNKNOWN"}]})"));

  auto check = images_.Check(Alice(), "registry.example.org/group/app");

  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->accessible);
  ASSERT_TRUE(check->connection);
  EXPECT_EQ(check->connection->status, core::ConnectionStatus::kInvalidCredentials);
  EXPECT_FALSE(check->connect_url.empty());
  EXPECT_FALSE(check->message.empty());
}

TEST_F(ImageServiceTest, ARealmOnAForeignHostGetsNoRequestAndNoToken) {
  Connect(kGitLabConnection, "gitlab", "gitlab-access");
  http_.Always("GET", kManifestUrl,
               Challenge(R"(Bearer realm="https://attacker.example/token",service="x")"));

  auto check = images_.Check(Alice(), "registry.example.org/group/app");

  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->accessible);
  EXPECT_NE(check->message.find("attacker.example"), std::string::npos) << check->message;
  for (const auto& request : http_.Requests()) {
    EXPECT_EQ(request.url, kManifestUrl);
    EXPECT_EQ(HeaderOf(request, "Authorization"), "");
  }
}

TEST_F(ImageServiceTest, ASessionOutsideItsImageScopeIsCheckedAsAnonymous) {
  Connect(kGitLabConnection, "gitlab", "gitlab-access");
  http_.Always("GET", kManifestUrl, Answer(401, R"({"errors":[{"code":"UNAUTHORIZED"}]})"));

  auto outside = images_.Check(Session({kGitLabConnection}, {"registry.example.org/other"}),
                               "registry.example.org/group/app");

  ASSERT_TRUE(outside.ok());
  EXPECT_FALSE(outside->connection) << "no connection details outside the scope";
  EXPECT_FALSE(outside->accessible);
  for (const auto& request : http_.Requests()) {
    EXPECT_EQ(HeaderOf(request, "Authorization"), "");
  }

  http_.Enqueue("GET", kManifestUrl, Challenge(kChallenge));
  http_.Enqueue("GET", kTokenUrl, Answer(200, R"({"token":"registry-jwt"})"));
  http_.Enqueue("GET", kManifestUrl, Answer(200, kIndex));
  auto inside =
      images_.Check(Session({}, {"registry.example.org/group"}), "registry.example.org/group/app");
  ASSERT_TRUE(inside.ok());
  EXPECT_TRUE(inside->accessible) << inside->message;
  ASSERT_TRUE(inside->connection);
}

TEST_F(ImageServiceTest, AnUnparsableReferenceIsInvalid) {
  auto check = images_.Check(Alice(), "Registry.example.org/UPPER/Case");
  ASSERT_FALSE(check.ok());
  EXPECT_EQ(check.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(images_.Check(Alice(), "  ").error().code, ErrorCode::kInvalidArgument);
}

TEST_F(ImageServiceTest, RegistryCredentialsAreTheConnectionsFreshToken) {
  Connect(kGitLabConnection, "gitlab", "gitlab-access");

  auto lookup = images_.RegistryCredentials(Alice(), "https://Registry.example.org", {});

  ASSERT_TRUE(lookup.ok()) << lookup.error().message;
  ASSERT_TRUE(lookup->credential.ok()) << lookup->credential.error().message;
  EXPECT_EQ(lookup->registry, "registry.example.org");
  EXPECT_EQ(lookup->provider.id, "gitlab");
  EXPECT_EQ(lookup->credential->username, "oauth2");
  EXPECT_EQ(lookup->credential->secret.Reveal(), "gitlab-access");
  EXPECT_EQ(lookup->credential->expires_at, clock_.Now() + core::Seconds(7200));
  EXPECT_EQ(lookup->credential->connection.id, kGitLabConnection);
  EXPECT_TRUE(http_.Requests().empty());
}

TEST_F(ImageServiceTest, RegistryCredentialsRefreshForMinValid) {
  Connect(kGitLabConnection, "gitlab", "old-access", core::Seconds(600));
  http_.Enqueue("POST", "https://gitlab.example.org/oauth/token",
                Answer(200, R"({"access_token":"new-access","token_type":"Bearer",)"
                            R"("expires_in":7200,"refresh_token":"r2"})"));
  TokenDemand demand;
  demand.min_valid = core::Seconds(900);

  auto lookup = images_.RegistryCredentials(Alice(), "registry.example.org", demand);

  ASSERT_TRUE(lookup.ok());
  ASSERT_TRUE(lookup->credential.ok()) << lookup->credential.error().message;
  EXPECT_EQ(lookup->credential->secret.Reveal(), "new-access");
}

TEST_F(ImageServiceTest, NoIntegrationOrNoConnectionAreNamed) {
  auto unknown = images_.RegistryCredentials(Alice(), "ghcr.io", {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(unknown.error().message, "No integration serves registry ghcr.io.");

  auto unconnected = images_.PullSecret(Alice(), "registry.example.org/group/app:1", {});
  ASSERT_TRUE(unconnected.ok());
  ASSERT_FALSE(unconnected->credential.ok());
  EXPECT_EQ(unconnected->credential.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(unconnected->connect_url,
            "https://kb.example.org/api/data/oauth2/providers/gitlab/authorize");
  EXPECT_NE(unconnected->credential.error().message.find(unconnected->connect_url),
            std::string::npos);

  EXPECT_EQ(images_.RegistryCredentials(core::Caller::Anonymous(), "registry.example.org", {})
                .error()
                .code,
            ErrorCode::kUnauthenticated);
}

TEST_F(ImageServiceTest, AGitHubAppIntegrationNeverHandsOutRegistryCredentials) {
  core::Provider app = MakeProvider("github-app", core::ProviderKind::kGitHub, "https://github.com",
                                    "https://ghcr.io");
  app.app_slug = "keybridge";
  ASSERT_TRUE(providers_.Insert(app).ok());
  Connect(core::ConnectionId("01HBBBBBBBBBBBBBBBBBBBBBBB"), "github-app", "ghu_token");

  auto lookup = images_.PullSecret(Alice(), "ghcr.io/alice/app:1", {});

  ASSERT_TRUE(lookup.ok());
  ASSERT_FALSE(lookup->credential.ok());
  EXPECT_EQ(lookup->credential.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(
      lookup->credential.error().message.find("GitHub App tokens are not accepted by ghcr.io"),
      std::string::npos);
}

TEST_F(ImageServiceTest, SessionTokensGetRegistryCredentialsOnlyWithinTheirImageScope) {
  Connect(kGitLabConnection, "gitlab", "gitlab-access");

  auto scoped = images_.RegistryCredentials(Session({}, {"registry.example.org/group"}),
                                            "registry.example.org", {});
  ASSERT_TRUE(scoped.ok());
  ASSERT_TRUE(scoped->credential.ok()) << scoped->credential.error().message;
  EXPECT_EQ(scoped->credential->secret.Reveal(), "gitlab-access");

  auto connection_only =
      images_.RegistryCredentials(Session({kGitLabConnection}, {}), "registry.example.org", {});
  ASSERT_TRUE(connection_only.ok());
  ASSERT_FALSE(connection_only->credential.ok());
  EXPECT_EQ(connection_only->credential.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(connection_only->credential.error().message,
            "This session token is not scoped to registry registry.example.org.");
  EXPECT_TRUE(connection_only->connect_url.empty());

  auto other_path = images_.PullSecret(Session({}, {"registry.example.org/group"}),
                                       "registry.example.org/group-other/app", {});
  ASSERT_TRUE(other_path.ok());
  EXPECT_EQ(other_path->credential.error().code, ErrorCode::kPermissionDenied);
  auto in_path =
      images_.PullSecret(Session({}, {"registry.example.org/group"}),
                         "registry.example.org/group/sub/app@sha256:"
                         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                         {});
  ASSERT_TRUE(in_path.ok());
  EXPECT_TRUE(in_path->credential.ok()) << in_path->credential.error().message;
}

TEST_F(ImageServiceTest, SessionScopesValidateImageRepositories) {
  std::vector<core::ConnectionId> connections;
  std::vector<std::string> urls;
  std::vector<std::string> images = {"Registry.example.org/group/", "registry.example.org"};
  ASSERT_TRUE(scope_.CheckRequest(Alice(), connections, urls, images).ok());
  EXPECT_EQ(images,
            (std::vector<std::string>{"registry.example.org/group", "registry.example.org"}));

  for (std::string bad : {"https://registry.example.org/group", "ghcr.io/alice",
                          "registry.example.org/Group", "registry.example.org/group:tag", ""}) {
    std::vector<std::string> one = {bad};
    const auto status = scope_.CheckRequest(Alice(), connections, urls, one);
    ASSERT_FALSE(status.ok()) << bad;
    EXPECT_NE(status.error().message.find("image_repositories"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace keybridge::service
