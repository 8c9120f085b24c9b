// Session token routes: POST/GET /api/data/sessions/tokens and
// DELETE /api/data/sessions/tokens/{token_id}. A user mints a token for one session; the value is
// in the POST response only, together with the git configuration that uses it.
#pragma once

#include "routes/route_table.h"
#include "service/session_token_service.h"

namespace keybridge::routes {

// The two `git config` lines a session runs to use `keybridge git-credential`.
inline constexpr const char* kGitConfigHelperLine =
    "git config --global credential.helper '!keybridge git-credential'";
inline constexpr const char* kGitConfigUseHttpPathLine =
    "git config --global credential.useHttpPath true";

// `sessions` must outlive the route table.
void AddSessionRoutes(RouteTable& routes, service::SessionTokenService& sessions);

}  // namespace keybridge::routes
