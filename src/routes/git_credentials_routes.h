// GET /api/data/git/credentials?url=<remote URL>: the user name and token git uses for a remote,
// for `keybridge git-credential`. Session tokens may call it (within their scope). When there is
// no usable connection the error body carries `connect_url`, so the helper can tell its user the
// exact place to connect.
#pragma once

#include "routes/route_table.h"
#include "service/git_credential_service.h"

namespace keybridge::routes {

inline constexpr const char* kGitCredentialsPath = "/api/data/git/credentials";

// `credentials` must outlive the route table.
void AddGitCredentialsRoutes(RouteTable& routes, service::GitCredentialService& credentials);

}  // namespace keybridge::routes
