// Keeps api/openapi.json true: every route the server registers must be documented there, with
// its method, and the document must not describe routes that do not exist.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "core/text.h"
#include "crypto/system_random.h"
#include "routes/api_routes.h"
#include "routes/health_routes.h"
#include "support/fake_clock.h"
#include "support/in_memory_repositories.h"
#include "support/scripted_http_client.h"

namespace keybridge::routes {
namespace {

TEST(OpenApiConformance, EveryRegisteredRouteIsDocumentedAndViceVersa) {
  testing::InMemoryProviderRepository repo;
  testing::InMemoryConnectionRepository connection_repo;
  testing::InMemoryAuthorizationFlowRepository flow_repo;
  testing::ScriptedHttpClient http;
  testing::FakeClock clock;
  crypto::SystemRandom random;
  service::ProviderService providers(repo, clock);
  service::ProviderGateway gateway(http, clock);
  service::TokenService tokens(connection_repo, repo, gateway, clock, {});
  service::ConnectionService connections(connection_repo, repo, flow_repo, gateway, tokens, random,
                                         clock, {});
  service::RepositoryService repositories(repo, connection_repo, tokens, http, http);
  testing::InMemorySessionTokenRepository session_repo;
  service::SessionTokenService sessions(session_repo, connection_repo, tokens, random, clock, {});
  service::GitCredentialService git_credentials(repo, connection_repo, tokens);
  service::ProviderCheckService provider_checks(repo, http, clock, {});
  http::Router router;
  ApiServices services{
      providers, connections, tokens, repositories, [] { return core::OkStatus(); }, {}};
  services.sessions = &sessions;
  services.git_credentials = &git_credentials;
  testing::InMemoryApiTokenRepository api_token_repo;
  identity::LocalTokenAuthenticator local_tokens(api_token_repo, clock);
  testing::InMemoryBrowserSessionRepository browser_repo;
  service::BrowserSessionService browser_sessions(browser_repo, local_tokens, random, clock);
  services.browser_sessions = &browser_sessions;
  services.provider_checks = &provider_checks;
  AddApiRoutes(router, services);
  const auto spec = nlohmann::json::parse(OpenApiDocument());

  std::set<std::pair<std::string, std::string>> registered;
  for (const auto& route : router.Routes()) {
    registered.insert({core::AsciiLower(route.method), route.pattern});
    ASSERT_TRUE(spec["paths"].contains(route.pattern)) << route.pattern << " is not in the spec";
    EXPECT_TRUE(spec["paths"][route.pattern].contains(core::AsciiLower(route.method)))
        << route.method << " " << route.pattern << " is not in the spec";
  }
  for (const auto& [path, item] : spec["paths"].items()) {
    for (const auto& [method, operation] : item.items()) {
      if (method == "parameters") {
        continue;
      }
      EXPECT_TRUE(registered.count({method, path}))
          << method << " " << path << " is documented but not served";
    }
  }
  EXPECT_GE(registered.size(), 8U);
}

}  // namespace
}  // namespace keybridge::routes
