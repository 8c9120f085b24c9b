// Liveness (/healthz: the process answers) and readiness (/readyz: the database answers) probes,
// plus the OpenAPI document at /api/data/spec.json.
#pragma once

#include <functional>

#include "core/result.h"
#include "http/router.h"

namespace keybridge::routes {

void AddHealthRoutes(http::Router& router, std::function<core::Status()> database_ping);
void AddSpecRoute(http::Router& router);
// The embedded OpenAPI 3 document (api/openapi.json).
std::string_view OpenApiDocument();

}  // namespace keybridge::routes
