// Keeps api/openapi.json true: every route the server registers must be documented there, with
// its method and who may call it, and the document must not describe routes that do not exist.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "core/provider.h"
#include "core/text.h"
#include "crypto/system_random.h"
#include "routes/api_routes.h"
#include "routes/health_routes.h"
#include "support/fake_clock.h"
#include "support/in_memory_repositories.h"
#include "support/scripted_http_client.h"

namespace keybridge::routes {
namespace {

// The documented `security` of an operation with this access level: `[]` needs no credentials;
// `{}` accepts a request without them; bearer (OIDC or API token), cookie (browser session)
// and sessionToken name the credentials that count.
nlohmann::json SecurityFor(Access access) {
  const nlohmann::json bearer = {{"bearer", nlohmann::json::array()}};
  const nlohmann::json cookie = {{"cookie", nlohmann::json::array()}};
  const nlohmann::json session = {{"sessionToken", nlohmann::json::array()}};
  switch (access) {
    case Access::kPublic:
    case Access::kAnonymous:
    case Access::kOAuthClient:  // the credential is the form's refresh_token, not a header
      return nlohmann::json::array();
    case Access::kAnonymousOrSession:
      return {nlohmann::json::object(), session};
    case Access::kUser:
    case Access::kAdmin:
      return {bearer, cookie};
    case Access::kUserOrSession:
      return {bearer, cookie, session};
  }
  return nullptr;
}

TEST(OpenApiConformance, EveryRegisteredRouteIsDocumentedAndViceVersa) {
  testing::InMemoryProviderRepository repo;
  testing::InMemoryConnectionRepository connection_repo;
  testing::InMemoryAuthorizationFlowRepository flow_repo;
  testing::ScriptedHttpClient http;
  testing::FakeClock clock;
  crypto::SystemRandom random;
  service::ProviderService providers(repo, clock);
  service::ProviderGateway gateway(http, clock);
  service::ProviderMatcher matcher(repo);
  service::SessionScopePolicy scope(connection_repo, matcher);
  service::TokenService tokens(connection_repo, repo, gateway, clock, scope, {});
  service::ConnectionService connections(connection_repo, repo, flow_repo, gateway, tokens, random,
                                         clock, {});
  service::RepositoryService repositories(matcher, connection_repo, tokens, {}, http, http);
  testing::InMemorySessionTokenRepository session_repo;
  service::SessionTokenService sessions(session_repo, scope, random, clock, {});
  service::GitCredentialService git_credentials(repo, connection_repo, matcher, tokens, {});
  service::ImageService images(matcher, connection_repo, tokens, {}, http, http);
  service::ProviderCheckService provider_checks(repo, http, clock, {});
  testing::InMemoryIntegrationTrialRepository trial_repo;
  service::IntegrationTrialService trials(trial_repo, repo, connection_repo, gateway, http, random,
                                          clock, {});
  testing::InMemoryApiTokenRepository api_token_repo;
  identity::ApiTokenAuthenticator local_tokens(api_token_repo, clock);
  testing::InMemoryBrowserSessionRepository browser_repo;
  service::BrowserSessionService browser_sessions(browser_repo, local_tokens, random, clock);
  identity::SessionTokenAuthenticator session_authenticator(session_repo, clock);
  auto keys = crypto::KeyRing::FromKeys({{"0123abcd", std::string(32, 'k')}}, random);
  identity::RefreshHandles handles(*keys, session_authenticator, clock);
  service::TokenEndpointService token_endpoint(tokens, repo, handles, core::PublicUrls(), clock);
  testing::InMemoryAuditRepository audit_repo;
  service::AuditLog audit(audit_repo, clock);
  RequestPolicy policy([](std::string_view, std::string_view) { return core::Caller(); }, {});
  RouteTable routes(policy);
  AddApiRoutes(
      routes, ApiServices{.providers = providers,
                          .connections = connections,
                          .tokens = tokens,
                          .repositories = repositories,
                          .sessions = sessions,
                          .git_credentials = git_credentials,
                          .images = images,
                          .browser_sessions = browser_sessions,
                          .provider_checks = provider_checks,
                          .trials = trials,
                          .token_endpoint = token_endpoint,
                          .audit = audit,
                          .readiness =
                              [] { return core::Result<nlohmann::json>(nlohmann::json::object()); },
                          .metrics =
                              [] {
                                return std::string();
                              }});
  const auto spec = nlohmann::json::parse(OpenApiDocument());

  std::set<std::pair<std::string, std::string>> registered;
  for (const RouteSpec& route : routes.Routes()) {
    registered.insert({core::AsciiLower(route.method), route.pattern});
    ASSERT_TRUE(spec["paths"].contains(route.pattern)) << route.pattern << " is not in the spec";
    ASSERT_TRUE(spec["paths"][route.pattern].contains(core::AsciiLower(route.method)))
        << route.method << " " << route.pattern << " is not in the spec";
    const auto& operation = spec["paths"][route.pattern][core::AsciiLower(route.method)];
    EXPECT_EQ(operation.value("x-keybridge-access", ""), ToString(route.policy.access))
        << route.method << " " << route.pattern;
    EXPECT_EQ(operation.value("security", nlohmann::json()), SecurityFor(route.policy.access))
        << route.method << " " << route.pattern;
  }
  // Every operation states its access itself: no document-wide default to forget.
  EXPECT_FALSE(spec.contains("security"));
  for (const auto& [path, item] : spec["paths"].items()) {
    for (const auto& [method, operation] : item.items()) {
      if (method == "parameters") {
        continue;
      }
      EXPECT_TRUE(registered.count({method, path}))
          << method << " " << path << " is documented but not served";
    }
  }
  EXPECT_GE(registered.size(), 30U);
}

TEST(OpenApiConformance, TheProviderKindEnumIsEveryKindTheServerParses) {
  const auto spec = nlohmann::json::parse(OpenApiDocument());
  nlohmann::json kinds = nlohmann::json::array();
  for (const core::ProviderKind kind : core::kAllProviderKinds) {
    kinds.push_back(std::string(core::ToString(kind)));
  }
  EXPECT_EQ(kinds,
            nlohmann::json({"gitlab", "github", "generic_oidc", "dropbox", "google", "zenodo"}));
  for (const char* schema : {"Provider", "ProviderPost", "ProviderPatch"}) {
    EXPECT_EQ(spec["components"]["schemas"][schema]["properties"]["kind"]["enum"], kinds) << schema;
  }
}

}  // namespace
}  // namespace keybridge::routes
