// Renku-compatible provider (integration) routes under /api/data/oauth2/providers.
#pragma once

#include "http/router.h"
#include "service/provider_check_service.h"
#include "service/provider_service.h"

namespace keybridge::routes {

// `service` must outlive the router.
void AddProviderRoutes(http::Router& router, service::ProviderService& service);

// POST /api/data/oauth2/providers/{provider_id}/check: "Test this integration" (admin only).
// `checks` must outlive the router.
void AddProviderCheckRoute(http::Router& router, service::ProviderCheckService& checks);

}  // namespace keybridge::routes
