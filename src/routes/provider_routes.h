// Renku-compatible provider (integration) routes under /api/data/oauth2/providers.
#pragma once

#include "http/router.h"
#include "service/provider_service.h"

namespace keybridge::routes {

// `service` must outlive the router.
void AddProviderRoutes(http::Router& router, service::ProviderService& service);

}  // namespace keybridge::routes
