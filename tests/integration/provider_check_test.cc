// End to end: "Test this integration" (POST /api/data/oauth2/providers/{id}/check) on the real
// application against the fake GitLab (under a path prefix) and GitHub Enterprise. Each typo an
// administrator commonly makes (wrong URL, kind, client id, secret, App slug, callback URL) is
// registered the way an administrator would make it, and must be caught by the check it belongs to.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fakes/fake_github.h"
#include "fakes/fake_gitlab.h"
#include "integration/harness.h"
#include "support/fake_clock.h"

namespace keybridge {
namespace {

using nlohmann::json;

class ProviderCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    callback_ = kb_.BaseUrl() + "/api/data/oauth2/callback";
    gitlab_.SetRedirectUris({callback_});
    github_.SetRedirectUris({callback_});
  }

  static fakes::FakeGitLab::Options GitLabOptions() {
    fakes::FakeGitLab::Options o;
    o.path_prefix = "/gitlab";
    return o;
  }
  static fakes::FakeGitHub::Options GitHubOptions() {
    fakes::FakeGitHub::Options o;
    o.enterprise = true;
    o.app_slug = "renku-test-app";
    return o;
  }

  json GitLabIntegration(const std::string& id) const {
    return {{"id", id},
            {"kind", "gitlab"},
            {"client_id", gitlab_.AppOptions().client_id},
            {"client_secret", gitlab_.AppOptions().client_secret},
            {"display_name", "Fake GitLab"},
            {"scope", "api"},
            {"url", gitlab_.BaseUrl()}};
  }
  json GitHubIntegration(const std::string& id) const {
    return {{"id", id},
            {"kind", "github"},
            {"app_slug", "renku-test-app"},
            {"client_id", github_.AppOptions().client_id},
            {"client_secret", github_.AppOptions().client_secret},
            {"display_name", "Fake GHE"},
            {"scope", ""},
            {"url", github_.BaseUrl()}};
  }

  // Runs the check as admin, expects 200 and returns the report; the client secrets of both fakes
  // must not appear anywhere in the answer.
  json Check(const std::string& id) {
    auto r =
        kb_.Call("POST", "/api/data/oauth2/providers/" + id + "/check", kb_.issuer().AdminToken());
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body.find(gitlab_.AppOptions().client_secret), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find(github_.AppOptions().client_secret), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("not-a-real-code"), std::string::npos) << "the probe code leaked";
    return json::parse(r.body, nullptr, false);
  }

  static std::vector<std::string> Statuses(const json& report) {
    std::vector<std::string> out;
    for (const auto& c : report["checks"]) {
      out.push_back(c["id"].get<std::string>() + "=" + c["status"].get<std::string>());
    }
    return out;
  }

  static json CheckOf(const json& report, const std::string& id) {
    for (const auto& c : report["checks"]) {
      if (c["id"] == id) {
        return c;
      }
    }
    ADD_FAILURE() << "no check " << id << " in " << report.dump();
    return json::object();
  }

  testing::FakeClock provider_clock_{std::chrono::system_clock::now()};
  fakes::FakeGitLab gitlab_{provider_clock_, GitLabOptions()};
  fakes::FakeGitHub github_{provider_clock_, GitHubOptions()};
  testing::KeybridgeHarness kb_;
  std::string callback_;
};

