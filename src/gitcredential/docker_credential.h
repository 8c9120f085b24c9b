// `keybridge docker-credential get|list|store|erase` (also run as `docker-credential-keybridge`):
// a Docker credential helper (the docker-credential-helpers protocol that docker, podman, skopeo
// and buildah speak) answering with the user's token for a container registry, from a keybridge
// server's GET /api/data/sessions/registry-credentials. Configured like `git-credential`
// (KEYBRIDGE_URL and KEYBRIDGE_TOKEN or KEYBRIDGE_TOKEN_FILE); enabled per registry with
//   {"credHelpers": {"registry.example.org": "keybridge"}}
// in ~/.docker/config.json or a containers auth.json. The token is written to stdout as
// `Secret` and nowhere else.
#pragma once

#include <iosfwd>
#include <string>

#include "core/http_client.h"
#include "gitcredential/server_access.h"

namespace keybridge::gitcredential {

// What docker-credential-helpers print when a helper has nothing for a server: docker, podman
// and skopeo then continue without credentials instead of failing.
inline constexpr std::string_view kDockerCredentialsNotFound =
    "credentials not found in native keychain";

struct DockerCredentialIo {
  std::istream& in;
  std::ostream& out;  // the container tool reads the answer here
  std::ostream& err;  // messages for the user
  core::HttpClient& http;
};

// Runs one helper invocation; returns the exit status.
// get: reads the server URL (one line) and prints {"ServerURL","Username","Secret"} (exit 0);
//   when there is nothing to answer (no integration serves the registry, no usable connection,
//   the server refuses the token or cannot be reached) prints kDockerCredentialsNotFound to
//   stdout and the reason (with the connect URL when connecting would help) to stderr (exit 1).
// list: {} — keybridge answers per request and keeps no list.
// store, erase: reads and ignores the input, notes on stderr that keybridge manages these
//   credentials, exit 0 (so `docker login` and `docker logout` do not fail).
// `access` with an empty URL stands for a configuration that could not be loaded:
// `access_problem` then says why, and get answers "not found".
int RunDockerCredential(const std::string& operation, const ServerAccess& access,
                        const std::string& access_problem, DockerCredentialIo& io);

}  // namespace keybridge::gitcredential
