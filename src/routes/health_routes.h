// Liveness (/healthz: the process answers) and readiness (/readyz: the database answers, and how
// full each compartment is) probes, plus the OpenAPI document at /api/data/spec.json. All three
// answer from memory on the I/O thread, so no slow dependency can make an orchestrator restart a
// healthy process.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>

#include "core/result.h"
#include "routes/route_table.h"

namespace keybridge::routes {

// What /readyz reports, from memory: the details for a 200 answer, or kUnavailable (503) with
// the reason.
using Readiness = std::function<core::Result<nlohmann::json>()>;

void AddHealthRoutes(RouteTable& routes, Readiness readiness);
void AddSpecRoute(RouteTable& routes);
// GET /metrics for administrators (a Prometheus scrape job authenticates with an admin API
// token): `render` produces the text exposition format 0.0.4.
void AddMetricsRoute(RouteTable& routes, std::function<std::string()> render);
// The embedded OpenAPI 3 document (api/openapi.json).
std::string_view OpenApiDocument();

}  // namespace keybridge::routes
