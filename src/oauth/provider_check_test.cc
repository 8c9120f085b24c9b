#include "oauth/provider_check.h"

#include <gtest/gtest.h>

#include "oauth/form.h"
#include "oauth/test_fixtures.h"

namespace keybridge::oauth {
namespace {

using testing::GitHubProvider;
using testing::GitLabProvider;
using testing::Json;
using testing::OidcProvider;
using testing::Response;

constexpr const char* kCallback = "https://kb.example.org/api/data/oauth2/callback";

const char* kDoorkeeperInvalidGrant =
    R"({"error":"invalid_grant","error_description":"The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."})";
const char* kDoorkeeperInvalidClient =
    R"({"error":"invalid_client","error_description":"Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."})";

core::HttpResponse GitHubTokenError(const std::string& error) {
  return Json(200, R"({"error":")" + error + R"(","error_description":"x","error_uri":"/apps"})");
}

core::Result<core::HttpResponse> Transport(std::string message, std::string detail = {}) {
  return core::MakeError(core::ErrorCode::kUnavailable, std::move(message), std::move(detail));
}

bool Mentions(std::string_view text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

// --- probes ---

TEST(ProviderCheckProbe, TokenProbeIsACodeExchangeWithTheFixedInvalidCode) {
  const auto gitlab = GitLabProvider("https://host/gitlab/");
  auto endpoints = EndpointsFor(gitlab, nullptr);
  ASSERT_TRUE(endpoints.ok());

  const auto request = BuildTokenProbe(gitlab, *endpoints, kCallback);

  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://host/gitlab/oauth/token");
  auto form = FormDecode(request.body);
  ASSERT_TRUE(form.has_value());
  EXPECT_EQ(*FindField(*form, "grant_type"), "authorization_code");
  EXPECT_EQ(*FindField(*form, "code"), kProbeCode);
  EXPECT_EQ(*FindField(*form, "redirect_uri"), kCallback);
  EXPECT_EQ(*FindField(*form, "client_id"), "gl-client");
  EXPECT_EQ(*FindField(*form, "client_secret"), "gl-secret");
  EXPECT_EQ(FindField(*form, "code_verifier"), nullptr);
  EXPECT_EQ(request.timeout, std::chrono::seconds(10));
}

TEST(ProviderCheckProbe, KindProbeTargetsTheOtherKindsPathWithoutTheSecret) {
  auto request = BuildKindProbe(GitLabProvider("https://ghe.example.org"),
                                core::ProviderKind::kGitHub, kCallback);

  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->url, "https://ghe.example.org/login/oauth/access_token");
  EXPECT_FALSE(Mentions(request->body, "gl-secret"));
  for (const auto& h : request->headers) {
    EXPECT_NE(h.name, "Authorization");
  }
  auto back = BuildKindProbe(GitHubProvider("https://gitlab.example.org/gitlab"),
                             core::ProviderKind::kGitLab, kCallback);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->url, "https://gitlab.example.org/gitlab/oauth/token");
  EXPECT_FALSE(Mentions(back->body, "gh-secret"));
}

TEST(ProviderCheckProbe, AppProbeUsesTheApiBaseOfGitHubAndEnterprise) {
  const auto dotcom = GitHubProvider();
  const auto request = BuildAppProbe(dotcom, *EndpointsFor(dotcom, nullptr));
  EXPECT_EQ(request.url, "https://api.github.com/apps/keybridge-app");
  bool has_user_agent = false;
  for (const auto& h : request.headers) {
    has_user_agent = has_user_agent || h.name == "User-Agent";
    EXPECT_NE(h.name, "Authorization") << "the App lookup is anonymous";
  }
  EXPECT_TRUE(has_user_agent) << "GitHub rejects requests without a User-Agent";

  auto ghe = GitHubProvider("https://ghe.example.org/");
  ghe.app_slug = "my app";
  EXPECT_EQ(BuildAppProbe(ghe, *EndpointsFor(ghe, nullptr)).url,
            "https://ghe.example.org/api/v3/apps/my%20app");
}

// --- classification of token-endpoint answers ---

TEST(ClassifyTokenProbe, ReadsEachProvidersErrorShape) {
  EXPECT_EQ(ClassifyTokenProbe(Json(400, kDoorkeeperInvalidGrant)).verdict,
            TokenProbeVerdict::kCredentialsAccepted);
  EXPECT_EQ(ClassifyTokenProbe(Json(401, kDoorkeeperInvalidClient)).verdict,
            TokenProbeVerdict::kCredentialsRejected);
  EXPECT_EQ(ClassifyTokenProbe(GitHubTokenError("bad_verification_code")).verdict,
            TokenProbeVerdict::kCredentialsAccepted);
  EXPECT_EQ(ClassifyTokenProbe(GitHubTokenError("incorrect_client_credentials")).verdict,
            TokenProbeVerdict::kCredentialsRejected);
  EXPECT_EQ(ClassifyTokenProbe(GitHubTokenError("redirect_uri_mismatch")).verdict,
            TokenProbeVerdict::kRedirectUriRejected);
  // GitHub without Accept: application/json answers form-encoded.
  const auto form = ClassifyTokenProbe(Response(200, "application/x-www-form-urlencoded",
                                                "error=bad_verification_code&error_description=x"));
  EXPECT_EQ(form.verdict, TokenProbeVerdict::kCredentialsAccepted);
  EXPECT_TRUE(form.http_200_error);
  EXPECT_EQ(ClassifyTokenProbe(Json(400, R"({"error":"invalid_request"})")).verdict,
            TokenProbeVerdict::kOtherOAuthError);
  EXPECT_EQ(ClassifyTokenProbe(Response(401, "", "")).verdict,
            TokenProbeVerdict::kCredentialsRejected);
}

TEST(ClassifyTokenProbe, PagesRedirectsAndServerErrorsAreNotOAuthAnswers) {
  const auto page = ClassifyTokenProbe(Response(404, "text/html", "<html>Page Not Found</html>"));
  EXPECT_EQ(page.verdict, TokenProbeVerdict::kNotOAuth);
  EXPECT_EQ(page.seen, "HTTP 404 (an HTML page)");
  const auto redirect = ClassifyTokenProbe(
      Response(302, "", "", {{"location", "https://host/users/sign_in?secret=x"}}));
  EXPECT_EQ(redirect.verdict, TokenProbeVerdict::kNotOAuth);
  EXPECT_EQ(redirect.seen, "HTTP 302 (a redirect to https://host/users/sign_in)");
  EXPECT_EQ(ClassifyTokenProbe(Json(503, R"({"error":"temporarily_unavailable"})")).verdict,
            TokenProbeVerdict::kServerError);
  EXPECT_EQ(ClassifyTokenProbe(Json(200, R"({"access_token":"x"})")).verdict,
            TokenProbeVerdict::kNotOAuth);
}

TEST(ClassifyTokenProbe, AHostileErrorValueIsSanitised) {
  const auto probe = ClassifyTokenProbe(Json(400, R"({"error":"<script>alert(1)</script>"})"));
  EXPECT_EQ(probe.error, "scriptalert1script");
}

// --- 1. base_url ---

TEST(BaseUrlCheck, AnyAnswerBelow500Passes) {
  const auto check = BaseUrlCheck(GitLabProvider(), Response(302, "", ""));
  EXPECT_EQ(check.id, "base_url");
  EXPECT_EQ(check.status, CheckStatus::kPass);
  EXPECT_TRUE(Mentions(check.detail, "HTTP 302"));
  EXPECT_TRUE(Mentions(check.detail, "valid TLS certificate"));
  EXPECT_TRUE(check.fix.empty());
  EXPECT_EQ(BaseUrlCheck(GitLabProvider(), Response(502, "", "")).status, CheckStatus::kWarn);
}

TEST(BaseUrlCheck, DnsFailureSaysHostNotFound) {
  const auto check =
      BaseUrlCheck(GitLabProvider("https://gitlab.exmaple.com"),
                   Transport("cannot reach gitlab.exmaple.com: Couldn't resolve host name",
                             "Could not resolve host: gitlab.exmaple.com"));
  EXPECT_EQ(check.status, CheckStatus::kFail);
  EXPECT_TRUE(Mentions(check.detail, "host not found: check the URL for typos")) << check.detail;
  EXPECT_TRUE(Mentions(check.fix, "URL"));
}

TEST(DescribeTransportError, TurnsCurlErrorsIntoSentences) {
  const auto untrusted = DescribeTransportError(
      Transport("cannot reach h: SSL peer certificate or SSH remote key was not OK",
                "SSL certificate problem: self-signed certificate")
          .error(),
      "URL");
  EXPECT_TRUE(Mentions(untrusted.detail, "not trusted")) << untrusted.detail;
  EXPECT_TRUE(Mentions(untrusted.fix, "--ca-file"));
  const auto expired = DescribeTransportError(
      Transport("cannot reach h: SSL peer certificate or SSH remote key was not OK",
                "SSL certificate problem: certificate has expired")
          .error(),
      "URL");
  EXPECT_TRUE(Mentions(expired.detail, "expired"));
  const auto name = DescribeTransportError(
      Transport("cannot reach h: SSL peer certificate or SSH remote key was not OK",
                "SSL: no alternative certificate subject name matches target host name 'h'")
          .error(),
      "URL");
  EXPECT_TRUE(Mentions(name.detail, "another host name"));
  EXPECT_TRUE(
      Mentions(DescribeTransportError(Transport("request to h timed out").error(), "URL").detail,
               "10 seconds"));
  const auto refused = DescribeTransportError(
      Transport("cannot reach h: Couldn't connect to server", "Failed to connect to h port 1")
          .error(),
      "URL");
  EXPECT_TRUE(Mentions(refused.detail, "refused"));
  EXPECT_TRUE(Mentions(refused.fix, "port"));
}

// --- 2. endpoints ---

TEST(EndpointsCheck, AnOAuthErrorFromTheTokenEndpointPasses) {
  const auto gitlab = GitLabProvider();
  const auto check = EndpointsCheck(gitlab, *EndpointsFor(gitlab, nullptr),
                                    Json(400, kDoorkeeperInvalidGrant), std::nullopt);
  EXPECT_EQ(check.status, CheckStatus::kPass);
  EXPECT_TRUE(Mentions(check.detail, "https://gitlab.example.com/oauth/token"));
}

TEST(EndpointsCheck, AWrongGitLabPathPrefixFailsNamingTheUrlField) {
  const auto gitlab = GitLabProvider("https://host/gitlab-typo");
  const auto check =
      EndpointsCheck(gitlab, *EndpointsFor(gitlab, nullptr),
                     Response(404, "text/html", "<!DOCTYPE html><h1>404</h1>"),
                     core::Result<core::HttpResponse>(Response(404, "text/html", "<html/>")));
  EXPECT_EQ(check.status, CheckStatus::kFail);
  EXPECT_TRUE(Mentions(check.detail, "HTTP 404 (an HTML page)")) << check.detail;
  EXPECT_TRUE(Mentions(check.fix, "Set URL")) << check.fix;
  EXPECT_TRUE(Mentions(check.fix, "path prefix"));
}

TEST(EndpointsCheck, AGitLabIntegrationPointedAtGitHubSaysItLooksLikeGitHub) {
  const auto gitlab = GitLabProvider("https://github.com");
  const auto check = EndpointsCheck(
      gitlab, *EndpointsFor(gitlab, nullptr), Response(404, "text/html", "<html/>"),
      core::Result<core::HttpResponse>(GitHubTokenError("incorrect_client_credentials")));
  EXPECT_EQ(check.status, CheckStatus::kFail);
  EXPECT_TRUE(Mentions(check.detail, "looks like GitHub")) << check.detail;
  EXPECT_TRUE(Mentions(check.fix, "Set Kind to GitHub")) << check.fix;
}

TEST(EndpointsCheck, AGitHubIntegrationPointedAtGitLabSaysItLooksLikeGitLab) {
  const auto github = GitHubProvider("https://gitlab.example.org");
  const auto check =
      EndpointsCheck(github, *EndpointsFor(github, nullptr), Response(404, "text/html", "<p>"),
                     core::Result<core::HttpResponse>(Json(401, kDoorkeeperInvalidClient)));
  EXPECT_EQ(check.status, CheckStatus::kFail);
  EXPECT_TRUE(Mentions(check.detail, "looks like GitLab")) << check.detail;
  EXPECT_TRUE(Mentions(check.fix, "Set Kind to GitLab")) << check.fix;
}

TEST(EndpointsCheck, ABare401FromTheOtherKindsPathIsNoEvidenceOfGitLab) {
  const auto github = GitHubProvider("https://intranet.example.org");
  const auto check =
      EndpointsCheck(github, *EndpointsFor(github, nullptr), Response(404, "text/html", "<p>"),
                     core::Result<core::HttpResponse>(Response(401, "", "")));
  EXPECT_EQ(check.status, CheckStatus::kFail);
  EXPECT_EQ(check.detail.find("looks like"), std::string::npos) << check.detail;
  EXPECT_NE(check.fix.find("Set URL"), std::string::npos) << check.fix;
}

TEST(EndpointsCheck, OidcDiscoveryMustNameTheConfiguredIssuer) {
  std::optional<OidcMetadata> metadata;
  const std::string good = R"({"issuer":"https://sso.example.org/realms/main",)"
                           R"("authorization_endpoint":"https://sso.example.org/realms/main/auth",)"
                           R"("token_endpoint":"https://sso.example.org/realms/main/token"})";
  EXPECT_EQ(OidcEndpointsCheck(OidcProvider(), Json(200, good), metadata).status,
            CheckStatus::kPass);
  ASSERT_TRUE(metadata.has_value());
  EXPECT_EQ(metadata->token_endpoint, "https://sso.example.org/realms/main/token");

  std::string other = good;
  other.replace(other.find("realms/main\""), 11, "realms/else");
  const auto check = OidcEndpointsCheck(OidcProvider(), Json(200, other), metadata);
  EXPECT_EQ(check.status, CheckStatus::kFail);
  EXPECT_FALSE(metadata.has_value());
  EXPECT_TRUE(Mentions(check.fix, "OpenID Connect Issuer URL"));
}

// --- 3. client_credentials and 4. redirect_uri ---

TEST(ClientCredentialsCheck, InvalidClientFailsAndSaysWhichFieldsToFix) {
  const auto gitlab = GitLabProvider();
  const auto check =
      ClientCredentialsCheck(gitlab, ClassifyTokenProbe(Json(401, kDoorkeeperInvalidClient)));
  EXPECT_EQ(check.status, CheckStatus::kFail);
  EXPECT_TRUE(Mentions(check.detail, "the Client ID or Client Secret is wrong")) << check.detail;
  EXPECT_TRUE(Mentions(check.fix, "Client Secret"));
  EXPECT_FALSE(Mentions(check.detail + check.fix, "gl-secret"));
  EXPECT_FALSE(Mentions(check.detail + check.fix, kProbeCode));
}

TEST(ClientCredentialsCheck, GitHubsBadVerificationCodeMeansTheCredentialsAreRight) {
  const auto github = GitHubProvider();
  const auto probe = ClassifyTokenProbe(GitHubTokenError("bad_verification_code"));
  EXPECT_EQ(ClientCredentialsCheck(github, probe).status, CheckStatus::kPass);
  const auto redirect = RedirectUriCheck(github, probe, kCallback);
  EXPECT_EQ(redirect.status, CheckStatus::kPass);
  EXPECT_TRUE(Mentions(redirect.detail, kCallback));
}

TEST(RedirectUriCheck, GitHubsRedirectUriMismatchFailsWithTheCallbackToRegister) {
  const auto github = GitHubProvider();
  const auto probe = ClassifyTokenProbe(GitHubTokenError("redirect_uri_mismatch"));
  EXPECT_EQ(ClientCredentialsCheck(github, probe).status, CheckStatus::kPass);
  const auto check = RedirectUriCheck(github, probe, kCallback);
  EXPECT_EQ(check.status, CheckStatus::kFail);
  EXPECT_TRUE(Mentions(check.fix, kCallback));
  EXPECT_TRUE(Mentions(check.fix, "Callback URL"));
}

TEST(RedirectUriCheck, GitLabCannotTellSoItIsSkippedWithTheExactCallback) {
  const auto check = RedirectUriCheck(
      GitLabProvider(), ClassifyTokenProbe(Json(400, kDoorkeeperInvalidGrant)), kCallback);
  EXPECT_EQ(check.status, CheckStatus::kSkip);
  EXPECT_TRUE(Mentions(check.detail, kCallback));
}

TEST(RedirectUriCheck, GitHubWithRejectedCredentialsCannotTellEither) {
  const auto check = RedirectUriCheck(
      GitHubProvider(), ClassifyTokenProbe(GitHubTokenError("incorrect_client_credentials")),
      kCallback);
  EXPECT_EQ(check.status, CheckStatus::kSkip);
  EXPECT_TRUE(Mentions(check.detail, kCallback));
}

// --- 5. app_slug ---

std::string AppJson(const std::string& client_id) {
  return R"({"id":1,"slug":"keybridge-app","node_id":"x","client_id":")" + client_id
         + R"(","owner":{"login":"org","id":2},"name":"Keybridge App",)"
           R"("html_url":"https://github.com/apps/keybridge-app"})";
}

