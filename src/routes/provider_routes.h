// Renku-compatible provider (integration) routes under /api/data/oauth2/providers.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.h"
#include "routes/route_table.h"
#include "service/provider_check_service.h"
#include "service/provider_service.h"

namespace keybridge::routes {

// How many user connections an integration has (deleting it removes them); admins see it as
// `connection_count` on GET of one integration, so the UI can warn before a delete.
using ConnectionCounter = std::function<core::Result<std::int64_t>(const core::ProviderId&)>;

// `service` (and `invalidator`, if set) must outlive the route table. `count` may be empty (no
// connection_count). Without `invalidator` a PATCH that changes an integration's destination
// fails (500) rather than keep its connections.
void AddProviderRoutes(RouteTable& routes, service::ProviderService& service,
                       ConnectionCounter count = {},
                       service::ConnectionInvalidator* invalidator = nullptr);

// POST /api/data/oauth2/providers/{provider_id}/check: "Test this integration" (admin only), and
// POST /api/data/oauth2/providers/check: the same for a draft in the body (`?only=scopes`).
// `checks` must outlive the route table.
void AddProviderCheckRoute(RouteTable& routes, service::ProviderCheckService& checks);

// A checklist as the admin UI renders it (also the trial's stages): id, title, status, detail,
// and `fix` unless empty.
nlohmann::json ChecklistToJson(const std::vector<oauth::CheckResult>& checks);

}  // namespace keybridge::routes
