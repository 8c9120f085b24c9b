#include "service/integration_trial_service.h"

#include <gtest/gtest.h>

#include "core/url.h"
#include "crypto/system_random.h"
#include "support/fake_clock.h"
#include "support/in_memory_repositories.h"
#include "support/scripted_http_client.h"

namespace keybridge::service {
namespace {

constexpr const char* kToken = "https://gitlab.example.org/oauth/token";
constexpr const char* kUser = "https://gitlab.example.org/api/v4/user";
constexpr const char* kRevoke = "https://gitlab.example.org/oauth/revoke";
constexpr const char* kProject = "https://gitlab.example.org/api/v4/projects/group%2Fproject";
constexpr const char* kCallback = "https://kb.example.org/api/data/oauth2/callback";

std::string QueryValue(const std::string& url, const std::string& key) {
  const auto q = url.find('?');
  const std::string query = q == std::string::npos ? "" : url.substr(q + 1);
  std::size_t start = 0;
  while (start <= query.size()) {
    const auto end = std::min(query.find('&', start), query.size());
    const auto pair = query.substr(start, end - start);
    if (pair.rfind(key + "=", 0) == 0) {
      return core::PercentDecode(pair.substr(key.size() + 1), true).value_or("");
    }
    start = end + 1;
  }
  return "";
}

const oauth::CheckResult& Find(const TrialReport& report, std::string_view id) {
  for (const auto& check : report.checks) {
    if (check.id == id) {
      return check;
    }
  }
  static const oauth::CheckResult kMissing{"missing", "", oauth::CheckStatus::kSkip, "", ""};
  ADD_FAILURE() << "no check " << id;
  return kMissing;
}

class IntegrationTrialServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::Provider p;
    p.id = core::ProviderId("gitlab");
    p.kind = core::ProviderKind::kGitLab;
    p.client_id = "cid";
    p.client_secret = core::Secret("csecret");
    p.display_name = "Our GitLab";
    p.url = "https://gitlab.example.org";
    p.scope = "api";
    p.use_pkce = true;
    ASSERT_TRUE(store_.providers.Insert(p).ok());
  }

  static core::Caller Admin(const std::string& id = "ada") {
    return core::Caller::User(core::UserId(id), true);
  }

  // Creates a trial as `Admin()`, opens its link, and returns the started authorization.
  StartedAuthorization Start(const std::string& repository_url = "", bool keep = false) {
    auto created = service_.Create(Admin(), core::ProviderId("gitlab"), repository_url, keep);
    EXPECT_TRUE(created.ok()) << created.error().message;
    trial_id_ = created->id;
    auto started = service_.StartAuthorization(Admin(), core::ProviderId("gitlab"), trial_id_);
    EXPECT_TRUE(started.ok()) << started.error().message;
    return *started;
  }

  CallbackParameters Back(const StartedAuthorization& started) {
    CallbackParameters p;
    p.state = QueryValue(started.redirect_url, "state");
    p.code = core::Secret("the-code");
    p.browser_binding = started.browser_binding;
    return p;
  }

