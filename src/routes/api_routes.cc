#include "routes/api_routes.h"

#include "routes/health_routes.h"
#include "routes/provider_routes.h"

namespace keybridge::routes {

void AddApiRoutes(http::Router& router, const ApiServices& services) {
  AddHealthRoutes(router, services.database_ping);
  AddSpecRoute(router);
  AddProviderRoutes(router, services.providers);
  AddConnectionRoutes(router, services.connections, services.tokens, services.connection_options);
}

}  // namespace keybridge::routes
