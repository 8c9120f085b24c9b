// The fakes' registry token services: FakeGitLab's /jwt/auth and FakeGitHub's ghcr-like /token.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "crypto/base64.h"
#include "fakes/fake_github.h"
#include "fakes/fake_gitlab.h"
#include "fakes/fake_test_client.h"
#include "fakes/registry_token.h"
#include "support/fake_clock.h"

namespace keybridge::fakes {
namespace {

using Json = nlohmann::json;

struct Jwt {
  Json header;
  Json claims;
  bool signature_valid = false;
};

// Splits the JWT and checks its RS256 signature with the public key of the PEM certificate.
Jwt Decode(const std::string& token, const std::string& certificate_path) {
  Jwt jwt;
  const std::size_t first = token.find('.');
  const std::size_t second = token.find('.', first + 1);
  if (first == std::string::npos || second == std::string::npos) {
    ADD_FAILURE() << "not a JWT: " << token;
    return jwt;
  }
  jwt.header = Json::parse(crypto::Base64UrlDecode(token.substr(0, first)).value_or("null"));
  jwt.claims = Json::parse(
      crypto::Base64UrlDecode(token.substr(first + 1, second - first - 1)).value_or("null"));
  const std::string signature = crypto::Base64UrlDecode(token.substr(second + 1)).value_or("");
  FILE* file = std::fopen(certificate_path.c_str(), "r");
  if (file == nullptr) {
    ADD_FAILURE() << "cannot open " << certificate_path;
    return jwt;
  }
  X509* cert = PEM_read_X509(file, nullptr, nullptr, nullptr);
  std::fclose(file);
  EVP_PKEY* key = cert == nullptr ? nullptr : X509_get0_pubkey(cert);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const std::string input = token.substr(0, second);
  jwt.signature_valid =
      key != nullptr && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1
      && EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                          input.size())
             == 1;
  EVP_MD_CTX_free(ctx);
  X509_free(cert);
  return jwt;
}

TEST(RegistryScopeTest, SplitsTypeNameAndActions) {
  const auto scope = ParseRegistryScope("repository:group/sub/app:pull,push");
  ASSERT_TRUE(scope.has_value());
  EXPECT_EQ(scope->type, "repository");
  EXPECT_EQ(scope->name, "group/sub/app");
  EXPECT_EQ(scope->actions, (std::vector<std::string>{"pull", "push"}));
  EXPECT_FALSE(ParseRegistryScope("repository:nothing").has_value());
  EXPECT_FALSE(ParseRegistryScope("registry").has_value());
}

class FakeGitLabRegistryTest : public ::testing::Test {
 protected:
  FakeGitLabRegistryTest() {
    GitLabProject project;
    project.path_with_namespace = "group/project";
    project.members = {{1, kGitLabDeveloper}};
    gitlab_.AddProject(project);
    GitLabProject open;
    open.path_with_namespace = "public/open";
    open.visibility = "public";
    gitlab_.AddProject(open);
  }

  core::HttpResponse Auth(const std::string& query, const std::string& token,
                          const std::string& user = "oauth2") {
    std::vector<core::HttpHeader> headers;
    if (!token.empty()) {
      headers.push_back({"Authorization", BasicAuth(user, token)});
    }
    return client_.Get(gitlab_.RegistryTokenUrl() + "?service=container_registry&" + query,
                       headers);
  }

  std::vector<std::string> ActionsFor(const core::HttpResponse& response, const std::string& name) {
    EXPECT_EQ(response.status, 200) << response.body;
    const Json body = Json::parse(response.body);
    EXPECT_EQ(body["expires_in"], 300);
    const Jwt jwt = Decode(body["token"].get<std::string>(), gitlab_.RegistryCertificatePath());
    EXPECT_TRUE(jwt.signature_valid);
    EXPECT_EQ(jwt.header["alg"], "RS256");
    EXPECT_EQ(jwt.header["x5c"].size(), 1U);
    EXPECT_EQ(jwt.claims["iss"], "gitlab-issuer");
    EXPECT_EQ(jwt.claims["aud"], "container_registry");
    EXPECT_EQ(jwt.claims["exp"].get<std::int64_t>() - jwt.claims["iat"].get<std::int64_t>(), 300);
    for (const auto& entry : jwt.claims["access"]) {
      if (entry["name"] == name) {
        EXPECT_EQ(entry["type"], "repository");
        return entry["actions"].get<std::vector<std::string>>();
      }
    }
    return {};
  }