  void ScriptProvider() {
    http_.Enqueue("POST", kToken,
                  testing::JsonResponse(200, R"({"access_token":"at-1","token_type":"Bearer",)"
                                             R"("expires_in":7200,"refresh_token":"rt-1",)"
                                             R"("scope":"api"})"));
    http_.Always("GET", kUser,
                 testing::JsonResponse(200, R"({"id":7,"username":"ada","web_url":"https://x"})"));
    http_.Always("POST", kRevoke, testing::JsonResponse(200, "{}"));
  }

  TrialReport Report() {
    auto report = service_.Get(Admin(), core::ProviderId("gitlab"), trial_id_);
    EXPECT_TRUE(report.ok()) << report.error().message;
    return report.ok() ? *report : TrialReport{};
  }

  testing::FakeClock clock_;
  crypto::SystemRandom random_;
  testing::InMemoryStore store_;
  testing::ScriptedHttpClient http_;
  ProviderGateway gateway_{http_, clock_};
  IntegrationTrialService service_{
      store_.trials,
      store_.providers,
      store_.connections,
      gateway_,
      http_,
      random_,
      clock_,
      IntegrationTrialOptions{core::PublicUrls("https://kb.example.org")}};
  std::string trial_id_;
};

TEST_F(IntegrationTrialServiceTest, OnlyAdminsCreateAndTheLinkNamesTheTrial) {
  EXPECT_EQ(
      service_
          .Create(core::Caller::User(core::UserId("bob")), core::ProviderId("gitlab"), "", false)
          .error()
          .code,
      core::ErrorCode::kPermissionDenied);
  EXPECT_EQ(service_.Create(Admin(), core::ProviderId("nope"), "", false).error().code,
            core::ErrorCode::kNotFound);
  EXPECT_EQ(service_.Create(Admin(), core::ProviderId("gitlab"), "https://github.com/a/b", false)
                .error()
                .code,
            core::ErrorCode::kInvalidArgument);

  auto created = service_.Create(Admin(), core::ProviderId("gitlab"), "", false);

  ASSERT_TRUE(created.ok());
  EXPECT_EQ(
      created->authorize_url,
      "https://kb.example.org/api/data/oauth2/providers/gitlab/authorize?trial=" + created->id);
}

TEST_F(IntegrationTrialServiceTest, StartSendsTheBrowserToTheProviderOnceWithStateAndPkce) {
  const StartedAuthorization started = Start();

  EXPECT_TRUE(started.redirect_url.starts_with("https://gitlab.example.org/oauth/authorize?"));
  EXPECT_EQ(QueryValue(started.redirect_url, "redirect_uri"), kCallback);
  EXPECT_EQ(QueryValue(started.redirect_url, "code_challenge_method"), "S256");
  EXPECT_EQ(started.cookie_name,
            ConnectionService::FlowCookieName(QueryValue(started.redirect_url, "state")));
  EXPECT_EQ(
      service_.StartAuthorization(Admin(), core::ProviderId("gitlab"), trial_id_).error().code,
      core::ErrorCode::kBadRequest);
  const TrialReport report = Report();
  EXPECT_FALSE(report.done);
  EXPECT_EQ(Find(report, kTrialReachedProvider).status, oauth::CheckStatus::kPass);
  EXPECT_EQ(Find(report, kTrialCameBack).status, oauth::CheckStatus::kWarn);
  // No connection is created for a trial that is not kept.
  EXPECT_TRUE(store_.connections.ListForUser(core::UserId("ada"))->empty());
}

TEST_F(IntegrationTrialServiceTest, AnotherAdministratorsTrialIsRefused) {
  auto created = service_.Create(Admin(), core::ProviderId("gitlab"), "", false);
  ASSERT_TRUE(created.ok());

  EXPECT_EQ(service_.StartAuthorization(Admin("grace"), core::ProviderId("gitlab"), created->id)
                .error()
                .code,
            core::ErrorCode::kPermissionDenied);
  EXPECT_EQ(service_.Get(Admin("grace"), core::ProviderId("gitlab"), created->id).error().code,
            core::ErrorCode::kPermissionDenied);
}

TEST_F(IntegrationTrialServiceTest, AnExpiredTrialCannotStart) {
  auto created = service_.Create(Admin(), core::ProviderId("gitlab"), "", false);
  ASSERT_TRUE(created.ok());
  clock_.Advance(core::Seconds(601));

  EXPECT_EQ(
      service_.StartAuthorization(Admin(), core::ProviderId("gitlab"), created->id).error().code,
      core::ErrorCode::kBadRequest);
  trial_id_ = created->id;
  EXPECT_EQ(Find(Report(), kTrialReachedProvider).status, oauth::CheckStatus::kFail);
}

TEST_F(IntegrationTrialServiceTest, EveryStagePassesThenTheTokensAreRevokedAndNothingStored) {
  http_.Always(
      "GET", kProject,
      testing::JsonResponse(
          200, R"({"id":1,"http_url_to_repo":"https://gitlab.example.org/group/project.git",)"
               R"("visibility":"private","permissions":{"project_access":{"access_level":30}}})"));
  ScriptProvider();
  const StartedAuthorization started = Start("https://gitlab.example.org/group/project");

  auto completed = service_.CompleteAuthorization(Back(started));

  ASSERT_TRUE(completed.has_value());
  ASSERT_TRUE(completed->ok()) << completed->error().message;
  EXPECT_EQ((*completed)->redirect_url, "https://kb.example.org/#/admin?trial=" + trial_id_);
  const TrialReport report = Report();
  EXPECT_TRUE(report.done);
  for (const auto id : {kTrialReachedProvider, kTrialCameBack, kTrialCodeExchange, kTrialAccount,
                        kTrialRepository}) {
    EXPECT_EQ(Find(report, id).status, oauth::CheckStatus::kPass) << id << Find(report, id).detail;
  }
  EXPECT_NE(Find(report, kTrialAccount).detail.find("ada"), std::string::npos);
  EXPECT_EQ(Find(report, kTrialKept).status, oauth::CheckStatus::kSkip);
  EXPECT_EQ(http_.CountRequests(kRevoke), 1U);
  EXPECT_TRUE(store_.connections.ListForUser(core::UserId("ada"))->empty());
  for (const auto& check : report.checks) {
    EXPECT_EQ(check.detail.find("at-1"), std::string::npos);
    EXPECT_EQ(check.detail.find("the-code"), std::string::npos);
  }
  // The state is single use: a replay is not a trial's any more.
  EXPECT_FALSE(service_.CompleteAuthorization(Back(started)).has_value());
}

TEST_F(IntegrationTrialServiceTest, KeepStoresTheAdministratorsConnectionAndRevokesNothing) {
  ScriptProvider();
  const StartedAuthorization started = Start("", true);

  auto completed = service_.CompleteAuthorization(Back(started));

  ASSERT_TRUE(completed.has_value() && completed->ok());
  EXPECT_EQ(Find(Report(), kTrialKept).status, oauth::CheckStatus::kPass);
  EXPECT_EQ(Find(Report(), kTrialRepository).status, oauth::CheckStatus::kSkip);
  EXPECT_EQ(http_.CountRequests(kRevoke), 0U);
  auto mine = store_.connections.ListForUser(core::UserId("ada"));
  ASSERT_EQ(mine->size(), 1U);
  EXPECT_EQ(mine->front().status, core::ConnectionStatus::kConnected);
  EXPECT_EQ(mine->front().token->access_token.Reveal(), "at-1");
}

TEST_F(IntegrationTrialServiceTest, AnErrorCallbackNamesTheFix) {
  const StartedAuthorization started = Start();
  CallbackParameters params = Back(started);
  params.code.reset();
  params.error = "invalid_scope";
  params.error_description = "The requested scope is invalid, unknown, or malformed.";

  auto completed = service_.CompleteAuthorization(params);

  ASSERT_TRUE(completed.has_value() && completed->ok());
  const TrialReport report = Report();
  EXPECT_TRUE(report.done);
  const auto& came_back = Find(report, kTrialCameBack);
  EXPECT_EQ(came_back.status, oauth::CheckStatus::kFail);
  EXPECT_NE(came_back.detail.find("invalid_scope"), std::string::npos);
  EXPECT_NE(came_back.fix.find("scope"), std::string::npos);
  EXPECT_EQ(Find(report, kTrialCodeExchange).status, oauth::CheckStatus::kSkip);
  EXPECT_EQ(http_.CountRequests(kToken), 0U);
}

TEST_F(IntegrationTrialServiceTest, ADeclinedConsentSaysTheAdministratorDeclined) {
  const StartedAuthorization started = Start();
  CallbackParameters params = Back(started);
  params.code.reset();
  params.error = "access_denied";

  ASSERT_TRUE(service_.CompleteAuthorization(params).has_value());

  EXPECT_NE(Find(Report(), kTrialCameBack).fix.find("declined"), std::string::npos);
}

TEST_F(IntegrationTrialServiceTest, AFailedExchangeIsRecordedAndNothingIsStored) {
  http_.Enqueue(
      "POST", kToken,
      testing::JsonResponse(401, R"({"error":"invalid_client",)"
                                 R"("error_description":"Client authentication failed"})"));
  const StartedAuthorization started = Start("", true);

  ASSERT_TRUE(service_.CompleteAuthorization(Back(started)).has_value());

  const TrialReport report = Report();
  EXPECT_EQ(Find(report, kTrialCameBack).status, oauth::CheckStatus::kPass);
  EXPECT_EQ(Find(report, kTrialCodeExchange).status, oauth::CheckStatus::kFail);
  EXPECT_EQ(Find(report, kTrialKept).status, oauth::CheckStatus::kSkip);
  EXPECT_TRUE(store_.connections.ListForUser(core::UserId("ada"))->empty());
}

TEST_F(IntegrationTrialServiceTest, AnotherBrowserCannotCompleteTheTrial) {
  const StartedAuthorization started = Start();
  CallbackParameters params = Back(started);
  params.browser_binding = core::Secret("someone-else");

  ASSERT_TRUE(service_.CompleteAuthorization(params).has_value());

  EXPECT_EQ(Find(Report(), kTrialCameBack).status, oauth::CheckStatus::kFail);
  EXPECT_EQ(http_.CountRequests(kToken), 0U);
}

TEST_F(IntegrationTrialServiceTest, WaitingLongerThanThreeMinutesNamesGitLabsErrorPages) {
  static_cast<void>(Start());
  clock_.Advance(core::Seconds(179));
  // Until then a warning that already names the fixes: the administrator may have come back by
  // hand from the error page.
  const auto early = Find(Report(), kTrialCameBack);
  EXPECT_EQ(early.status, oauth::CheckStatus::kWarn);
  EXPECT_NE(early.fix.find(std::string("exactly ") + kCallback), std::string::npos);

  clock_.Advance(core::Seconds(2));

  const TrialReport report = Report();
  EXPECT_FALSE(report.done);
  const auto& came_back = Find(report, kTrialCameBack);
  EXPECT_EQ(came_back.status, oauth::CheckStatus::kFail);
  EXPECT_NE(came_back.fix.find("\"The redirect URI included is not valid.\""), std::string::npos);
  EXPECT_NE(came_back.fix.find(std::string("exactly ") + kCallback), std::string::npos);
  EXPECT_NE(came_back.fix.find("\"The requested scope is invalid, unknown, or malformed.\""),
            std::string::npos);
  EXPECT_NE(came_back.fix.find("Client authentication failed"), std::string::npos);
}

TEST_F(IntegrationTrialServiceTest, AConnectsStateIsNotATrials) {
  CallbackParameters params;
  params.state = "not-a-trial";
  EXPECT_FALSE(service_.CompleteAuthorization(params).has_value());
}

}  // namespace
}  // namespace keybridge::service
