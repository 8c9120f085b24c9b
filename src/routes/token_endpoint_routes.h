// Data connectors: the rclone remote of a connection, and the OAuth token endpoint its holder
// refreshes at (service/token_endpoint_service.h). The endpoint speaks RFC 6749 to standard
// clients: form-encoded requests, §5.1 answers, and §5.2 error bodies
// ({"error":"invalid_grant",...}) for the errors a client can act on; failures of keybridge or a
// provider (5xx) keep the one error mapping of routes/ (ErrorAnswer), which logs them.
#pragma once

#include "routes/route_table.h"
#include "service/token_endpoint_service.h"

namespace keybridge::routes {

// `service` must outlive the route table.
void AddTokenEndpointRoutes(RouteTable& routes, service::TokenEndpointService& service);

}  // namespace keybridge::routes
