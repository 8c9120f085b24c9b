#include "service/connection_service.h"

#include <gtest/gtest.h>

#include <thread>

#include "core/url.h"
#include "crypto/system_random.h"
#include "oauth/form.h"
#include "support/fake_clock.h"
#include "support/in_memory_repositories.h"
#include "support/scripted_http_client.h"

namespace keybridge::service {
namespace {

constexpr const char* kGitLabToken = "https://gitlab.example.org/oauth/token";
constexpr const char* kGitHubToken = "https://github.com/login/oauth/access_token";

std::string QueryValue(const std::string& url, const std::string& key) {
  const auto q = url.find('?');
  std::string query = q == std::string::npos ? "" : url.substr(q + 1);
  std::size_t start = 0;
  while (start <= query.size()) {
    auto end = std::min(query.find('&', start), query.size());
    auto pair = query.substr(start, end - start);
    if (pair.rfind(key + "=", 0) == 0) {
      return core::PercentDecode(pair.substr(key.size() + 1), true).value_or("");
    }
    start = end + 1;
  }
  return "";
}

core::Provider Provider(std::string id, core::ProviderKind kind, std::string url) {
  core::Provider p;
  p.id = core::ProviderId(id);
  p.kind = kind;
  p.client_id = "cid";
  p.client_secret = core::Secret("csecret");
  p.display_name = std::move(id);
  p.url = std::move(url);
  p.app_slug = "app";
  p.use_pkce = kind == core::ProviderKind::kGitLab;
  return p;
}

class ConnectionServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        providers_
            .Insert(Provider("gitlab", core::ProviderKind::kGitLab, "https://gitlab.example.org"))
            .ok());
    ASSERT_TRUE(
        providers_.Insert(Provider("github", core::ProviderKind::kGitHub, "https://github.com"))
            .ok());
  }

  static core::Caller User(const std::string& id) { return core::Caller::User(core::UserId(id)); }

  CallbackParameters CallbackFor(const StartedAuthorization& started, const std::string& code) {
    CallbackParameters p;
    p.state = QueryValue(started.redirect_url, "state");
    p.code = core::Secret(code);
    p.browser_binding = started.browser_binding;
    return p;
  }

  // A flow to https://kb.example.org/done that the provider ends with invalid_scope and this
  // error_uri.
  core::Result<CompletedAuthorization> StartAndFail(const std::string& error_uri) {
    auto started = service_.StartAuthorization(User("alice"), core::ProviderId("gitlab"),
                                               "https://kb.example.org/done");
    EXPECT_TRUE(started.ok());
    auto params = CallbackFor(*started, "unused");
    params.error = "invalid_scope";
    params.error_uri = error_uri;
    return service_.CompleteAuthorization(params);
  }

  void ScriptGitLabToken(const std::string& access) {
    http_.Enqueue("POST", kGitLabToken,
                  testing::JsonResponse(200, R"({"access_token":")" + access
                                                 + R"(","token_type":"Bearer","expires_in":7200,)"
                                                   R"("refresh_token":"r-)"
                                                 + access + R"(","scope":"api"})"));
  }

  testing::FakeClock clock_;
  crypto::SystemRandom random_;
  testing::InMemoryProviderRepository providers_;
  // Wired like the database: a connection's delete, and a provider's invalidation, drop flows.
  testing::InMemoryConnectionRepository connections_{
      [this](const core::ConnectionId& id) { flows_.DeleteForConnection(id); },
      [this](const core::ProviderId& id) {
        flows_.DeleteForProvider(id);
      }};
  testing::InMemoryAuthorizationFlowRepository flows_;
  testing::ScriptedHttpClient http_;
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
  ConnectionService service_{connections_,
                             providers_,
                             flows_,
                             gateway_,
                             tokens_,
                             random_,
                             clock_,
                             ConnectionServiceOptions{core::PublicUrls("https://kb.example.org"),
                                                      {"https://renku.example.org"}}};
};

