#include "routes/api_routes.h"

#include "routes/git_credentials_routes.h"
#include "routes/health_routes.h"
#include "routes/provider_routes.h"
#include "routes/repository_routes.h"
#include "routes/session_routes.h"

namespace keybridge::routes {

void AddApiRoutes(http::Router& router, const ApiServices& services) {
  AddHealthRoutes(router, services.database_ping);
  AddSpecRoute(router);
  AddProviderRoutes(router, services.providers, services.provider_connection_count);
  if (services.provider_checks != nullptr) {
    AddProviderCheckRoute(router, *services.provider_checks);
  }
  AddConnectionRoutes(router, services.connections, services.tokens, services.connection_options);
  AddRepositoryRoutes(router, services.repositories);
  if (services.sessions != nullptr) {
    AddSessionRoutes(router, *services.sessions);
  }
  if (services.browser_sessions != nullptr) {
    AddAuthRoutes(router, *services.browser_sessions, services.browser_login,
                  services.auth_options);
  }
  if (services.git_credentials != nullptr) {
    AddGitCredentialsRoutes(router, *services.git_credentials);
  }
}

}  // namespace keybridge::routes