TEST_F(ProviderCheckTest, CorrectGitLabAndGitHubEnterpriseIntegrationsAreOk) {
  kb_.CreateProvider(GitLabIntegration("gitlab"));
  kb_.CreateProvider(GitHubIntegration("ghe"));

  const json gitlab = Check("gitlab");
  const json ghe = Check("ghe");

  EXPECT_EQ(gitlab["ok"], true) << gitlab.dump(2);
  EXPECT_EQ(gitlab["provider_id"], "gitlab");
  EXPECT_FALSE(gitlab["checked_at"].get<std::string>().empty());
  EXPECT_EQ(Statuses(gitlab),
            (std::vector<std::string>{"base_url=pass", "endpoints=pass", "client_credentials=pass",
                                      "redirect_uri=skip", "scopes=pass", "app_slug=skip",
                                      "image_registry=skip"}));
  EXPECT_NE(CheckOf(gitlab, "redirect_uri")["detail"].get<std::string>().find(callback_),
            std::string::npos);
  EXPECT_EQ(ghe["ok"], true) << ghe.dump(2);
  EXPECT_EQ(Statuses(ghe),
            (std::vector<std::string>{"base_url=pass", "endpoints=pass", "client_credentials=pass",
                                      "redirect_uri=pass", "scopes=skip", "app_slug=pass",
                                      "image_registry=skip"}));
  for (const auto& c : ghe["checks"]) {
    EXPECT_FALSE(c.contains("fix")) << c.dump();
  }
  // The probes really reached the fakes' token endpoints (and nothing was exchanged).
  EXPECT_EQ(gitlab_.RequestsTo("/gitlab/oauth/token").size(), 1U);
  EXPECT_EQ(github_.RequestsTo("/login/oauth/access_token").size(), 1U);
  EXPECT_EQ(github_.RequestsTo("/api/v3/apps/renku-test-app").size(), 1U);
}

TEST_F(ProviderCheckTest, AWrongSecretFailsClientCredentials) {
  json gitlab = GitLabIntegration("gitlab");
  gitlab["client_secret"] = "test-only-wrong-gitlab-secret";
  kb_.CreateProvider(gitlab);
  json ghe = GitHubIntegration("ghe");
  ghe["client_secret"] = "test-only-wrong-github-secret";
  kb_.CreateProvider(ghe);

  const json gl = Check("gitlab");
  const json gh = Check("ghe");

  EXPECT_EQ(gl["ok"], false);
  EXPECT_EQ(CheckOf(gl, "client_credentials")["status"], "fail");
  EXPECT_NE(CheckOf(gl, "client_credentials")["fix"].get<std::string>().find("Client Secret"),
            std::string::npos);
  EXPECT_EQ(gh["ok"], false);
  EXPECT_EQ(CheckOf(gh, "client_credentials")["status"], "fail");
  // The App lookup confirmed the Client ID, so the secret is named as the culprit.
  EXPECT_NE(CheckOf(gh, "client_credentials")["detail"].get<std::string>().find(
                "so the Client Secret is wrong"),
            std::string::npos);
  for (const auto& report : {gl, gh}) {
    EXPECT_EQ(report.dump().find("test-only-wrong-"), std::string::npos);
  }
}

TEST_F(ProviderCheckTest, AWrongClientIdIsCaught) {
  json gitlab = GitLabIntegration("gitlab");
  gitlab["client_id"] = "typo-" + gitlab_.AppOptions().client_id;
  kb_.CreateProvider(gitlab);
  json ghe = GitHubIntegration("ghe");
  ghe["client_id"] = "Iv23liTypo";
  kb_.CreateProvider(ghe);

  const json gl = Check("gitlab");
  const json gh = Check("ghe");

  EXPECT_EQ(CheckOf(gl, "client_credentials")["status"], "fail");
  EXPECT_EQ(CheckOf(gh, "client_credentials")["status"], "fail");
  EXPECT_EQ(CheckOf(gh, "app_slug")["status"], "fail");
  EXPECT_NE(CheckOf(gh, "app_slug")["detail"].get<std::string>().find("different Apps"),
            std::string::npos);
}

TEST_F(ProviderCheckTest, AWrongSlugFailsAppSlug) {
  json ghe = GitHubIntegration("ghe");
  ghe["app_slug"] = "renku-tset-app";
  kb_.CreateProvider(ghe);

  const json report = Check("ghe");

  EXPECT_EQ(report["ok"], false);
  const json slug = CheckOf(report, "app_slug");
  EXPECT_EQ(slug["status"], "fail");
  EXPECT_NE(slug["detail"].get<std::string>().find("no GitHub App with slug \"renku-tset-app\""),
            std::string::npos);
  EXPECT_NE(slug["fix"].get<std::string>().find(github_.BaseUrl() + "/github-apps/<slug>"),
            std::string::npos);
  EXPECT_EQ(CheckOf(report, "client_credentials")["status"], "pass");
}

