#include "service/provider_check_service.h"

#include <gtest/gtest.h>

#include "support/fake_clock.h"
#include "support/in_memory_repositories.h"
#include "support/scripted_http_client.h"

namespace keybridge::service {
namespace {

using oauth::CheckStatus;
using testing::JsonResponse;

constexpr const char* kPublicUrl = "https://kb.example.org";
constexpr const char* kCallback = "https://kb.example.org/api/data/oauth2/callback";
constexpr const char* kGitLabSecret = "gl-very-secret-value";
constexpr const char* kGitHubSecret = "gh-very-secret-value";

core::Provider GitLab() {
  core::Provider p;
  p.id = core::ProviderId("gitlab");
  p.kind = core::ProviderKind::kGitLab;
  p.client_id = "gl-app-id";
  p.client_secret = core::Secret(kGitLabSecret);
  p.display_name = "GitLab";
  p.scope = "api";
  p.url = "https://gitlab.example.org/gitlab";
  return p;
}

core::Provider GitHub() {
  core::Provider p;
  p.id = core::ProviderId("github");
  p.kind = core::ProviderKind::kGitHub;
  p.app_slug = "renku-app";
  p.client_id = "Iv23liRenku";
  p.client_secret = core::Secret(kGitHubSecret);
  p.display_name = "GitHub";
  p.url = "https://github.com";
  return p;
}

core::HttpResponse Html(int status) {
  core::HttpResponse r;
  r.status = status;
  r.headers.push_back({"content-type", "text/html; charset=utf-8"});
  r.body = "<!DOCTYPE html><html><body>Not Found</body></html>";
  return r;
}

core::HttpResponse GitHubTokenError(const std::string& error) {
  return JsonResponse(200, R"({"error":")" + error + R"(","error_description":"d"})");
}

std::string AppJson(const std::string& client_id) {
  return R"({"id":7,"slug":"renku-app","client_id":")" + client_id
         + R"(","name":"Renku App","html_url":"https://github.com/apps/renku-app",)"
           R"("owner":{"login":"sdsc","id":3}})";
}

class ProviderCheckServiceTest : public ::testing::Test {
 protected:
  void Add(const core::Provider& p) { ASSERT_TRUE(repo_.Insert(p).ok()); }

  ProviderCheckReport Run(const std::string& id) {
    auto report = service_.Check(admin_, core::ProviderId(id));
    EXPECT_TRUE(report.ok()) << (report.ok() ? "" : report.error().message);
    return report.ok() ? *report : ProviderCheckReport{};
  }

  static std::vector<std::string> Statuses(const ProviderCheckReport& report) {
    std::vector<std::string> out;
    for (const auto& c : report.checks) {
      out.push_back(c.id + "=" + std::string(oauth::ToString(c.status)));
    }
    return out;
  }

  static const oauth::CheckResult& CheckOf(const ProviderCheckReport& report, std::string_view id) {
    for (const auto& c : report.checks) {
      if (c.id == id) {
        return c;
      }
    }
    static const oauth::CheckResult missing;
    ADD_FAILURE() << "no check " << id;
    return missing;
  }

  // No detail or fix may ever carry the secret or the probe code.
  static void ExpectNoSecrets(const ProviderCheckReport& report) {
    for (const auto& c : report.checks) {
      for (const std::string& text : {c.detail, c.fix}) {
        EXPECT_EQ(text.find(kGitLabSecret), std::string::npos) << text;
        EXPECT_EQ(text.find(kGitHubSecret), std::string::npos) << text;
        EXPECT_EQ(text.find(std::string(oauth::kProbeCode)), std::string::npos) << text;
      }
    }
  }

  testing::InMemoryProviderRepository repo_;
  testing::ScriptedHttpClient http_;
  testing::FakeClock clock_;
  ProviderCheckService service_{repo_, http_, clock_,
                                ProviderCheckServiceOptions{core::PublicUrls(kPublicUrl)}};
  core::Caller admin_ = core::Caller::User(core::UserId("admin-1"), true);
};

TEST_F(ProviderCheckServiceTest, OnlyAdminsMayRunItAndUnknownProvidersAre404) {
  Add(GitLab());

  auto anonymous = service_.Check(core::Caller::Anonymous(), core::ProviderId("gitlab"));
  auto user = service_.Check(core::Caller::User(core::UserId("alice")), core::ProviderId("gitlab"));
  auto unknown = service_.Check(admin_, core::ProviderId("nope"));

  ASSERT_FALSE(anonymous.ok());
  EXPECT_EQ(anonymous.error().code, core::ErrorCode::kUnauthenticated);
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.error().code, core::ErrorCode::kPermissionDenied);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, core::ErrorCode::kNotFound);
  EXPECT_TRUE(http_.Requests().empty()) << "nothing is probed for a refused caller";
}