TEST_F(ConnectionServiceTest, AuthorizeRedirectsWithStateAndPkceAndCreatesAPendingConnection) {
  auto started = service_.StartAuthorization(User("alice"), core::ProviderId("gitlab"),
                                             "https://kb.example.org/integrations");

  ASSERT_TRUE(started.ok()) << started.error().message;
  EXPECT_EQ(started->redirect_url.rfind("https://gitlab.example.org/oauth/authorize?", 0), 0U);
  const std::string state = QueryValue(started->redirect_url, "state");
  EXPECT_GE(state.size(), 43U);  // 256 bits, base64url
  EXPECT_EQ(QueryValue(started->redirect_url, "code_challenge_method"), "S256");
  EXPECT_EQ(QueryValue(started->redirect_url, "redirect_uri"),
            "https://kb.example.org/api/data/oauth2/callback");
  EXPECT_EQ(started->cookie_name, ConnectionService::FlowCookieName(state));
  auto list = service_.List(User("alice"));
  ASSERT_EQ(list->size(), 1U);
  EXPECT_EQ(list->at(0).status, core::ConnectionStatus::kPending);
}

TEST_F(ConnectionServiceTest, CallbackStoresTheTokenAndRedirectsToNextUrl) {
  auto started = service_.StartAuthorization(User("alice"), core::ProviderId("gitlab"),
                                             "https://kb.example.org/done?x=1");
  ScriptGitLabToken("tok1");

  auto done = service_.CompleteAuthorization(CallbackFor(*started, "code1"));

  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->redirect_url, "https://kb.example.org/done?x=1");
  auto list = service_.List(User("alice"));
  EXPECT_EQ(list->at(0).status, core::ConnectionStatus::kConnected);
  EXPECT_EQ(list->at(0).token->access_token.Reveal(), "tok1");
  const auto body = http_.Requests().at(0).body;
  EXPECT_NE(body.find("code_verifier="), std::string::npos);
  EXPECT_NE(body.find("grant_type=authorization_code"), std::string::npos);
}

TEST_F(ConnectionServiceTest, StateIsSingleUse) {
  auto started = service_.StartAuthorization(User("alice"), core::ProviderId("gitlab"), "");
  ScriptGitLabToken("tok1");
  ASSERT_TRUE(service_.CompleteAuthorization(CallbackFor(*started, "code1")).ok());

  auto replay = service_.CompleteAuthorization(CallbackFor(*started, "code1"));

  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().code, core::ErrorCode::kPermissionDenied);
  EXPECT_EQ(http_.CountRequests(kGitLabToken), 1U);
}

TEST_F(ConnectionServiceTest, StateExpiresAfterTenMinutes) {
  auto started = service_.StartAuthorization(User("alice"), core::ProviderId("gitlab"), "");
  clock_.Advance(core::Seconds(601));

  auto late = service_.CompleteAuthorization(CallbackFor(*started, "code1"));

  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, core::ErrorCode::kBadRequest);
  EXPECT_NE(late.error().message.find("expired"), std::string::npos);
  EXPECT_TRUE(http_.Requests().empty());
}

TEST_F(ConnectionServiceTest, UnknownAndMissingStatesAreRejected) {
  CallbackParameters unknown;
  unknown.state = "made-up";
  unknown.code = core::Secret("c");
  EXPECT_EQ(service_.CompleteAuthorization(unknown).error().code,
            core::ErrorCode::kPermissionDenied);
  EXPECT_EQ(service_.CompleteAuthorization(CallbackParameters{}).error().code,
            core::ErrorCode::kPermissionDenied);
}

