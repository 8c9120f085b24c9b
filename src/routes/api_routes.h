// AddApiRoutes: registers every API route keybridge serves, in one place, so the application and
// the OpenAPI conformance test see exactly the same route table.
#pragma once

#include <functional>
#include <optional>

#include "core/rate_limiter.h"
#include "core/result.h"
#include "routes/audit_routes.h"
#include "routes/auth_routes.h"
#include "routes/connection_routes.h"
#include "routes/health_routes.h"
#include "routes/provider_routes.h"
#include "routes/route_table.h"
#include "service/browser_login_service.h"
#include "service/browser_session_service.h"
#include "service/connection_service.h"
#include "service/git_credential_service.h"
#include "service/image_service.h"
#include "service/integration_trial_service.h"
#include "service/provider_check_service.h"
#include "service/provider_service.h"
#include "service/repository_service.h"
#include "service/session_token_service.h"
#include "service/token_endpoint_service.h"
#include "service/token_service.h"

namespace keybridge::routes {

struct ApiServices {
  service::ProviderService& providers;
  service::ConnectionService& connections;
  service::TokenService& tokens;
  service::RepositoryService& repositories;
  service::SessionTokenService& sessions;
  service::GitCredentialService& git_credentials;
  service::ImageService& images;
  service::BrowserSessionService& browser_sessions;
  service::ProviderCheckService& provider_checks;
  service::IntegrationTrialService& trials;  // "Try connecting"
  service::TokenEndpointService& token_endpoint;
  service::AuditLog& audit;  // GET /api/data/audit and /api/data/user/audit
  Readiness readiness;
  std::function<std::string()> metrics;  // the Prometheus exposition for GET /metrics
  core::RateLimiter* repository_check_limiter = nullptr;  // per client address; null: none
  core::RateLimiter* image_check_limiter = nullptr;       // per client address; null: none
  // Rations anonymous OIDC sign-in starts (each stores a pending flow) per client address.
  core::RateLimiter* sign_in_limiter = nullptr;
  // Absent unless OIDC sign-in is configured; its routes then answer 404.
  std::optional<std::reference_wrapper<service::BrowserLoginService>> browser_login{};
  ConnectionRouteOptions connection_options{};
  AuthRouteOptions auth_options{};
  // Admins see connection_count on GET of one integration when set.
  ConnectionCounter provider_connection_count{};
};

// Everything in `services` must outlive the route table.
void AddApiRoutes(RouteTable& routes, const ApiServices& services);

}  // namespace keybridge::routes
