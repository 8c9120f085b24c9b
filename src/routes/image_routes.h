// Container images for sessions (service::ImageService):
//  - GET /api/data/sessions/images?image_url=...: Renku's image check (accessible, platforms,
//    the integration, connect_url); anyone may ask, rationed per client like the repository check;
//  - GET /api/data/sessions/pull-secret?image_url=...: a kubernetes.io/dockerconfigjson Secret
//    for the image's registry;
//  - GET /api/data/sessions/registry-credentials?server_url=...: what `keybridge
//    docker-credential` hands docker, podman or skopeo.
// The last two hand out the user's access token, so their answers are never cached.
#pragma once

#include "core/rate_limiter.h"
#include "routes/route_table.h"
#include "service/image_service.h"

namespace keybridge::routes {

inline constexpr const char* kImageCheckPath = "/api/data/sessions/images";
inline constexpr const char* kPullSecretPath = "/api/data/sessions/pull-secret";
inline constexpr const char* kRegistryCredentialsPath = "/api/data/sessions/registry-credentials";

// `images` and `per_client` (may be null: no rationing) must outlive the route table.
void AddImageRoutes(RouteTable& routes, service::ImageService& images,
                    core::RateLimiter* per_client);

}  // namespace keybridge::routes
