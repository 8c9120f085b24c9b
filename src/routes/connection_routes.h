// Renku-compatible connection routes: authorize, callback, connections, token, account,
// installations (api/openapi.json).
#pragma once

#include "routes/route_table.h"
#include "service/connection_service.h"
#include "service/integration_trial_service.h"
#include "service/token_service.h"

namespace keybridge::routes {

struct ConnectionRouteOptions {
  bool secure_cookies = false;  // set when the public URL is https
  // "Try connecting": authorize?trial=<id> starts a trial, and the callback of a trial's state
  // completes it. Null: no trials (authorize refuses the parameter).
  service::IntegrationTrialService* trials = nullptr;
};

// The services must outlive the route table.
void AddConnectionRoutes(RouteTable& routes, service::ConnectionService& connections,
                         service::TokenService& tokens, ConnectionRouteOptions options);

}  // namespace keybridge::routes