TEST(AppSlugCheck, TheAppMustExistAndHaveTheConfiguredClientId) {
  const auto github = GitHubProvider();
  const auto ok = AppSlugCheck(github, Json(200, AppJson("Iv23liABC")));
  EXPECT_EQ(ok.status, CheckStatus::kPass);
  EXPECT_TRUE(Mentions(ok.detail, "Keybridge App"));

  const auto other = AppSlugCheck(github, Json(200, AppJson("Iv23liOTHER")));
  EXPECT_EQ(other.status, CheckStatus::kFail);
  EXPECT_TRUE(Mentions(other.detail, "different Apps")) << other.detail;

  const auto missing = AppSlugCheck(github, Json(404, R"({"message":"Not Found"})"));
  EXPECT_EQ(missing.status, CheckStatus::kFail);
  EXPECT_TRUE(Mentions(missing.detail, "no GitHub App with slug \"keybridge-app\""));
  EXPECT_TRUE(Mentions(missing.fix, "https://github.com/apps/<slug>")) << missing.fix;

  const auto ghe = AppSlugCheck(GitHubProvider("https://ghe.example.org"),
                                Json(404, R"({"message":"Not Found"})"));
  EXPECT_TRUE(Mentions(ghe.fix, "https://ghe.example.org/github-apps/<slug>")) << ghe.fix;

  EXPECT_EQ(AppSlugCheck(github, Json(403, R"({"message":"API rate limit exceeded"})")).status,
            CheckStatus::kWarn);
}

