// ImageService: container images for Renku sessions, behind GET /api/data/sessions/images (is
// this image pullable, by whom, for which platforms), /pull-secret (a Kubernetes image pull
// secret) and /registry-credentials (what `keybridge docker-credential` hands docker, podman or
// skopeo). The registry is matched to an integration by its image_registry_url
// (ProviderSnapshot::MatchRegistry); the credential is the user's access token of that
// integration (GitLab's registry accepts it as user "oauth2"; ghcr.io accepts a GitHub OAuth App
// token with read:packages), refreshed like git credentials (TokenService::FreshConnection).
//
// The image check mirrors the repository check (RepositoryService): the caller's token first,
// then anonymously; a session token's connection is used only within its image_repositories
// (SessionScopePolicy::CheckImage), otherwise it is answered as an anonymous caller. A matched
// registry is asked through the provider HTTP client, and its token service (the realm of its
// `WWW-Authenticate: Bearer` challenge) must be on the integration's own origins (its url or its
// image_registry_url): a registry cannot send a user's token elsewhere. Unmatched registries are
// checked anonymously through the guarded probe client (public addresses only).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/caller.h"
#include "core/clock.h"
#include "core/connection.h"
#include "core/http_client.h"
#include "core/image_reference.h"
#include "core/provider.h"
#include "core/public_urls.h"
#include "core/repositories.h"
#include "core/result.h"
#include "core/secret.h"
#include "oauth/registry.h"
#include "service/provider_matcher.h"
#include "service/token_service.h"

namespace keybridge::service {

struct ImageCheck {
  core::ImageReference image;                   // as parsed
  bool accessible = false;                      // the registry served the image's manifest
  std::vector<oauth::ImagePlatform> platforms;  // from an index; empty for one manifest
  std::optional<core::Provider> provider;       // the matched integration (no secret)
  std::optional<core::Connection> connection;   // the caller's connection to it (no token)
  std::string connect_url;  // a provider matched and the caller has no usable connection
  std::string message;      // why not accessible (or a hint), "" if none
};

struct RegistryCredential {
  std::string username;  // "oauth2"; ghcr.io accepts any non-empty name
  core::Secret secret;   // the integration's access token
  std::optional<core::TimePoint> expires_at;
  // The connection the token belongs to, with the token: the audit event's fingerprint.
  core::Connection connection;
};

struct RegistryCredentialLookup {
  core::Provider provider;  // the integration serving the registry (no secret)
  std::string registry;     // host[:port]
  // The credential, or why there is none: kNotFound (no connection, or connecting never
  // finished; the message names connect_url), kReauthorizationRequired (the provider rejected
  // the stored grant), kPermissionDenied (a session token not scoped to this image or registry),
  // kInvalidArgument (a GitHub App integration: ghcr.io refuses its tokens), kUnavailable, ...
  core::Result<RegistryCredential> credential;
  std::string connect_url;  // set when connecting (again) would help
};

// GitHub App user tokens do not authenticate to ghcr.io (GitHub docs: "Working with the
// Container registry" needs a personal access token or an OAuth token with read:packages).
bool IsGitHubAppIntegration(const core::Provider& provider);

class ImageService {
 public:
  // `provider_http` reaches administrator-configured registries (CurlHttpClient); `probe` is the
  // SSRF-guarded client (net::ProbeClient) for registries no integration serves, reporting a
  // refused destination as kPermissionDenied. References must outlive the service. Thread-safe.
  ImageService(ProviderMatcher& matcher, core::ConnectionRepository& connections,
               TokenService& tokens, core::PublicUrls urls, core::HttpClient& provider_http,
               core::HttpClient& probe);

  // Route 1. kInvalidArgument (the parser's sentence) for an empty or unparsable reference;
  // problems with the registry are reported in the result; other errors are the repositories'.
  core::Result<ImageCheck> Check(const core::Caller& caller, std::string_view image_url);

  // Route 2: the credential for the registry of `image_url` (a session token needs an
  // image_repositories entry covering the image). Errors without a provider: kUnauthenticated,
  // kInvalidArgument (unparsable reference), kNotFound ("No integration serves registry X").
  core::Result<RegistryCredentialLookup> PullSecret(const core::Caller& caller,
                                                    std::string_view image_url,
                                                    const TokenDemand& demand);
  // Route 3: the same for the registry `server_url` names (core::RegistryHostOf); a session
  // token needs an image_repositories entry on that registry.
  core::Result<RegistryCredentialLookup> RegistryCredentials(const core::Caller& caller,
                                                             std::string_view server_url,
                                                             const TokenDemand& demand);

  // Where the routes record what they hand out (TokenService's audit trail; null: none).
  AuditLog* audit() const { return tokens_.audit(); }

 private:
  core::Result<RegistryCredentialLookup> LookupFor(const core::Caller& caller, std::string registry,
                                                   core::Status in_scope,
                                                   const TokenDemand& demand);

  ProviderMatcher& matcher_;
  core::ConnectionRepository& connections_;
  TokenService& tokens_;
  const core::PublicUrls urls_;
  core::HttpClient& provider_http_;
  core::HttpClient& probe_;
};

}  // namespace keybridge::service
