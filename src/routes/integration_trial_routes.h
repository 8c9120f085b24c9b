// "Try connecting" (service/integration_trial_service.h): create a trial of an integration and
// read its checks. The authorize and callback halves run on the connect routes
// (routes/connection_routes.cc, `?trial=<id>` and the trial's state).
#pragma once

#include "routes/route_table.h"
#include "service/integration_trial_service.h"

namespace keybridge::routes {

// The service must outlive the route table.
void AddIntegrationTrialRoutes(RouteTable& routes, service::IntegrationTrialService& trials);

}  // namespace keybridge::routes
