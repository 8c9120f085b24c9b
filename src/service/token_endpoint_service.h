// TokenEndpointService: keybridge as the OAuth token endpoint of standard clients that keep a
// user's storage mounted in a session (rclone for Dropbox and Google Drive), as Renku's
// token-endpoint proxy. The client gets a provider access token and, as its "refresh token", a
// keybridge refresh handle (identity/refresh_handle.h); when the access token expires it sends the
// handle to POST /api/data/oauth2/connections/{id}/token_endpoint (RFC 6749 §6) and receives a
// fresh provider access token and the same handle. The provider's refresh token never leaves
// keybridge, and refreshes go through TokenService like every other read, so a mount, git and the
// UI never race each other for a rotating refresh token.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/caller.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/public_urls.h"
#include "core/repositories.h"
#include "core/result.h"
#include "core/secret.h"
#include "identity/refresh_handle.h"
#include "service/token_service.h"

namespace keybridge::service {

// A ready rclone remote for one connection.
struct RcloneRemote {
  core::ProviderId provider_id;  // the integration: a good name for the remote
  std::string type;              // the rclone backend: "dropbox", "drive"
  std::string token_url;         // absolute: the connection's token_endpoint
  core::Secret access_token;
  std::optional<core::TimePoint> expiry;  // of the access token; absent: it does not expire
  identity::RefreshHandle refresh_handle;
};

// What the token endpoint answers (RFC 6749 §5.1).
struct TokenEndpointAnswer {
  core::Secret access_token;
  std::string scope;  // "" when the provider sent none
  // Seconds until the access token or the handle expires, whichever comes first.
  std::int64_t expires_in = 0;
  core::Secret refresh_token;  // the presented handle, unchanged
};

class TokenEndpointService {
 public:
  // A refresh through the endpoint returns a token valid at least this long: a client that just
  // found its token expired must not get one that expires a minute later.
  static constexpr core::Seconds kMinValid{300};

  // Everything must outlive the service. Thread-safe.
  TokenEndpointService(TokenService& tokens, core::ProviderRepository& providers,
                       identity::RefreshHandles& handles, core::PublicUrls urls,
                       const core::Clock& clock);

  // The rclone remote for the caller's connection (a signed-in user or a session token whose
  // scope names it). Errors as TokenService::FreshConnection, plus kInvalidArgument for an
  // integration rclone has no backend for (only dropbox and google have one).
  core::Result<RcloneRemote> RcloneRemoteFor(const core::Caller& caller,
                                             const core::ConnectionId& connection_id,
                                             bool may_call_provider);

  // The token endpoint: a fresh access token for the holder of `handle`. kUnauthenticated for a
  // handle that is not usable (identity::RefreshHandles::Authenticate), otherwise the errors of
  // TokenService::FreshConnection (kReauthorizationRequired when the provider refused keybridge's
  // refresh token, kNotFound when the connection is gone, kWouldWait...).
  core::Result<TokenEndpointAnswer> Refresh(std::string_view handle,
                                            const core::ConnectionId& connection_id,
                                            bool may_call_provider);

 private:
  TokenService& tokens_;
  core::ProviderRepository& providers_;
  identity::RefreshHandles& handles_;
  const core::PublicUrls urls_;
  const core::Clock& clock_;
};

// The rclone backend serving an integration of `kind` ("gitlab"...): "dropbox", "drive" (Google),
// or "" when rclone has none.
std::string_view RcloneBackendFor(core::ProviderKind kind);

}  // namespace keybridge::service