TEST_F(ProviderCheckServiceTest, ACorrectGitLabPassesAndNamesTheCallbackToRegister) {
  Add(GitLab());
  http_.Always("GET", "https://gitlab.example.org/gitlab", Html(302));
  http_.Always("POST", "https://gitlab.example.org/gitlab/oauth/token",
               JsonResponse(400, R"({"error":"invalid_grant","error_description":"x"})"));

  const auto report = Run("gitlab");

  EXPECT_TRUE(report.ok);
  EXPECT_EQ(report.provider_id, "gitlab");
  EXPECT_EQ(report.checked_at, clock_.Now());
  EXPECT_EQ(Statuses(report),
            (std::vector<std::string>{"base_url=pass", "endpoints=pass", "client_credentials=pass",
                                      "redirect_uri=skip", "scopes=pass", "app_slug=skip",
                                      "image_registry=skip"}));
  EXPECT_NE(CheckOf(report, "redirect_uri").detail.find(kCallback), std::string::npos);
  // The probe is a real code exchange: the configured client and the exact callback.
  const auto token = http_.Requests().at(1);
  EXPECT_NE(token.body.find("redirect_uri=https%3A%2F%2Fkb.example.org%2Fapi%2Fdata%2Foauth2%2F"
                            "callback"),
            std::string::npos);
  EXPECT_NE(token.body.find("client_id=gl-app-id"), std::string::npos);
  for (const auto& request : http_.Requests()) {
    EXPECT_EQ(request.url.rfind("https://gitlab.example.org/gitlab", 0), 0U)
        << "only the configured URL is contacted: " << request.url;
    EXPECT_LE(request.timeout, std::chrono::seconds(10));
  }
  ExpectNoSecrets(report);
}

TEST_F(ProviderCheckServiceTest, AWrongGitLabSecretFailsClientCredentials) {
  Add(GitLab());
  http_.Always("GET", "https://gitlab.example.org/gitlab", Html(302));
  http_.Always("POST", "https://gitlab.example.org/gitlab/oauth/token",
               JsonResponse(401, R"({"error":"invalid_client","error_description":"x"})"));

  const auto report = Run("gitlab");

  EXPECT_FALSE(report.ok);
  const auto& creds = CheckOf(report, "client_credentials");
  EXPECT_EQ(creds.status, CheckStatus::kFail);
  EXPECT_NE(creds.detail.find("the Client ID or Client Secret is wrong"), std::string::npos);
  EXPECT_NE(creds.fix.find("Client Secret"), std::string::npos);
  ExpectNoSecrets(report);
}

TEST_F(ProviderCheckServiceTest, AWrongGitLabPathFailsEndpointsAndSkipsWhatDependsOnIt) {
  auto p = GitLab();
  p.url = "https://gitlab.example.org";  // the instance lives under /gitlab
  Add(p);
  http_.Always("GET", "https://gitlab.example.org", Html(200));
  http_.Always("POST", "https://gitlab.example.org/oauth/token", Html(404));
  http_.Always("POST", "https://gitlab.example.org/login/oauth/access_token", Html(404));

  const auto report = Run("gitlab");

  EXPECT_FALSE(report.ok);
  EXPECT_EQ(Statuses(report),
            (std::vector<std::string>{"base_url=pass", "endpoints=fail", "client_credentials=skip",
                                      "redirect_uri=skip", "scopes=pass", "app_slug=skip",
                                      "image_registry=skip"}));
  EXPECT_NE(CheckOf(report, "endpoints").fix.find("path prefix"), std::string::npos);
  // The kind probe went to the same host without the client secret.
  const auto kind_probe = http_.Requests().back();
  EXPECT_EQ(kind_probe.url, "https://gitlab.example.org/login/oauth/access_token");
  EXPECT_EQ(kind_probe.body.find(kGitLabSecret), std::string::npos);
}