TEST_F(ConnectionServiceTest, CallbackFromAnotherBrowserIsRefused) {
  auto started = service_.StartAuthorization(User("alice"), core::ProviderId("gitlab"), "");
  auto params = CallbackFor(*started, "code1");
  params.browser_binding = core::Secret("someone-elses-cookie");

  auto swapped = service_.CompleteAuthorization(params);

  ASSERT_FALSE(swapped.ok());
  EXPECT_EQ(swapped.error().code, core::ErrorCode::kPermissionDenied);
  EXPECT_TRUE(http_.Requests().empty());
  EXPECT_EQ(service_.List(User("alice"))->at(0).status, core::ConnectionStatus::kPending);
}

TEST_F(ConnectionServiceTest, CallbackWithoutTheCookieIsRefused) {
  auto started = service_.StartAuthorization(User("alice"), core::ProviderId("gitlab"), "");
  auto params = CallbackFor(*started, "code1");
  params.browser_binding.reset();

  EXPECT_EQ(service_.CompleteAuthorization(params).error().code,
            core::ErrorCode::kPermissionDenied);
}

TEST_F(ConnectionServiceTest, CallbackCompletedByAnotherSignedInUserIsRefused) {
  auto started = service_.StartAuthorization(User("mallory"), core::ProviderId("gitlab"), "");
  auto params = CallbackFor(*started, "victims-code");
  params.caller = User("alice");

  EXPECT_EQ(service_.CompleteAuthorization(params).error().code,
            core::ErrorCode::kPermissionDenied);
  EXPECT_TRUE(http_.Requests().empty());
}

TEST_F(ConnectionServiceTest, TheCodeGoesOnlyToTheProviderTheFlowWasStartedFor) {
  auto github_flow = service_.StartAuthorization(User("alice"), core::ProviderId("github"), "");
  ASSERT_TRUE(service_.StartAuthorization(User("alice"), core::ProviderId("gitlab"), "").ok());
  http_.Enqueue("POST", kGitHubToken,
                testing::JsonResponse(200, R"({"error":"bad_verification_code"})"));

  // A code issued by GitLab delivered with the GitHub flow's state.
  auto result = service_.CompleteAuthorization(CallbackFor(*github_flow, "gitlab-code"));

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(http_.CountRequests(kGitHubToken), 1U);
  EXPECT_EQ(http_.CountRequests(kGitLabToken), 0U);
  const auto connections = service_.List(User("alice"));
  for (const auto& c : *connections) {
    EXPECT_EQ(c.status, core::ConnectionStatus::kPending) << c.provider_id;
  }
}