TEST(ImageRegistryCheck, ProbesV2AndTrustsOnlyARealmOfTheIntegration) {
  core::Provider gitlab = GitLabProvider();
  EXPECT_FALSE(BuildRegistryProbe(gitlab).has_value());
  EXPECT_EQ(ImageRegistryCheck(gitlab, std::nullopt).status, CheckStatus::kSkip);
  gitlab.image_registry_url = "https://registry.gitlab.example.com";
  ASSERT_TRUE(BuildRegistryProbe(gitlab).has_value());
  EXPECT_EQ(BuildRegistryProbe(gitlab)->url, "https://registry.gitlab.example.com/v2/");
  const auto challenge = [](std::string realm) {
    return core::Result<core::HttpResponse>(Response(
        401, "application/json", R"({"errors":[{"code":"UNAUTHORIZED"}]})",
        {{"www-authenticate", "Bearer realm=\"" + realm + "\",service=\"container_registry\""}}));
  };

  const CheckResult own =
      ImageRegistryCheck(gitlab, challenge("https://gitlab.example.com/jwt/auth"));
  const CheckResult foreign =
      ImageRegistryCheck(gitlab, challenge("https://evil.example/jwt/auth"));
  const CheckResult open = ImageRegistryCheck(gitlab, Response(200, "application/json", "{}"));
  const CheckResult web_page = ImageRegistryCheck(gitlab, Response(404, "text/html", "<html>"));
  const CheckResult basic = ImageRegistryCheck(
      gitlab, Response(401, "", "", {{"www-authenticate", "Basic realm=\"Registry\""}}));

  EXPECT_EQ(own.status, CheckStatus::kPass) << own.detail;
  EXPECT_EQ(foreign.status, CheckStatus::kFail);
  EXPECT_NE(foreign.detail.find("will not send users' tokens there"), std::string::npos);
  EXPECT_EQ(open.status, CheckStatus::kPass);
  EXPECT_EQ(web_page.status, CheckStatus::kFail);
  EXPECT_NE(web_page.fix.find("registry's own address"), std::string::npos);
  EXPECT_EQ(basic.status, CheckStatus::kWarn);
}

}  // namespace
}  // namespace keybridge::oauth
