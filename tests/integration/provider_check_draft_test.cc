// End to end: the admin form's check before saving (POST /api/data/oauth2/providers/check) on the
// real application against the fake GitLab. A misspelled scope is named with its suggestion, an
// edit that does not resend the secret is checked with the stored one, only administrators may
// ask, and nothing is ever stored.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fakes/fake_gitlab.h"
#include "integration/harness.h"
#include "support/fake_clock.h"

namespace keybridge {
namespace {

using nlohmann::json;

constexpr const char* kDraftPath = "/api/data/oauth2/providers/check";

class ProviderCheckDraftTest : public ::testing::Test {
 protected:
  void SetUp() override { gitlab_.SetRedirectUris({kb_.BaseUrl() + "/api/data/oauth2/callback"}); }

  json Draft(const std::string& scope) const {
    return {{"kind", "gitlab"},
            {"client_id", gitlab_.AppOptions().client_id},
            {"client_secret", gitlab_.AppOptions().client_secret},
            {"display_name", "Fake GitLab"},
            {"scope", scope},
            {"url", gitlab_.BaseUrl()}};
  }

  json Post(const json& body, const std::string& query = "") {
    auto r = kb_.Call("POST", kDraftPath + query, kb_.issuer().AdminToken(), body.dump());
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

  json StoredIntegrations() {
    auto r = kb_.Call("GET", "/api/data/oauth2/providers", kb_.issuer().AdminToken());
    EXPECT_EQ(r.status, 200);
    return json::parse(r.body, nullptr, false);
  }

  testing::FakeClock provider_clock_{std::chrono::system_clock::now()};
  fakes::FakeGitLab gitlab_{provider_clock_, fakes::FakeGitLab::Options{}};
  testing::KeybridgeHarness kb_;
};

TEST_F(ProviderCheckDraftTest, AMisspelledScopeIsNamedWithItsSuggestionAndNothingIsStored) {
  const json report = Post(Draft("read_api read_repo write_repository"));

  EXPECT_EQ(report["ok"], false) << report.dump(2);
  const json scopes = CheckOf(report, "scopes");
  EXPECT_EQ(scopes["status"], "fail");
  EXPECT_NE(scopes["detail"].get<std::string>().find(
                "`read_repo` is not a GitLab scope; did you mean `read_repository`?"),
            std::string::npos)
      << scopes.dump();
  EXPECT_NE(scopes["fix"].get<std::string>().find("read_repository"), std::string::npos);
  // Every other item ran against the real (fake) GitLab and passed.
  EXPECT_EQ(CheckOf(report, "client_credentials")["status"], "pass") << report.dump(2);
  EXPECT_EQ(report["provider_id"], "");
  EXPECT_TRUE(StoredIntegrations().empty()) << "a draft check stores nothing";
}

TEST_F(ProviderCheckDraftTest, OnlyScopesAnswersTheScopeItemWithoutContactingTheProvider) {
  const json report = Post(Draft("read_repo"), "?only=scopes");

  ASSERT_EQ(report["checks"].size(), 1U) << report.dump(2);
  EXPECT_EQ(report["checks"][0]["id"], "scopes");
  EXPECT_EQ(report["checks"][0]["status"], "fail");
  EXPECT_TRUE(gitlab_.RequestsTo("/oauth/token").empty());
  // Fields still empty while the admin types are fine for the scope check.
  const json partial = Post({{"kind", "gitlab"}, {"scope", "api"}}, "?only=scopes");
  EXPECT_EQ(partial["ok"], true) << partial.dump(2);
  EXPECT_EQ(kb_.Call("POST", std::string(kDraftPath) + "?only=everything",
                     kb_.issuer().AdminToken(), Draft("api").dump())
                .status,
            422);
}

TEST_F(ProviderCheckDraftTest, EditingWithoutResendingTheSecretUsesTheStoredOne) {
  json stored = Draft("api");
  stored["id"] = "gitlab";
  kb_.CreateProvider(stored);

  json edit = Draft("api read_repository");
  edit["id"] = "gitlab";
  edit.erase("client_secret");
  const json report = Post(edit);

  EXPECT_EQ(CheckOf(report, "client_credentials")["status"], "pass") << report.dump(2);
  EXPECT_EQ(report["provider_id"], "gitlab");
  // A new integration without a secret has none to send: the same draft under another id fails.
  edit["id"] = "another";
  EXPECT_EQ(CheckOf(Post(edit), "client_credentials")["status"], "fail");
  // A draft that sends the stored secret to another client id must bring its own secret.
  edit["id"] = "gitlab";
  edit["client_id"] = "someone-else";
  EXPECT_EQ(kb_.Call("POST", kDraftPath, kb_.issuer().AdminToken(), edit.dump()).status, 422);
  // The stored integration is unchanged.
  const json list = StoredIntegrations();
  ASSERT_EQ(list.size(), 1U);
  EXPECT_EQ(list[0]["scope"], "api");
}

TEST_F(ProviderCheckDraftTest, OnlyAdminsMayCheckADraft) {
  const std::string body = Draft("api").dump();
  EXPECT_EQ(kb_.Call("POST", kDraftPath, "", body).status, 401);
  EXPECT_EQ(kb_.Call("POST", kDraftPath, kb_.issuer().TokenFor("alice"), body).status, 403);
  EXPECT_EQ(kb_.Call("POST", std::string(kDraftPath) + "?only=scopes",
                     kb_.issuer().TokenFor("alice"), body)
                .status,
            403);
  EXPECT_TRUE(gitlab_.RequestsTo("/oauth/token").empty());
  EXPECT_TRUE(StoredIntegrations().empty());
}

}  // namespace
}  // namespace keybridge
