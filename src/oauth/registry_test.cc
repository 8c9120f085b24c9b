#include "oauth/registry.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "crypto/base64.h"

namespace keybridge::oauth {
namespace {

core::HttpResponse Answer(int status, std::string body,
                          std::vector<core::HttpHeader> headers = {}) {
  core::HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers = std::move(headers);
  return response;
}

std::string HeaderOf(const core::HttpRequest& request, std::string_view name) {
  for (const auto& header : request.headers) {
    if (header.name == name) {
      return header.value;
    }
  }
  return "";
}

TEST(ParseRegistryChallenge, ReadsGitLabsBearerChallenge) {
  const auto challenge = ParseRegistryChallenge(
      R"(Bearer realm="https://gitlab.example.com/jwt/auth",service="container_registry",)"
      R"(scope="repository:group/app:pull,push")");
  ASSERT_TRUE(challenge);
  EXPECT_EQ(challenge->scheme, "bearer");
  EXPECT_EQ(challenge->realm, "https://gitlab.example.com/jwt/auth");
  EXPECT_EQ(challenge->service, "container_registry");
  // The comma inside the quotes belongs to the value.
  EXPECT_EQ(challenge->scope, "repository:group/app:pull,push");
}

TEST(ParseRegistryChallenge, AcceptsSpacesTokensEscapesAndCaseInsensitiveNames) {
  const auto challenge = ParseRegistryChallenge(
      R"(  bearer  Realm = "https://auth.example/token" , SERVICE=registry.example, scope="a\"b")");
  ASSERT_TRUE(challenge);
  EXPECT_EQ(challenge->scheme, "bearer");
  EXPECT_EQ(challenge->realm, "https://auth.example/token");
  EXPECT_EQ(challenge->service, "registry.example");
  EXPECT_EQ(challenge->scope, "a\"b");

  const auto basic = ParseRegistryChallenge(R"(Basic realm="Registry Realm")");
  ASSERT_TRUE(basic);
  EXPECT_EQ(basic->scheme, "basic");
  EXPECT_EQ(basic->realm, "Registry Realm");
}

TEST(ParseRegistryChallenge, RefusesWhatDoesNotParse) {
  EXPECT_FALSE(ParseRegistryChallenge(""));
  EXPECT_FALSE(ParseRegistryChallenge("   "));
  EXPECT_FALSE(ParseRegistryChallenge(R"(Bearer realm="https://unterminated)"));
  EXPECT_FALSE(ParseRegistryChallenge(R"(Bearer ="x")"));
}

TEST(BuildRegistryTokenRequest, AsksForPullOfTheRepositoryWithBasicCredentials) {
  RegistryChallenge challenge{"bearer", "https://gitlab.example.com/jwt/auth", "container_registry",
                              "repository:other/thing:push"};
  const RegistryLogin login{"oauth2", core::Secret("glpat-secret")};
  const auto request = BuildRegistryTokenRequest(challenge, "group/app", &login);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->method, "GET");
  // The scope is keybridge's own (pull of this repository), never the challenge's.
  EXPECT_EQ(
      request->url,
      "https://gitlab.example.com/jwt/auth?service=container_registry&scope=repository%3Agroup"
      "%2Fapp%3Apull");
  EXPECT_EQ(HeaderOf(*request, "Authorization"),
            "Basic " + crypto::Base64Encode("oauth2:glpat-secret"));
}

TEST(BuildRegistryTokenRequest, AnonymousKeepsTheRealmsQueryAndSendsNoAuthorization) {
  RegistryChallenge challenge{"bearer", "https://auth.example/token?x=1", "", ""};
  const auto request = BuildRegistryTokenRequest(challenge, "library/debian", nullptr);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->url,
            "https://auth.example/token?x=1&scope=repository%3Alibrary%2Fdebian%3Apull");
  EXPECT_EQ(HeaderOf(*request, "Authorization"), "");
}

TEST(BuildRegistryTokenRequest, RefusesARealmThatIsNotAnHttpUrl) {
  for (const char* realm : {"", "/jwt/auth", "ftp://x/y", "https://user:pw@x/y"}) {
    RegistryChallenge challenge{"bearer", realm, "", ""};
    EXPECT_FALSE(BuildRegistryTokenRequest(challenge, "a/b", nullptr).ok()) << realm;
  }
}

TEST(ParseRegistryTokenResponse, ReadsTokenOrAccessTokenAndExpiry) {
  auto token = ParseRegistryTokenResponse(Answer(200, R"({"token":"t1","expires_in":300})"));
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->token.Reveal(), "t1");
  EXPECT_EQ(token->expires_in, core::Seconds(300));

  token = ParseRegistryTokenResponse(Answer(200, R"({"access_token":"t2"})"));
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->token.Reveal(), "t2");
  EXPECT_FALSE(token->expires_in);
}

TEST(ParseRegistryTokenResponse, RefusalsAndGarbageAreErrors) {
  EXPECT_EQ(ParseRegistryTokenResponse(Answer(401, "{}")).error().code,
            core::ErrorCode::kUnauthenticated);
  EXPECT_EQ(ParseRegistryTokenResponse(Answer(403, "")).error().code,
            core::ErrorCode::kUnauthenticated);
  EXPECT_EQ(ParseRegistryTokenResponse(Answer(200, "not json")).error().code,
            core::ErrorCode::kUpstreamFailed);
  EXPECT_EQ(ParseRegistryTokenResponse(Answer(200, R"({"token":""})")).error().code,
            core::ErrorCode::kUpstreamFailed);
  EXPECT_EQ(ParseRegistryTokenResponse(Answer(500, R"({"token":"x"})")).error().code,
            core::ErrorCode::kUpstreamFailed);
}

TEST(BuildManifestRequest, AsksForIndexesAndManifestsByTagOrDigest) {
  const auto image = core::ParseImageReference("registry.example:5000/group/app:1.2").value();
  const core::Secret bearer("registry-token");
  const auto request =
      BuildManifestRequest(RegistryApiBase(image.registry), image, {.bearer = &bearer});
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.url, "https://registry.example:5000/v2/group/app/manifests/1.2");
  EXPECT_EQ(HeaderOf(request, "Accept"), kManifestAccept);
  EXPECT_NE(HeaderOf(request, "Accept").find("application/vnd.oci.image.index.v1+json"),
            std::string::npos);
  EXPECT_EQ(HeaderOf(request, "Authorization"), "Bearer registry-token");

