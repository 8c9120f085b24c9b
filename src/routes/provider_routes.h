// Renku-compatible provider (integration) routes under /api/data/oauth2/providers.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/result.h"
#include "routes/route_table.h"
#include "service/provider_check_service.h"
#include "service/provider_service.h"

namespace keybridge::routes {

// How many user connections an integration has (deleting it removes them); admins see it as
// `connection_count` on GET of one integration, so the UI can warn before a delete.
using ConnectionCounter = std::function<core::Result<std::int64_t>(const core::ProviderId&)>;

// `service` must outlive the route table. `count` may be empty (no connection_count).
void AddProviderRoutes(RouteTable& routes, service::ProviderService& service,
                       ConnectionCounter count = {});

// POST /api/data/oauth2/providers/{provider_id}/check: "Test this integration" (admin only).
// `checks` must outlive the route table.
void AddProviderCheckRoute(RouteTable& routes, service::ProviderCheckService& checks);

}  // namespace keybridge::routes