  testing::FakeClock clock_;
  FakeGitLab gitlab_{clock_};
  TestClient client_;
};

TEST_F(FakeGitLabRegistryTest, RefusesOAuthTokensUnlessSwitchedOn) {
  const TokenPair pair = gitlab_.IssueTokenPair(gitlab_.CurrentUser(), "api");
  const auto refused = Auth("scope=repository:group/project/app:pull", pair.access_token);
  EXPECT_EQ(refused.status, 401);
  const Json body = Json::parse(refused.body);
  EXPECT_EQ(body["errors"][0]["code"], "UNAUTHORIZED");
  EXPECT_TRUE(
      body["errors"][0]["message"].get<std::string>().starts_with("HTTP Basic: Access denied"));

  gitlab_.SetRegistryAcceptsOAuthTokens(true);
  EXPECT_EQ(ActionsFor(Auth("scope=repository:group/project/app:pull,push", pair.access_token),
                       "group/project/app"),
            (std::vector<std::string>{"pull", "push"}));
  // Any user name goes with a valid token.
  EXPECT_EQ(ActionsFor(Auth("scope=repository:group/project:pull", pair.access_token, "alice"),
                       "group/project"),
            (std::vector<std::string>{"pull"}));
}

TEST_F(FakeGitLabRegistryTest, GrantsOnlyWhatTheTokenScopesAllow) {
  gitlab_.SetRegistryAcceptsOAuthTokens(true);
  const auto read = gitlab_.IssueTokenPair(gitlab_.CurrentUser(), "read_registry");
  EXPECT_EQ(ActionsFor(Auth("scope=repository:group/project/app:pull,push", read.access_token),
                       "group/project/app"),
            (std::vector<std::string>{"pull"}));
  const auto write = gitlab_.IssueTokenPair(gitlab_.CurrentUser(), "write_registry");
  EXPECT_EQ(ActionsFor(Auth("scope=repository:group/project/app:pull,push", write.access_token),
                       "group/project/app"),
            (std::vector<std::string>{"push"}));
  const auto code_only = gitlab_.IssueTokenPair(gitlab_.CurrentUser(), "read_repository");
  EXPECT_TRUE(ActionsFor(Auth("scope=repository:group/project/app:pull", code_only.access_token),
                         "group/project/app")
                  .empty());
  // A project the user is not a member of, and one that does not exist.
  EXPECT_TRUE(
      ActionsFor(Auth("scope=repository:other/app:pull", read.access_token), "other/app").empty());
}

TEST_F(FakeGitLabRegistryTest, BadExpiredOrRevokedTokensAre401) {
  gitlab_.SetRegistryAcceptsOAuthTokens(true);
  EXPECT_EQ(Auth("scope=repository:group/project:pull", "not-a-token").status, 401);
  const auto expiring = gitlab_.IssueTokenPair(gitlab_.CurrentUser(), "api");
  clock_.Advance(core::Seconds(7201));
  EXPECT_EQ(Auth("scope=repository:group/project:pull", expiring.access_token).status, 401);
  const auto revoked = gitlab_.IssueTokenPair(gitlab_.CurrentUser(), "api");
  gitlab_.RevokeAllTokens();
  EXPECT_EQ(Auth("scope=repository:group/project:pull", revoked.access_token).status, 401);
}

TEST_F(FakeGitLabRegistryTest, AnonymousPullsPublicProjectsOnly) {
  const auto response =
      Auth("scope=repository:public/open/img:pull,push&scope=repository:group/project:pull", "");
  EXPECT_EQ(ActionsFor(response, "public/open/img"), (std::vector<std::string>{"pull"}));
  EXPECT_TRUE(ActionsFor(response, "group/project").empty());
  EXPECT_EQ(client_.Get(gitlab_.RegistryTokenUrl() + "?service=other").status, 404);
}

class FakeGitHubRegistryTest : public ::testing::Test {
 protected:
  core::HttpResponse Auth(const std::string& image, const std::string& token) {
    std::vector<core::HttpHeader> headers;
    if (!token.empty()) {
      headers.push_back({"Authorization", BasicAuth("alice", token)});
    }
    return client_.Get(
        github_.RegistryTokenUrl() + "?service=ghcr.io&scope=repository:" + image + ":pull",
        headers);
  }

  bool Pullable(const core::HttpResponse& response, const std::string& image) {
    EXPECT_EQ(response.status, 200) << response.body;
    const Jwt jwt = Decode(Json::parse(response.body)["token"].get<std::string>(),
                           github_.RegistryCertificatePath());
    EXPECT_TRUE(jwt.signature_valid);
    EXPECT_EQ(jwt.claims["aud"], "ghcr.io");
    for (const auto& entry : jwt.claims["access"]) {
      if (entry["name"] == image) {
        return entry["actions"] == Json::array({"pull"});
      }
    }
    return false;
  }

  testing::FakeClock clock_;
  FakeGitHub github_{clock_};
  TestClient client_;
};

TEST_F(FakeGitHubRegistryTest, RefusesGitHubAppUserTokens) {
  const TokenPair app_token = github_.IssueTokenPair(github_.CurrentUser(), "");
  ASSERT_TRUE(app_token.access_token.starts_with("ghu_"));
  const auto refused = Auth("alice/app", app_token.access_token);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(Json::parse(refused.body)["errors"][0]["code"], "DENIED");
  EXPECT_EQ(Auth("alice/app", "gho_unknown").status, 401);
}

TEST_F(FakeGitHubRegistryTest, AcceptsOAuthAppTokensWithReadPackages) {
  const std::string token = github_.IssueOAuthAppToken(github_.CurrentUser(), "repo,read:packages");
  ASSERT_TRUE(token.starts_with("gho_"));
  EXPECT_TRUE(Pullable(Auth("alice/app", token), "alice/app"));
  const std::string without = github_.IssueOAuthAppToken(github_.CurrentUser(), "repo");
  EXPECT_EQ(Auth("alice/app", without).status, 403);
}

TEST_F(FakeGitHubRegistryTest, AnonymousPullsPublicPackagesOnly) {
  github_.SetPublicPackages({"alice/open"});
  EXPECT_TRUE(Pullable(Auth("alice/open", ""), "alice/open"));
  EXPECT_FALSE(Pullable(Auth("alice/app", ""), "alice/app"));
}

}  // namespace
}  // namespace keybridge::fakes