  const auto hub = core::ParseImageReference("debian").value();
  EXPECT_EQ(BuildManifestRequest(RegistryApiBase(hub.registry), hub).url,
            "https://registry-1.docker.io/v2/library/debian/manifests/latest");
  EXPECT_EQ(HeaderOf(BuildManifestRequest("https://r.example", hub), "Authorization"), "");
}

TEST(ParseManifestResponse, AnIndexListsItsPlatformsWithoutAttestations) {
  const auto lookup = ParseManifestResponse(Answer(200, R"({
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [
      {"digest": "sha256:a", "platform": {"os": "linux", "architecture": "amd64"}},
      {"digest": "sha256:b", "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
      {"digest": "sha256:c", "platform": {"os": "linux", "architecture": "amd64"}},
      {"digest": "sha256:d", "platform": {"os": "unknown", "architecture": "unknown"}},
      {"digest": "sha256:e"}
    ]})"));
  EXPECT_EQ(lookup.outcome, ManifestOutcome::kFound);
  ASSERT_EQ(lookup.platforms.size(), 2U);
  EXPECT_EQ(lookup.platforms[0], (ImagePlatform{"linux", "amd64", ""}));
  EXPECT_EQ(lookup.platforms[1], (ImagePlatform{"linux", "arm", "v7"}));
}

TEST(ParseManifestResponse, ASingleManifestIsFoundWithoutPlatforms) {
  const auto lookup = ParseManifestResponse(
      Answer(200, R"({"schemaVersion":2,"config":{"digest":"sha256:c"},"layers":[]})"));
  EXPECT_EQ(lookup.outcome, ManifestOutcome::kFound);
  EXPECT_TRUE(lookup.platforms.empty());
  EXPECT_EQ(ParseManifestResponse(Answer(200, R"({"hello":1})")).outcome,
            ManifestOutcome::kInvalidBody);
  EXPECT_EQ(ParseManifestResponse(Answer(200, "<html>")).outcome, ManifestOutcome::kInvalidBody);
}

TEST(ParseManifestResponse, ClassifiesRefusals) {
  const auto challenged = ParseManifestResponse(
      Answer(401, R"({"errors":[{"code":"UNAUTHORIZED"}]})",
             {{"www-authenticate", R"(Bearer realm="https://r.example/token",service="r")"}}));
  EXPECT_EQ(challenged.outcome, ManifestOutcome::kUnauthorized);
  ASSERT_TRUE(challenged.challenge);
  EXPECT_EQ(challenged.challenge->realm, "https://r.example/token");
  EXPECT_EQ(ParseManifestResponse(Answer(401, R"({"errors":[{"code":"DENIED"}]})")).outcome,
            ManifestOutcome::kDenied);
  EXPECT_EQ(ParseManifestResponse(Answer(403, "")).outcome, ManifestOutcome::kDenied);
  EXPECT_EQ(ParseManifestResponse(Answer(404, R"({"errors":[{"code":"NAME_UNKNOWN"}]})")).outcome,
            ManifestOutcome::kNotFound);
  EXPECT_EQ(ParseManifestResponse(Answer(500, "")).outcome, ManifestOutcome::kFailed);
}

TEST(DockerConfigJsonBase64, IsDockersConfigWithAuthForTheRegistry) {
  const auto encoded =
      DockerConfigJsonBase64("registry.example:5000", {"oauth2", core::Secret("tok")});
  const auto decoded = crypto::Base64Decode(encoded.Reveal());
  ASSERT_TRUE(decoded);
  const auto config = nlohmann::json::parse(*decoded);
  const auto& entry = config["auths"]["registry.example:5000"];
  EXPECT_EQ(entry["username"], "oauth2");
  EXPECT_EQ(entry["password"], "tok");
  EXPECT_EQ(entry["auth"], crypto::Base64Encode("oauth2:tok"));
}

}  // namespace
}  // namespace keybridge::oauth
