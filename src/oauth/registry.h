// The container-registry half of the image check and of registry credentials, pure (builds
// core::HttpRequest values, parses core::HttpResponse values): the Docker Registry HTTP API V2
// token authentication ("Token Authentication Specification" of the distribution project: a 401
// with `WWW-Authenticate: Bearer realm=...,service=...,scope=...`, then GET <realm> for a bearer
// token), manifest requests for image indexes and manifests (OCI Image Index and Image Manifest
// specifications, Docker's "Image Manifest V2, Schema 2"), and the kubernetes.io/dockerconfigjson
// payload of a pull secret. Used by service/image_service.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/http_client.h"
#include "core/image_reference.h"
#include "core/result.h"
#include "core/secret.h"

namespace keybridge::oauth {

// A `WWW-Authenticate` challenge (RFC 9110 §11.6.1): the scheme ("bearer", "basic", lower-cased)
// and its auth-params (names lower-cased, quoted values unescaped).
struct RegistryChallenge {
  std::string scheme;
  std::string realm;
  std::string service;
  std::string scope;
};

// The first challenge of a WWW-Authenticate value; nullopt when it does not parse (no scheme, an
// unterminated quoted string, a parameter without '='). Commas inside quoted values belong to
// the value (scope="repository:a:pull,push").
std::optional<RegistryChallenge> ParseRegistryChallenge(std::string_view value);

// Basic credentials for the token endpoint or a Basic registry: user name and access token.
struct RegistryLogin {
  std::string username;
  core::Secret password;
};

// GET <realm>?service=<service>&scope=repository:<repository>:pull, with HTTP Basic `login`
// when given (GitLab: oauth2 + the OAuth access token), anonymous otherwise. The realm's own query
// is kept. kInvalidArgument when the realm is not an absolute http(s) URL.
core::Result<core::HttpRequest> BuildRegistryTokenRequest(const RegistryChallenge& challenge,
                                                          std::string_view repository,
                                                          const RegistryLogin* login);

struct RegistryToken {
  core::Secret token;
  std::optional<core::Seconds> expires_in;
};

// A 200 JSON answer carrying `token` or (some registries) `access_token`, and optionally
// `expires_in`. kUnauthenticated for 401/403 (the registry refused the login), kUpstreamFailed
// otherwise (another status, not JSON, no token).
core::Result<RegistryToken> ParseRegistryTokenResponse(const core::HttpResponse& response);

// The registry's API base: "https://<registry>", with Docker Hub's API host for "docker.io".
std::string RegistryApiBase(std::string_view registry);

// Every manifest media type keybridge reads, most specific last (an index first).
inline constexpr std::string_view kManifestAccept =
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

// How a request is authorised: nothing, a bearer token from the token endpoint, or Basic.
struct RegistryAuthorization {
  const core::Secret* bearer = nullptr;
  const RegistryLogin* basic = nullptr;
};

// GET <api_base>/v2/<repository>/manifests/<tag or digest>.
core::HttpRequest BuildManifestRequest(std::string_view api_base, const core::ImageReference& image,
                                       RegistryAuthorization authorization = {});

struct ImagePlatform {
  std::string os;
  std::string architecture;
  std::string variant;  // "" when absent
  bool operator==(const ImagePlatform&) const = default;
};

enum class ManifestOutcome {
  kFound,         // 200 with a manifest or index
  kUnauthorized,  // 401: credentials needed (or refused); `challenge` set when parsable
  kDenied,        // 403, or an error body saying DENIED
  kNotFound,      // 404 (MANIFEST_UNKNOWN, NAME_UNKNOWN)
  kInvalidBody,   // 200 that is not a manifest
  kFailed,        // any other status
};

struct ManifestLookup {
  ManifestOutcome outcome = ManifestOutcome::kFailed;
  int http_status = 0;
  std::optional<RegistryChallenge> challenge;
  // From an index / manifest list (`manifests[].platform`), in its order, without duplicates;
  // empty for a single-platform manifest (its platform is in the config blob, not read here) and
  // for attestation entries ("unknown" os/architecture).
  std::vector<ImagePlatform> platforms;
};

ManifestLookup ParseManifestResponse(const core::HttpResponse& response);

// The base64 `.dockerconfigjson` of a kubernetes.io/dockerconfigjson Secret naming `registry`
// (docker's config.json: {"auths":{registry:{username,password,auth:base64(user:password)}}}).
core::Secret DockerConfigJsonBase64(std::string_view registry, const RegistryLogin& login);

}  // namespace keybridge::oauth
