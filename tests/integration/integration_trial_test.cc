// End to end: "Try connecting" (POST .../trial, authorize?trial=, the callback, GET .../trial/{id})
// on the real application against FakeGitLab. A correct integration passes every stage and its
// tokens are revoked at GitLab; a GitLab application whose registered redirect URI differs stops
// the browser at GitLab's error page, and the waiting trial then names the fix with the exact
// callback URL; keep=true leaves a working connection.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fakes/fake_gitlab.h"
#include "integration/harness.h"
#include "support/fake_clock.h"

namespace keybridge {
namespace {

using nlohmann::json;

class IntegrationTrialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    callback_ = kb_.BaseUrl() + "/api/data/oauth2/callback";
    gitlab_.SetRedirectUris({callback_});
    fakes::GitLabProject project;
    project.path_with_namespace = "group/project";
    project.members = {{gitlab_.CurrentUser().id, fakes::kGitLabDeveloper}};
    gitlab_.AddProject(project);
    kb_.CreateProvider({{"id", "gitlab"},
                        {"kind", "gitlab"},
                        {"client_id", gitlab_.AppOptions().client_id},
                        {"client_secret", gitlab_.AppOptions().client_secret},
                        {"display_name", "Fake GitLab"},
                        {"scope", "api"},
                        {"url", gitlab_.BaseUrl()}});
    admin_ = kb_.issuer().AdminToken();
  }

