// Renku-compatible connection routes: authorize, callback, connections, token, account,
// installations (api/openapi.json).
#pragma once

#include "routes/route_table.h"
#include "service/connection_service.h"
#include "service/token_service.h"

namespace keybridge::routes {

struct ConnectionRouteOptions {
  bool secure_cookies = false;  // set when the public URL is https
};

// The services must outlive the route table.
void AddConnectionRoutes(RouteTable& routes, service::ConnectionService& connections,
                         service::TokenService& tokens, ConnectionRouteOptions options);

}  // namespace keybridge::routes