TEST_F(ProviderCheckServiceTest, AGitLabIntegrationOnAGitHubUrlSaysSetKindToGitHub) {
  auto p = GitLab();
  p.url = "https://github.com";
  Add(p);
  http_.Always("GET", "https://github.com", Html(200));
  http_.Always("POST", "https://github.com/oauth/token", Html(404));
  http_.Always("POST", "https://github.com/login/oauth/access_token",
               GitHubTokenError("incorrect_client_credentials"));

  const auto report = Run("gitlab");

  const auto& endpoints = CheckOf(report, "endpoints");
  EXPECT_EQ(endpoints.status, CheckStatus::kFail);
  EXPECT_NE(endpoints.fix.find("Set Kind to GitHub"), std::string::npos) << endpoints.fix;
}

TEST_F(ProviderCheckServiceTest, AnUnknownHostFailsBaseUrlAndSkipsTheRest) {
  auto p = GitLab();
  p.url = "https://gitlab.exmaple.org";
  Add(p);
  http_.Enqueue("GET", "https://gitlab.exmaple.org",
                core::MakeError(core::ErrorCode::kUnavailable,
                                "cannot reach gitlab.exmaple.org: Couldn't resolve host name",
                                "Could not resolve host: gitlab.exmaple.org"));

  const auto report = Run("gitlab");

  EXPECT_FALSE(report.ok);
  EXPECT_EQ(Statuses(report),
            (std::vector<std::string>{"base_url=fail", "endpoints=skip", "client_credentials=skip",
                                      "redirect_uri=skip", "scopes=pass", "app_slug=skip",
                                      "image_registry=skip"}));
  EXPECT_NE(CheckOf(report, "base_url").detail.find("host not found: check the URL for typos"),
            std::string::npos);
  EXPECT_EQ(http_.Requests().size(), 1U);
}

class GitHubCheckTest : public ProviderCheckServiceTest {
 protected:
  void SetUp() override {
    http_.Always("GET", "https://github.com", Html(200));
    http_.Always("GET", "https://api.github.com/apps/renku-app",
                 JsonResponse(200, AppJson("Iv23liRenku")));
  }
  void TokenAnswers(const std::string& error) {
    http_.Always("POST", "https://github.com/login/oauth/access_token", GitHubTokenError(error));
  }
};

TEST_F(GitHubCheckTest, ACorrectGitHubAppPassesEveryCheck) {
  Add(GitHub());
  TokenAnswers("bad_verification_code");

  const auto report = Run("github");

  EXPECT_TRUE(report.ok);
  EXPECT_EQ(Statuses(report),
            (std::vector<std::string>{"base_url=pass", "endpoints=pass", "client_credentials=pass",
                                      "redirect_uri=pass", "scopes=skip", "app_slug=pass",
                                      "image_registry=skip"}));
  for (const auto& c : report.checks) {
    EXPECT_TRUE(c.fix.empty()) << c.id;
  }
  ExpectNoSecrets(report);
}

TEST_F(GitHubCheckTest, AWrongCallbackFailsRedirectUriWithTheUrlToRegister) {
  Add(GitHub());
  TokenAnswers("redirect_uri_mismatch");

  const auto report = Run("github");

  EXPECT_FALSE(report.ok);
  EXPECT_EQ(CheckOf(report, "client_credentials").status, CheckStatus::kPass);
  const auto& redirect = CheckOf(report, "redirect_uri");
  EXPECT_EQ(redirect.status, CheckStatus::kFail);
  EXPECT_NE(redirect.fix.find(kCallback), std::string::npos);
}

TEST_F(GitHubCheckTest, AWrongSecretIsPinnedOnTheSecretWhenTheSlugConfirmsTheClientId) {
  Add(GitHub());
  TokenAnswers("incorrect_client_credentials");

  const auto report = Run("github");

  const auto& creds = CheckOf(report, "client_credentials");
  EXPECT_EQ(creds.status, CheckStatus::kFail);
  EXPECT_NE(creds.detail.find("so the Client Secret is wrong"), std::string::npos) << creds.detail;
  EXPECT_NE(creds.fix.find("Client Secret"), std::string::npos);
  EXPECT_EQ(CheckOf(report, "redirect_uri").status, CheckStatus::kSkip);
  EXPECT_EQ(CheckOf(report, "app_slug").status, CheckStatus::kPass);
  ExpectNoSecrets(report);
}