  // POST .../trial as the admin; returns {id, authorize_url}.
  json CreateTrial(const json& body) {
    auto r = kb_.Call("POST", "/api/data/oauth2/providers/gitlab/trial", admin_, body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  // The admin's browser: opens authorize_url, follows GitLab's redirect back to the callback with
  // the flow cookie. Returns GitLab's answer if it did not redirect, else the callback's.
  core::HttpResponse RunBrowser(const json& trial) {
    auto authorize = kb_.Call("GET", trial["authorize_url"].get<std::string>(), admin_);
    EXPECT_EQ(authorize.status, 302) << authorize.body;
    const std::string cookie = testing::CookiePair(authorize);
    auto at_gitlab = kb_.Call("GET", authorize.Header("location"));
    if (at_gitlab.status != 302) {
      return at_gitlab;
    }
    return kb_.Call("GET", at_gitlab.Header("location"), admin_, "", {{"Cookie", cookie}});
  }

  json Report(const std::string& id) {
    auto r = kb_.Call("GET", "/api/data/oauth2/providers/gitlab/trial/" + id, admin_);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body.find(gitlab_.AppOptions().client_secret), std::string::npos) << r.body;
    return json::parse(r.body, nullptr, false);
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
  fakes::FakeGitLab gitlab_{provider_clock_};
  // The 3 minutes after which a waiting trial names GitLab's error pages: 0, so no test sleeps.
  testing::KeybridgeHarness kb_{[](app::ServeConfig& config) {
    config.trial_waiting_advice_after = core::Seconds(0);
  }};
  std::string callback_;
  std::string admin_;
};

TEST_F(IntegrationTrialTest, ACorrectIntegrationPassesEveryStageAndTheTokensAreRevoked) {
  const json trial = CreateTrial({{"repository_url", gitlab_.BaseUrl() + "/group/project"}});
  ASSERT_EQ(trial["authorize_url"], kb_.BaseUrl()
                                        + "/api/data/oauth2/providers/gitlab/authorize?trial="
                                        + trial["id"].get<std::string>());

  auto back = RunBrowser(trial);

  ASSERT_EQ(back.status, 302) << back.body;
  EXPECT_EQ(back.Header("location"),
            kb_.BaseUrl() + "/#/admin?trial=" + trial["id"].get<std::string>());
  const json report = Report(trial["id"]);
  EXPECT_EQ(report["state"], "done");
  for (const char* id :
       {"reached_provider", "came_back", "code_exchange", "account", "repository"}) {
    EXPECT_EQ(CheckOf(report, id)["status"], "pass") << id << ": " << CheckOf(report, id).dump();
  }
  EXPECT_EQ(CheckOf(report, "kept")["status"], "skip");
  EXPECT_EQ(gitlab_.CodeExchangeCount(), 1);
  EXPECT_EQ(gitlab_.RevocationCount(), 1) << "the trial's tokens must be revoked at GitLab";
  EXPECT_EQ(kb_.ConnectionId(admin_, "gitlab"), "") << "a trial that is not kept stores nothing";
  // The link is single use.
  EXPECT_EQ(kb_.Call("GET", trial["authorize_url"].get<std::string>(), admin_).status, 400);
}

TEST_F(IntegrationTrialTest, AWrongRedirectUriStopsAtGitLabsPageAndTheTrialNamesTheCallback) {
  gitlab_.SetRedirectUris({"https://renku.example.org/api/data/oauth2/callback"});
  const json trial = CreateTrial(json::object());

  auto at_gitlab = RunBrowser(trial);

  EXPECT_EQ(at_gitlab.status, 400);
  EXPECT_NE(at_gitlab.body.find("The redirect URI included is not valid."), std::string::npos)
      << at_gitlab.body;
  const json report = Report(trial["id"]);
  EXPECT_EQ(report["state"], "waiting");
  EXPECT_EQ(CheckOf(report, "reached_provider")["status"], "pass");
  const json came_back = CheckOf(report, "came_back");
  EXPECT_EQ(came_back["status"], "fail");
  const std::string fix = came_back.value("fix", "");
  EXPECT_NE(fix.find("The redirect URI included is not valid."), std::string::npos) << fix;
  EXPECT_NE(fix.find("exactly " + callback_), std::string::npos) << fix;
  EXPECT_EQ(gitlab_.CodeExchangeCount(), 0);
}

TEST_F(IntegrationTrialTest, AnUnknownScopeStopsAtGitLabsPage) {
  gitlab_.SetAllowedScopes({"read_user"});
  const json trial = CreateTrial(json::object());

  auto at_gitlab = RunBrowser(trial);

  EXPECT_EQ(at_gitlab.status, 400);
  EXPECT_NE(at_gitlab.body.find("The requested scope is invalid, unknown, or malformed."),
            std::string::npos)
      << at_gitlab.body;
  const std::string fix = CheckOf(Report(trial["id"]), "came_back").value("fix", "");
  EXPECT_NE(fix.find("The requested scope is invalid, unknown, or malformed."), std::string::npos);
}

TEST_F(IntegrationTrialTest, KeepLeavesAWorkingConnection) {
  const json trial = CreateTrial({{"keep", true}});

  auto back = RunBrowser(trial);

  ASSERT_EQ(back.status, 302) << back.body;
  EXPECT_EQ(CheckOf(Report(trial["id"]), "kept")["status"], "pass");
  EXPECT_EQ(gitlab_.RevocationCount(), 0);
  const std::string connection = kb_.ConnectionId(admin_, "gitlab");
  ASSERT_NE(connection, "");
  auto token = kb_.Call("GET", "/api/data/oauth2/connections/" + connection + "/token", admin_);
  ASSERT_EQ(token.status, 200) << token.body;
  const std::string access = json::parse(token.body)["access_token"].get<std::string>();
  EXPECT_TRUE(gitlab_.IsAccessTokenLive(access));
}

// Trials live in the database: a second replica (same database, keys, issuer and public URL)
// receives the callback of a trial the first one started, and completes it.
TEST_F(IntegrationTrialTest, TheCallbackMayReachAnotherReplica) {
  testing::KeybridgeHarness replica_b{[this](app::ServeConfig& config) {
    config.database = "sqlite://" + (kb_.dir() / "keybridge.db").string();
    config.key_file = (kb_.dir() / "keybridge.key").string();
    config.oidc_issuer = kb_.issuer().IssuerUrl();
    config.public_url = kb_.BaseUrl();
  }};
  const json trial = CreateTrial(json::object());
  auto authorize = kb_.Call("GET", trial["authorize_url"].get<std::string>(), admin_);
  ASSERT_EQ(authorize.status, 302) << authorize.body;
  auto at_gitlab = kb_.Call("GET", authorize.Header("location"));
  ASSERT_EQ(at_gitlab.status, 302) << at_gitlab.body;
  std::string callback = at_gitlab.Header("location");
  ASSERT_TRUE(callback.starts_with(kb_.BaseUrl())) << callback;
  callback.replace(0, kb_.BaseUrl().size(), replica_b.BaseUrl());

  auto back =
      replica_b.Call("GET", callback, admin_, "", {{"Cookie", testing::CookiePair(authorize)}});

  ASSERT_EQ(back.status, 302) << back.body;
  const json report = Report(trial["id"]);
  EXPECT_EQ(report["state"], "done");
  EXPECT_EQ(CheckOf(report, "account")["status"], "pass") << report.dump();
  EXPECT_EQ(gitlab_.RevocationCount(), 1);
}

TEST_F(IntegrationTrialTest, OnlyAdministratorsCreateTrialsAndOnlyTheirOwnRun) {
  const std::string user = kb_.issuer().TokenFor("bob");
  EXPECT_EQ(kb_.Call("POST", "/api/data/oauth2/providers/gitlab/trial", user, "{}").status, 403);
  const json trial = CreateTrial(json::object());
  const std::string other_admin = kb_.issuer().TokenFor("admin-2", {"renku-admin"});

  EXPECT_EQ(kb_.Call("GET", trial["authorize_url"].get<std::string>(), other_admin).status, 403);
  EXPECT_EQ(
      kb_.Call("GET", "/api/data/oauth2/providers/gitlab/trial/" + trial["id"].get<std::string>(),
               other_admin)
          .status,
      403);
}

}  // namespace
}  // namespace keybridge
