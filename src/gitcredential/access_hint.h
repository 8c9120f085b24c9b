// What would give access to a repository the provider refused: asked of a keybridge server's
// repository check (GET /api/data/repository?url=) by both keybridge clients, the git credential
// helper (git_credential.cc) and git-proxy (gitproxy/credentials.cc). It lives here, in the
// module without Asio, so git-proxy can use it without the credential helper needing git-proxy.
#pragma once

#include <string>

#include "core/http_client.h"
#include "core/secret.h"

namespace keybridge::gitcredential {

// A sentence naming what would give access to `repository_url` (for a GitHub App that is not
// installed for it: the install URL; for a user without a connection: where to connect), or ""
// when the server does not know or cannot be reached. `base_url` without a trailing slash; `token`
// is sent as the Bearer credential.
std::string AccessHint(core::HttpClient& http, const std::string& base_url,
                       const core::Secret& token, const std::string& repository_url);

}  // namespace keybridge::gitcredential