TEST_F(GitHubCheckTest, AWrongClientIdIsCaughtByBothTheTokenEndpointAndTheAppLookup) {
  auto p = GitHub();
  p.client_id = "Iv23liRenkx";
  Add(p);
  TokenAnswers("incorrect_client_credentials");

  const auto report = Run("github");

  EXPECT_EQ(CheckOf(report, "client_credentials").status, CheckStatus::kFail);
  const auto& slug = CheckOf(report, "app_slug");
  EXPECT_EQ(slug.status, CheckStatus::kFail);
  EXPECT_NE(slug.detail.find("different Apps"), std::string::npos) << slug.detail;
}

TEST_F(GitHubCheckTest, AWrongOrMissingSlugFailsAppSlug) {
  auto typo = GitHub();
  typo.app_slug = "renku-ap";
  Add(typo);
  TokenAnswers("bad_verification_code");
  http_.Always("GET", "https://api.github.com/apps/renku-ap",
               JsonResponse(404, R"({"message":"Not Found"})"));
  auto empty = GitHub();
  empty.id = core::ProviderId("github-empty");
  empty.app_slug = "";
  Add(empty);

  const auto wrong = Run("github");
  const auto missing = Run("github-empty");

  EXPECT_FALSE(wrong.ok);
  EXPECT_NE(CheckOf(wrong, "app_slug").detail.find("no GitHub App with slug \"renku-ap\""),
            std::string::npos);
  EXPECT_FALSE(missing.ok);
  EXPECT_EQ(CheckOf(missing, "app_slug").status, CheckStatus::kFail);
  EXPECT_NE(CheckOf(missing, "app_slug").fix.find("last path segment"), std::string::npos);
}

TEST_F(ProviderCheckServiceTest, AnEnterpriseAppIsLookedUpUnderApiV3) {
  auto p = GitHub();
  p.url = "https://ghe.example.org";
  Add(p);
  http_.Always("GET", "https://ghe.example.org", Html(200));
  http_.Always("POST", "https://ghe.example.org/login/oauth/access_token",
               GitHubTokenError("bad_verification_code"));
  http_.Always("GET", "https://ghe.example.org/api/v3/apps/renku-app",
               JsonResponse(200, AppJson("Iv23liRenku")));

  const auto report = Run("github");

  EXPECT_TRUE(report.ok) << ::testing::PrintToString(Statuses(report));
  for (const auto& request : http_.Requests()) {
    EXPECT_EQ(request.url.rfind("https://ghe.example.org/", 0) == 0
                  || request.url == "https://ghe.example.org",
              true)
        << request.url;
  }
}

