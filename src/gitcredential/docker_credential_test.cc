#include "gitcredential/docker_credential.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/url.h"
#include "support/scripted_http_client.h"

namespace keybridge::gitcredential {
namespace {

constexpr const char* kServer = "https://kb.example.org";
constexpr const char* kRegistry = "registry.example.org:5050";

std::string CredentialsUrl(const std::string& server_url = kRegistry) {
  return std::string(kServer) + "/api/data/sessions/registry-credentials?server_url="
         + core::PercentEncode(server_url) + "&min_valid_seconds=300";
}

class DockerCredentialTest : public ::testing::Test {
 protected:
  DockerCredentialTest() {
    access_.keybridge_url = kServer;
    access_.token = "kbs_session";
  }

  int Run(const std::string& operation, const std::string& input) {
    out_.str("");
    err_.str("");
    std::istringstream in(input);
    DockerCredentialIo io{in, out_, err_, http_};
    return RunDockerCredential(operation, access_, problem_, io);
  }

  ServerAccess access_;
  std::string problem_;
  testing::ScriptedHttpClient http_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(DockerCredentialTest, GetPrintsServerUrlUsernameAndSecret) {
  http_.Always(
      "GET", CredentialsUrl(),
      testing::JsonResponse(200, R"({"server_url":"registry.example.org:5050","username":"oauth2",)"
                                 R"("secret":"test-only-registry-token","expires_at":null,)"
                                 R"("provider_id":"gitlab","connection_id":"c1"})"));

  EXPECT_EQ(Run("get", std::string(kRegistry) + "\n"), 0);

  const auto answer = nlohmann::json::parse(out_.str());
  EXPECT_EQ(answer, (nlohmann::json{{"ServerURL", kRegistry},
                                    {"Username", "oauth2"},
                                    {"Secret", "test-only-registry-token"}}));
  EXPECT_EQ(err_.str(), "");
  const auto request = http_.Requests().at(0);
  EXPECT_EQ(request.headers.at(0).value, "Bearer kbs_session");
}

TEST_F(DockerCredentialTest, GetPassesWhatDockerSentWithoutANewline) {
  // docker sends the bare host, podman a URL-ish form; both go to the server as given.
  http_.Always("GET", CredentialsUrl("https://registry.example.org"),
               testing::JsonResponse(200, R"({"username":"u","secret":"s"})"));
  EXPECT_EQ(Run("get", "https://registry.example.org"), 0);
  EXPECT_EQ(nlohmann::json::parse(out_.str())["ServerURL"], "https://registry.example.org");
}

TEST_F(DockerCredentialTest, NoConnectionIsNotFoundWithTheConnectUrlOnStderr) {
  http_.Always(
      "GET", CredentialsUrl(),
      testing::JsonResponse(
          404,
          R"({"error":{"code":1404,"message":"You have no connection to Fake GitLab."},)"
          R"("provider_id":"gitlab","provider_name":"Fake GitLab",)"
          R"("connect_url":"https://kb.example.org/api/data/oauth2/providers/gitlab/authorize"})"));

  EXPECT_EQ(Run("get", std::string(kRegistry) + "\n"), 1);

  EXPECT_EQ(out_.str(), "credentials not found in native keychain\n");
  EXPECT_EQ(err_.str(),
            "keybridge: no connection to Fake GitLab — connect at "
            "https://kb.example.org/api/data/oauth2/providers/gitlab/authorize\n");
}

TEST_F(DockerCredentialTest, RefusalsAndOutagesAreNotFoundWithTheReason) {
  http_.Enqueue("GET", CredentialsUrl(),
                testing::JsonResponse(
                    404, R"({"error":{"code":1404,"message":"No integration serves registry )"
                         R"(registry.example.org:5050"}})"));
  EXPECT_EQ(Run("get", kRegistry), 1);
  EXPECT_EQ(out_.str(), "credentials not found in native keychain\n");
  EXPECT_EQ(err_.str(), "keybridge: No integration serves registry registry.example.org:5050\n");

  http_.Enqueue("GET", CredentialsUrl(),
                testing::JsonResponse(403, R"({"error":{"code":1403,"message":"this session )"
                                           R"(token is not scoped to registry X"}})"));
  EXPECT_EQ(Run("get", kRegistry), 1);
  EXPECT_EQ(err_.str(), "keybridge: this session token is not scoped to registry X\n");

  // Nothing scripted any more: the transport fails.
  EXPECT_EQ(Run("get", kRegistry), 1);
  EXPECT_EQ(out_.str(), "credentials not found in native keychain\n");
  EXPECT_TRUE(err_.str().starts_with("keybridge: cannot reach https://kb.example.org"));
}

TEST_F(DockerCredentialTest, UnloadableConfigurationIsNotFoundWithoutACall) {
  access_ = ServerAccess{};
  problem_ = "set KEYBRIDGE_URL to the keybridge server's URL";
  EXPECT_EQ(Run("get", kRegistry), 1);
  EXPECT_EQ(out_.str(), "credentials not found in native keychain\n");
  EXPECT_EQ(err_.str(), "keybridge: set KEYBRIDGE_URL to the keybridge server's URL\n");
  EXPECT_TRUE(http_.Requests().empty());
}

TEST_F(DockerCredentialTest, EmptyRequestListStoreEraseAndUnknownActions) {
  EXPECT_EQ(Run("get", "\n"), 1);
  EXPECT_EQ(out_.str(), "no credentials server URL\n");
  EXPECT_EQ(Run("list", ""), 0);
  EXPECT_EQ(out_.str(), "{}\n");
  EXPECT_EQ(Run("store", R"({"ServerURL":"r","Username":"u","Secret":"typed-password"})"), 0);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str().find("typed-password"), std::string::npos);
  EXPECT_NE(err_.str().find("managed by keybridge"), std::string::npos);
  EXPECT_EQ(Run("erase", kRegistry), 0);
  EXPECT_EQ(Run("frobnicate", ""), 1);
  EXPECT_EQ(out_.str(), "Unknown credential action `frobnicate`\n");
  EXPECT_TRUE(http_.Requests().empty());
}

}  // namespace
}  // namespace keybridge::gitcredential