TEST_F(ConnectionServiceTest, NextUrlMustBeSameOriginOrAllowListed) {
  for (const char* bad : {"https://evil.example.com/", "//evil.example.com", "javascript:alert(1)",
                          "https://kb.example.org.evil.com/", "http://kb.example.org/x",
                          "https://user@kb.example.org/"}) {
    auto r = service_.StartAuthorization(User("alice"), core::ProviderId("gitlab"), bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, core::ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(service_
                  .StartAuthorization(User("alice"), core::ProviderId("gitlab"),
                                      "https://renku.example.org/x")
                  .ok());
  EXPECT_TRUE(
      service_
          .StartAuthorization(User("alice"), core::ProviderId("gitlab"), "https://kb.example.org/")
          .ok());
}

TEST_F(ConnectionServiceTest, UnknownProviderIs404AndAnonymousIs401) {
  EXPECT_EQ(service_.StartAuthorization(User("alice"), core::ProviderId("nope"), "").error().code,
            core::ErrorCode::kNotFound);
  EXPECT_EQ(service_.StartAuthorization(core::Caller::Anonymous(), core::ProviderId("gitlab"), "")
                .error()
                .code,
            core::ErrorCode::kUnauthenticated);
}

TEST_F(ConnectionServiceTest, ReconnectKeepsServingTheOldTokenUntilTheNewOneArrives) {
  auto first = service_.StartAuthorization(User("alice"), core::ProviderId("gitlab"), "");
  ScriptGitLabToken("old");
  ASSERT_TRUE(service_.CompleteAuthorization(CallbackFor(*first, "c1")).ok());
  const core::ConnectionId id = service_.List(User("alice"))->at(0).id;

  auto second = service_.StartAuthorization(User("alice"), core::ProviderId("gitlab"), "");
  ASSERT_TRUE(second.ok());

  auto during = tokens_.FreshConnection(User("alice"), id, core::Seconds(0));
  ASSERT_TRUE(during.ok());
  EXPECT_EQ(during->token->access_token.Reveal(), "old");
  ScriptGitLabToken("new");
  ASSERT_TRUE(service_.CompleteAuthorization(CallbackFor(*second, "c2")).ok());
  EXPECT_EQ(
      tokens_.FreshConnection(User("alice"), id, core::Seconds(0))->token->access_token.Reveal(),
      "new");
  EXPECT_EQ(service_.List(User("alice"))->size(), 1U) << "the connection id is stable";
}

TEST_F(ConnectionServiceTest, ProviderErrorRedirectsWithoutCodeAndKeepsTheOldToken) {
  auto first = service_.StartAuthorization(User("alice"), core::ProviderId("gitlab"), "");
  ScriptGitLabToken("old");
  ASSERT_TRUE(service_.CompleteAuthorization(CallbackFor(*first, "c1")).ok());
  auto second = service_.StartAuthorization(User("alice"), core::ProviderId("gitlab"),
                                            "https://kb.example.org/done?tab=1");
  auto params = CallbackFor(*second, "should-not-be-forwarded");
  params.error = "access_denied";
  params.error_description = "The resource owner or authorization server denied the request.";

  auto result = service_.CompleteAuthorization(params);

  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->redirect_url.rfind("https://kb.example.org/done?tab=1&error=access_denied"
                                       "&error_description=",
                                       0),
            0U);
  EXPECT_EQ(result->redirect_url.find("should-not-be-forwarded"), std::string::npos);
  EXPECT_EQ(result->redirect_url.find("state="), std::string::npos);
  auto c = service_.List(User("alice"))->at(0);
  EXPECT_EQ(c.status, core::ConnectionStatus::kConnected);
  EXPECT_EQ(c.token->access_token.Reveal(), "old");
}

// Renku parity: the error redirect carries the provider's error_uri and iss, and only an
// http(s) error_uri.
TEST_F(ConnectionServiceTest, ProviderErrorRedirectCarriesErrorUriAndIssAsRenkuDoes) {
  auto started = service_.StartAuthorization(User("alice"), core::ProviderId("gitlab"),
                                             "https://kb.example.org/done");
  auto params = CallbackFor(*started, "unused");
  params.error = "invalid_scope";
  params.error_uri = "https://gitlab.example.org/help/oauth";
  params.iss = "https://gitlab.example.org";
  auto script = StartAndFail("javascript:alert(1)");

  auto result = service_.CompleteAuthorization(params);

  ASSERT_TRUE(result.ok());
  EXPECT_NE(result->redirect_url.find(
                "&error_uri=https%3A%2F%2Fgitlab.example.org%2Fhelp%2Foauth&iss=https%3A%2F%2F"
                "gitlab.example.org"),
            std::string::npos)
      << result->redirect_url;
  ASSERT_TRUE(script.ok());
  EXPECT_EQ(script->redirect_url.find("error_uri"), std::string::npos) << script->redirect_url;
}

TEST_F(ConnectionServiceTest, ConcurrentAuthorizeCallsShareOneConnection) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&] {
      ok += service_.StartAuthorization(User("alice"), core::ProviderId("gitlab"), "").ok() ? 1 : 0;
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(ok.load(), 20);
  EXPECT_EQ(service_.List(User("alice"))->size(), 1U);
}

