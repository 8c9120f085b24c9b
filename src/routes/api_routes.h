// AddApiRoutes: registers every route keybridge serves, in one place, so the application and the
// OpenAPI conformance test see exactly the same route table.
#pragma once

#include <functional>

#include "core/result.h"
#include "http/router.h"
#include "routes/auth_routes.h"
#include "routes/connection_routes.h"
#include "routes/provider_routes.h"
#include "service/connection_service.h"
#include "service/git_credential_service.h"
#include "service/provider_check_service.h"
#include "service/provider_service.h"
#include "service/repository_service.h"
#include "service/session_token_service.h"
#include "service/token_service.h"

namespace keybridge::routes {

struct ApiServices {
  service::ProviderService& providers;
  service::ConnectionService& connections;
  service::TokenService& tokens;
  service::RepositoryService& repositories;
  std::function<core::Status()> database_ping;
  ConnectionRouteOptions connection_options;
  // Session tokens and git credentials; their routes are registered when set.
  service::SessionTokenService* sessions = nullptr;
  service::GitCredentialService* git_credentials = nullptr;
  // Browser sign-in; its routes are registered when `browser_sessions` is set.
  // `browser_login` is null unless OIDC sign-in is configured.
  service::BrowserSessionService* browser_sessions = nullptr;
  service::BrowserLoginService* browser_login = nullptr;
  AuthRouteOptions auth_options{};
  // Admins see connection_count on GET of one integration when set.
  ConnectionCounter provider_connection_count{};
  // "Test this integration"; its route is registered when set.
  service::ProviderCheckService* provider_checks = nullptr;
};

// Everything in `services` must outlive the router.
void AddApiRoutes(http::Router& router, const ApiServices& services);

}  // namespace keybridge::routes
