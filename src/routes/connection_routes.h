// Renku-compatible connection routes: authorize, callback, connections, token, account,
// installations (api/openapi.json).
#pragma once

#include "http/router.h"
#include "service/connection_service.h"
#include "service/token_service.h"

namespace keybridge::routes {

struct ConnectionRouteOptions {
  bool secure_cookies = false;  // set when the public URL is https
};

// The services must outlive the router.
void AddConnectionRoutes(http::Router& router, service::ConnectionService& connections,
                         service::TokenService& tokens, ConnectionRouteOptions options);

}  // namespace keybridge::routes