TEST_F(ConnectionServiceTest, DisconnectRevokesThenDeletesEvenIfRevocationFails) {
  auto started = service_.StartAuthorization(User("alice"), core::ProviderId("gitlab"), "");
  ScriptGitLabToken("tok");
  ASSERT_TRUE(service_.CompleteAuthorization(CallbackFor(*started, "c")).ok());
  const core::ConnectionId id = service_.List(User("alice"))->at(0).id;
  http_.Enqueue("POST", "https://gitlab.example.org/oauth/revoke",
                core::MakeError(core::ErrorCode::kUnavailable, "down"));

  EXPECT_EQ(service_.Delete(User("bob"), id).error().code, core::ErrorCode::kNotFound);
  ASSERT_TRUE(service_.Delete(User("alice"), id).ok());

  EXPECT_EQ(http_.CountRequests("https://gitlab.example.org/oauth/revoke"), 1U);
  EXPECT_TRUE(service_.List(User("alice"))->empty());
}

TEST_F(ConnectionServiceTest, InvalidatingForARetargetDropsTokensThenRevokesAtTheOldProvider) {
  for (const std::string user : {"alice", "bob"}) {
    auto started = service_.StartAuthorization(User(user), core::ProviderId("gitlab"), "");
    ScriptGitLabToken("tok-" + user);
    ASSERT_TRUE(service_.CompleteAuthorization(CallbackFor(*started, "c")).ok());
  }
  auto pending = service_.StartAuthorization(User("carol"), core::ProviderId("gitlab"), "");
  ASSERT_TRUE(pending.ok());
  http_.Always("POST", "https://gitlab.example.org/oauth/revoke", testing::JsonResponse(200, "{}"));
  const core::Provider before = *providers_.Find(core::ProviderId("gitlab"));

  auto invalidated = service_.InvalidateConnections(before, "the URL changed; reconnect.");

  ASSERT_TRUE(invalidated.ok()) << invalidated.error().message;
  EXPECT_EQ(*invalidated, 2);  // carol's pending connection had nothing to lose
  EXPECT_EQ(http_.CountRequests("https://gitlab.example.org/oauth/revoke"), 2U);
  for (const std::string user : {"alice", "bob"}) {
    const core::Connection c = service_.List(User(user))->at(0);
    EXPECT_EQ(c.status, core::ConnectionStatus::kInvalidCredentials);
    EXPECT_EQ(c.status_reason, "the URL changed; reconnect.");
    EXPECT_FALSE(c.token.has_value());
  }
  // The pending flow's code must not be exchanged at the new destination.
  auto completed = service_.CompleteAuthorization(CallbackFor(*pending, "late-code"));
  ASSERT_FALSE(completed.ok());
  EXPECT_EQ(http_.CountRequests(kGitLabToken), 2U);
}

// --- data connectors: connect, account and disconnect take dropbox, google and zenodo ---

core::Provider DataConnector(core::ProviderKind kind, std::string url) {
  core::Provider p = Provider(std::string(core::ToString(kind)), kind, std::move(url));
  p.app_slug.clear();
  p.use_pkce = kind != core::ProviderKind::kZenodo;
  return p;
}