TEST_F(ProviderCheckServiceTest, OidcUsesDiscoveryAndTheDiscoveredTokenEndpoint) {
  core::Provider p;
  p.id = core::ProviderId("sso");
  p.kind = core::ProviderKind::kGenericOidc;
  p.client_id = "kb";
  p.client_secret = core::Secret("oidc-secret");
  p.display_name = "SSO";
  p.scope = "openid";
  p.url = "https://sso.example.org";
  p.oidc_issuer_url = "https://sso.example.org/realms/main";
  Add(p);
  http_.Always("GET", "https://sso.example.org", Html(200));
  http_.Always("GET", "https://sso.example.org/realms/main/.well-known/openid-configuration",
               JsonResponse(200, R"({"issuer":"https://sso.example.org/realms/main",)"
                                 R"("authorization_endpoint":"https://sso.example.org/a",)"
                                 R"("token_endpoint":"https://sso.example.org/t"})"));
  http_.Always("POST", "https://sso.example.org/t",
               JsonResponse(400, R"({"error":"invalid_grant"})"));

  const auto report = Run("sso");

  EXPECT_TRUE(report.ok);
  EXPECT_EQ(Statuses(report),
            (std::vector<std::string>{"base_url=pass", "endpoints=pass", "client_credentials=pass",
                                      "redirect_uri=skip", "scopes=pass", "app_slug=skip",
                                      "image_registry=skip"}));
}

// --- data connectors: recorded answers to a code that was never issued ---

core::Provider DataConnector(core::ProviderKind kind, std::string url) {
  core::Provider p = GitLab();
  p.id = core::ProviderId(std::string(core::ToString(kind)));
  p.kind = kind;
  p.url = std::move(url);
  // A scope each kind documents and that lets sessions read files (oauth/scope_vocabulary.h).
  p.scope = kind == core::ProviderKind::kDropbox  ? "files.content.read"
            : kind == core::ProviderKind::kGoogle ? "https://www.googleapis.com/auth/drive"
                                                  : "deposit:write";
  return p;
}

TEST_F(ProviderCheckServiceTest, ACorrectDropboxPassesAtItsFixedTokenEndpoint) {
  Add(DataConnector(core::ProviderKind::kDropbox, "https://www.dropbox.com"));
  http_.Always("GET", "https://www.dropbox.com", Html(200));
  http_.Always(
      "POST", "https://api.dropboxapi.com/oauth2/token",
      JsonResponse(
          400,
          R"({"error":"invalid_grant","error_description":"code doesn't exist or has expired"})"));

  const auto report = Run("dropbox");

  EXPECT_TRUE(report.ok);
  EXPECT_EQ(Statuses(report),
            (std::vector<std::string>{"base_url=pass", "endpoints=pass", "client_credentials=pass",
                                      "redirect_uri=skip", "scopes=pass", "app_slug=skip",
                                      "image_registry=skip"}));
  EXPECT_NE(CheckOf(report, "redirect_uri").fix.find("Dropbox App Console"), std::string::npos);
  EXPECT_EQ(http_.Requests().size(), 2U) << "no kind probe, no App lookup";
  ExpectNoSecrets(report);
}

TEST_F(ProviderCheckServiceTest, AWrongGoogleSecretFailsClientCredentials) {
  Add(DataConnector(core::ProviderKind::kGoogle, "https://accounts.google.com"));
  http_.Always("GET", "https://accounts.google.com", Html(302));
  http_.Always(
      "POST", "https://oauth2.googleapis.com/token",
      JsonResponse(401, R"({"error":"invalid_client","error_description":"Unauthorized"})"));

  const auto report = Run("google");

  EXPECT_FALSE(report.ok);
  const auto& creds = CheckOf(report, "client_credentials");
  EXPECT_EQ(creds.status, CheckStatus::kFail);
  EXPECT_NE(creds.fix.find("Google Cloud Console"), std::string::npos) << creds.fix;
  ExpectNoSecrets(report);
}

TEST_F(ProviderCheckServiceTest, AZenodoWithoutAnOAuthServerSendsNoKindProbe) {
  Add(DataConnector(core::ProviderKind::kZenodo, "https://data.example.org"));
  http_.Always("GET", "https://data.example.org", Html(200));
  http_.Always("POST", "https://data.example.org/oauth/token", Html(404));

  const auto report = Run("zenodo");

  EXPECT_EQ(Statuses(report),
            (std::vector<std::string>{"base_url=pass", "endpoints=fail", "client_credentials=skip",
                                      "redirect_uri=skip", "scopes=pass", "app_slug=skip",
                                      "image_registry=skip"}));
  EXPECT_NE(CheckOf(report, "endpoints").fix.find("https://zenodo.org"), std::string::npos);
  EXPECT_EQ(http_.Requests().size(), 2U);
  for (const auto& request : http_.Requests()) {
    EXPECT_EQ(request.url.find("/login/oauth/access_token"), std::string::npos);
  }
}

TEST_F(ProviderCheckServiceTest, ALocalGoogleStandInIsProbedOnItsOwnPaths) {
  Add(DataConnector(core::ProviderKind::kGoogle, "http://127.0.0.1:4711"));
  http_.Always("GET", "http://127.0.0.1:4711", Html(404));
  http_.Always(
      "POST", "http://127.0.0.1:4711/token",
      JsonResponse(400, R"({"error":"invalid_grant","error_description":"Malformed auth code."})"));

  const auto report = Run("google");

  EXPECT_TRUE(report.ok);
  EXPECT_EQ(CheckOf(report, "client_credentials").status, CheckStatus::kPass);
}

// --- drafts: the admin form's check before saving ---

ProviderCreate DraftOf(const core::Provider& p) {
  ProviderCreate d;
  d.id = p.id.value();
  d.kind = p.kind;
  d.client_id = p.client_id;
  d.client_secret = p.client_secret;
  d.display_name = p.display_name;
  d.scope = p.scope;
  d.url = p.url;
  d.app_slug = p.app_slug;
  return d;
}

TEST_F(ProviderCheckServiceTest, ADraftIsCheckedWithoutBeingStored) {
  http_.Always("GET", "https://gitlab.example.org/gitlab", Html(302));
  http_.Always("POST", "https://gitlab.example.org/gitlab/oauth/token",
               JsonResponse(400, R"({"error":"invalid_grant","error_description":"x"})"));
  ProviderCreate draft = DraftOf(GitLab());
  draft.id.clear();
  draft.scope = "read_api read_repo write_repository";

  auto report = service_.CheckDraft(admin_, draft);

  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(Statuses(*report),
            (std::vector<std::string>{"base_url=pass", "endpoints=pass", "client_credentials=pass",
                                      "redirect_uri=skip", "scopes=fail", "app_slug=skip",
                                      "image_registry=skip"}));
  EXPECT_NE(CheckOf(*report, "scopes").detail.find("did you mean `read_repository`?"),
            std::string::npos);
  EXPECT_EQ(report->provider_id.value(), "");
  EXPECT_TRUE(repo_.List()->empty());
  ExpectNoSecrets(*report);
}

TEST_F(ProviderCheckServiceTest, ADraftEditUsesTheStoredSecretOnlyTowardsTheStoredDestination) {
  Add(GitLab());
  http_.Always("GET", "https://gitlab.example.org/gitlab", Html(302));
  http_.Always("POST", "https://gitlab.example.org/gitlab/oauth/token",
               JsonResponse(400, R"({"error":"invalid_grant","error_description":"x"})"));
  ProviderCreate edit = DraftOf(GitLab());
  edit.client_secret.reset();

  auto report = service_.CheckDraft(admin_, edit);

  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_TRUE(report->ok);
  EXPECT_NE(http_.Requests().at(1).body.find("client_secret=gl-very-secret-value"),
            std::string::npos)
      << "the stored secret was sent to the stored token endpoint";

  // "" is the form's "Remove the stored secret": checked without one.
  edit.client_secret = core::Secret("");
  ASSERT_TRUE(service_.CheckDraft(admin_, edit).ok());
  EXPECT_EQ(http_.Requests().at(3).body.find("gl-very-secret-value"), std::string::npos);

  edit.client_secret.reset();
  edit.url = "https://elsewhere.example.org";
  auto moved = service_.CheckDraft(admin_, edit);
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(moved.error().message.find("url"), std::string::npos);
  EXPECT_EQ(http_.Requests().size(), 4U) << "nothing was sent to the new URL";
}

TEST_F(ProviderCheckServiceTest, AScopesOnlyDraftSendsNothingAndNeedsOnlyTheKind) {
  ProviderCreate draft;
  draft.kind = core::ProviderKind::kGitLab;
  draft.scope = "read_repo";

  auto report = service_.CheckDraft(admin_, draft, CheckItems::kScopes);

  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(Statuses(*report), (std::vector<std::string>{"scopes=fail"}));
  EXPECT_TRUE(http_.Requests().empty());
  auto invalid_full = service_.CheckDraft(admin_, draft);
  ASSERT_FALSE(invalid_full.ok()) << "a full check needs a valid draft";
  EXPECT_EQ(invalid_full.error().code, core::ErrorCode::kInvalidArgument);
  auto user =
      service_.CheckDraft(core::Caller::User(core::UserId("alice")), draft, CheckItems::kScopes);
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.error().code, core::ErrorCode::kPermissionDenied);
}

TEST_F(ProviderCheckServiceTest, OidcScopesAreCheckedAgainstTheIssuersScopesSupportedCached) {
  http_.Always("GET", "https://sso.example.org/realms/main/.well-known/openid-configuration",
               JsonResponse(200, R"({"issuer":"https://sso.example.org/realms/main",)"
                                 R"("authorization_endpoint":"https://sso.example.org/a",)"
                                 R"("token_endpoint":"https://sso.example.org/t",)"
                                 R"("scopes_supported":["openid","profile","groups"]})"));
  ProviderCreate draft;
  draft.kind = core::ProviderKind::kGenericOidc;
  draft.oidc_issuer_url = "https://sso.example.org/realms/main";
  draft.scope = "openid groups";

  auto known = service_.CheckDraft(admin_, draft, CheckItems::kScopes);
  draft.scope = "openid group";
  auto typo = service_.CheckDraft(admin_, draft, CheckItems::kScopes);

  ASSERT_TRUE(known.ok() && typo.ok());
  EXPECT_EQ(Statuses(*known), (std::vector<std::string>{"scopes=pass"}));
  EXPECT_EQ(Statuses(*typo), (std::vector<std::string>{"scopes=fail"}));
  EXPECT_NE(CheckOf(*typo, "scopes").detail.find("did you mean `groups`?"), std::string::npos);
  EXPECT_EQ(http_.Requests().size(), 1U) << "discovery is cached between keystrokes";
}

}  // namespace
}  // namespace keybridge::service
