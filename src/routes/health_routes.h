// Liveness (/healthz: the process answers) and readiness (/readyz: the database answers) probes,
// plus the OpenAPI document at /api/data/spec.json.
#pragma once

#include <functional>

#include "core/result.h"
#include "routes/route_table.h"

namespace keybridge::routes {

void AddHealthRoutes(RouteTable& routes, std::function<core::Status()> database_ping);
void AddSpecRoute(RouteTable& routes);
// The embedded OpenAPI 3 document (api/openapi.json).
std::string_view OpenApiDocument();

}  // namespace keybridge::routes