TEST_F(ConnectionServiceTest, DropboxConnectsOfflineReadsTheAccountAndRevokesOnDisconnect) {
  ASSERT_TRUE(
      providers_.Insert(DataConnector(core::ProviderKind::kDropbox, "https://www.dropbox.com"))
          .ok());
  auto started = service_.StartAuthorization(User("alice"), core::ProviderId("dropbox"), "");
  ASSERT_TRUE(started.ok()) << started.error().message;
  EXPECT_EQ(started->redirect_url.rfind("https://www.dropbox.com/oauth2/authorize?", 0), 0U);
  EXPECT_EQ(QueryValue(started->redirect_url, "token_access_type"), "offline");
  EXPECT_EQ(QueryValue(started->redirect_url, "code_challenge_method"), "S256");
  http_.Enqueue("POST", "https://api.dropboxapi.com/oauth2/token",
                testing::JsonResponse(200, R"({"access_token":"sl.a","token_type":"bearer",)"
                                           R"("expires_in":14400,"refresh_token":"r1",)"
                                           R"("uid":"7","account_id":"dbid:7"})"));
  ASSERT_TRUE(service_.CompleteAuthorization(CallbackFor(*started, "code")).ok());
  const core::ConnectionId id = service_.List(User("alice"))->at(0).id;
  EXPECT_NE(http_.Requests().back().body.find("client_secret=csecret"), std::string::npos);
  http_.Always(
      "POST", "https://api.dropboxapi.com/2/users/get_current_account",
      testing::JsonResponse(200, R"({"account_id":"dbid:7","email":"alice@example.com"})"));
  http_.Always("POST", "https://api.dropboxapi.com/2/auth/token/revoke",
               testing::JsonResponse(200, "null"));

  auto account = service_.Account(User("alice"), id);
  ASSERT_TRUE(service_.Delete(User("alice"), id).ok());

  ASSERT_TRUE(account.ok()) << account.error().message;
  EXPECT_EQ(account->username, "alice@example.com");
  const core::HttpRequest revoke = http_.Requests().back();
  EXPECT_EQ(revoke.url, "https://api.dropboxapi.com/2/auth/token/revoke");
  EXPECT_EQ(revoke.body, "");
  EXPECT_TRUE(service_.List(User("alice"))->empty());
}

TEST_F(ConnectionServiceTest, GoogleAsksForConsentAndRevokesTheRefreshToken) {
  ASSERT_TRUE(
      providers_.Insert(DataConnector(core::ProviderKind::kGoogle, "https://accounts.google.com"))
          .ok());
  auto started = service_.StartAuthorization(User("alice"), core::ProviderId("google"), "");
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(QueryValue(started->redirect_url, "access_type"), "offline");
  EXPECT_EQ(QueryValue(started->redirect_url, "prompt"), "consent");
  http_.Enqueue("POST", "https://oauth2.googleapis.com/token",
                testing::JsonResponse(200, R"({"access_token":"ya29.a","expires_in":3599,)"
                                           R"("refresh_token":"1//r","token_type":"Bearer"})"));
  ASSERT_TRUE(service_.CompleteAuthorization(CallbackFor(*started, "code")).ok());
  http_.Always("POST", "https://oauth2.googleapis.com/revoke", testing::JsonResponse(200, "{}"));

  ASSERT_TRUE(service_.Delete(User("alice"), service_.List(User("alice"))->at(0).id).ok());

  EXPECT_EQ(http_.Requests().back().body, "token=1%2F%2Fr");
}

TEST_F(ConnectionServiceTest, ZenodoDisconnectsLocallyOnly) {
  ASSERT_TRUE(
      providers_.Insert(DataConnector(core::ProviderKind::kZenodo, "https://zenodo.org")).ok());
  auto started = service_.StartAuthorization(User("alice"), core::ProviderId("zenodo"), "");
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(started->redirect_url.rfind("https://zenodo.org/oauth/authorize?", 0), 0U);
  EXPECT_EQ(QueryValue(started->redirect_url, "code_challenge"), "");
  http_.Enqueue("POST", "https://zenodo.org/oauth/token",
                testing::JsonResponse(200, R"({"access_token":"z","token_type":"Bearer",)"
                                           R"("expires_in":3600,"refresh_token":"zr",)"
                                           R"("scope":"deposit:write","user":{"id":"5"}})"));
  ASSERT_TRUE(service_.CompleteAuthorization(CallbackFor(*started, "code")).ok());
  const std::size_t sent = http_.Requests().size();

  ASSERT_TRUE(service_.Delete(User("alice"), service_.List(User("alice"))->at(0).id).ok());

  EXPECT_EQ(http_.Requests().size(), sent);
  EXPECT_TRUE(service_.List(User("alice"))->empty());
}

}  // namespace
}  // namespace keybridge::service
