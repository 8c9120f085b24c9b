#include "routes/api_routes.h"

#include "routes/git_credentials_routes.h"
#include "routes/health_routes.h"
#include "routes/image_routes.h"
#include "routes/integration_trial_routes.h"
#include "routes/provider_routes.h"
#include "routes/repository_routes.h"
#include "routes/session_routes.h"
#include "routes/token_endpoint_routes.h"

namespace keybridge::routes {

void AddApiRoutes(RouteTable& routes, const ApiServices& services) {
  AddHealthRoutes(routes, services.readiness);
  AddMetricsRoute(routes, services.metrics);
  AddSpecRoute(routes);
  AddProviderRoutes(routes, services.providers, services.provider_connection_count,
                    &services.connections);
  AddProviderCheckRoute(routes, services.provider_checks);
  AddIntegrationTrialRoutes(routes, services.trials);
  ConnectionRouteOptions connection_options = services.connection_options;
  connection_options.trials = &services.trials;
  AddConnectionRoutes(routes, services.connections, services.tokens, connection_options);
  AddRepositoryRoutes(routes, services.repositories, services.repository_check_limiter);
  AddSessionRoutes(routes, services.sessions);
  AddAuthRoutes(routes, services.browser_sessions, services.browser_login, services.auth_options);
  if (services.sign_in_limiter != nullptr) {
    routes.LimitPerClient("GET", "/api/data/auth/login", *services.sign_in_limiter);
  }
  AddGitCredentialsRoutes(routes, services.git_credentials);
  AddImageRoutes(routes, services.images, services.image_check_limiter);
  AddTokenEndpointRoutes(routes, services.token_endpoint);
  AddAuditRoutes(routes, services.audit);
}

}  // namespace keybridge::routes