TEST_F(ProviderCheckTest, AWrongCallbackAtGitHubFailsRedirectUri) {
  kb_.CreateProvider(GitHubIntegration("ghe"));
  // The administrator registered a typo as the App's callback URL.
  github_.SetRedirectUris({kb_.BaseUrl() + "/api/data/oauth2/calback"});

  const json report = Check("ghe");

  EXPECT_EQ(report["ok"], false);
  EXPECT_EQ(CheckOf(report, "client_credentials")["status"], "pass");
  const json redirect = CheckOf(report, "redirect_uri");
  EXPECT_EQ(redirect["status"], "fail");
  EXPECT_NE(redirect["fix"].get<std::string>().find(callback_), std::string::npos);
}

TEST_F(ProviderCheckTest, AWrongUrlPathFailsEndpoints) {
  json gitlab = GitLabIntegration("gitlab");
  const std::string base = gitlab_.BaseUrl();
  gitlab["url"] = base.substr(0, base.size() - std::string("/gitlab").size());  // prefix forgotten
  kb_.CreateProvider(gitlab);

  const json report = Check("gitlab");

  EXPECT_EQ(report["ok"], false);
  EXPECT_EQ(Statuses(report),
            (std::vector<std::string>{"base_url=pass", "endpoints=fail", "client_credentials=skip",
                                      "redirect_uri=skip", "scopes=pass", "app_slug=skip",
                                      "image_registry=skip"}));
  EXPECT_NE(CheckOf(report, "endpoints")["fix"].get<std::string>().find("path prefix"),
            std::string::npos);
}

TEST_F(ProviderCheckTest, AWrongKindFailsEndpointsNamingTheRightKind) {
  json gitlab_on_github = GitLabIntegration("wrong-kind");
  gitlab_on_github["url"] = github_.BaseUrl();
  kb_.CreateProvider(gitlab_on_github);

  const json report = Check("wrong-kind");

  const json endpoints = CheckOf(report, "endpoints");
  EXPECT_EQ(endpoints["status"], "fail");
  EXPECT_NE(endpoints["fix"].get<std::string>().find("Set Kind to GitHub"), std::string::npos)
      << endpoints.dump();
}

TEST_F(ProviderCheckTest, AnUnreachableUrlFailsBaseUrlAndSkipsTheRest) {
  json gitlab = GitLabIntegration("gitlab");
  gitlab["url"] = "http://127.0.0.1:1/gitlab";  // nothing listens on port 1
  kb_.CreateProvider(gitlab);

  const json report = Check("gitlab");

  EXPECT_EQ(Statuses(report),
            (std::vector<std::string>{"base_url=fail", "endpoints=skip", "client_credentials=skip",
                                      "redirect_uri=skip", "scopes=pass", "app_slug=skip",
                                      "image_registry=skip"}));
  EXPECT_FALSE(CheckOf(report, "base_url")["fix"].get<std::string>().empty());
}

TEST_F(ProviderCheckTest, OnlyAdminsMayRunTheCheckAndSessionTokensNever) {
  kb_.CreateProvider(GitLabIntegration("gitlab"));
  const std::string path = "/api/data/oauth2/providers/gitlab/check";

  EXPECT_EQ(kb_.Call("POST", path).status, 401);
  EXPECT_EQ(kb_.Call("POST", path, kb_.issuer().TokenFor("alice")).status, 403);
  EXPECT_EQ(
      kb_.Call("POST", "/api/data/oauth2/providers/nope/check", kb_.issuer().AdminToken()).status,
      404);
  // A session token of an administrator acts for a session, never as the administrator.
  const json session_body = {{"session_name", "jupyter-1"},
                             {"ttl_seconds", 600},
                             {"repository_urls", {gitlab_.BaseUrl() + "/group/project"}}};
  auto minted =
      kb_.Call("POST", "/api/data/sessions/tokens", kb_.issuer().AdminToken(), session_body.dump());
  ASSERT_EQ(minted.status, 201) << minted.body;
  const std::string session = json::parse(minted.body)["token"];
  EXPECT_EQ(kb_.Call("POST", path, session).status, 403);
  EXPECT_TRUE(gitlab_.RequestsTo("/gitlab/oauth/token").empty())
      << "a refused caller makes keybridge contact nobody";
}

}  // namespace
}  // namespace keybridge
