// Renku-compatible repository check: GET /api/data/repository?url=<repository url>
// (api/openapi.json), with keybridge's extra fields connect_url, install_url and message.
#pragma once

#include "routes/route_table.h"
#include "service/repository_service.h"

namespace keybridge::routes {

// Answers 200 {status, connection?, provider?, metadata?, error_code?, message?, connect_url?,
// install_url?} (absent values are left out, as Renku does), with the provider's ETag; 304 with
// an empty body when the provider answered 304 to the forwarded If-None-Match; 422 when `url` is
// missing or empty or another query parameter is given. Open to anonymous and session callers.
// The service must outlive the route table.
// `per_client` (may be null) rations the check per client address: anyone may ask for it, and
// each check may probe a URL the caller chose.
void AddRepositoryRoutes(RouteTable& routes, service::RepositoryService& repositories,
                         core::RateLimiter* per_client);

}  // namespace keybridge::routes
