// ConnectionService: a user's connections. Starts and completes the OAuth2 authorization-code
// flow (RFC 6749 4.1 + PKCE RFC 7636) with the security rules of RFC 9700 (§2.1, §4.7):
// state is 256-bit, single use, expires after 10 minutes, bound to the
// user, the provider and the initiating browser (cookie); next_url must be same-origin; a
// reconnect never disturbs a working token; provider errors never forward a code.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/caller.h"
#include "core/clock.h"
#include "core/connection.h"
#include "core/public_urls.h"
#include "core/random.h"
#include "core/repositories.h"
#include "core/result.h"
#include "oauth/account.h"
#include "oauth/installations.h"
#include "service/provider_gateway.h"
#include "service/provider_service.h"
#include "service/token_service.h"

namespace keybridge::service {

struct ConnectionServiceOptions {
  core::PublicUrls public_urls;  // the callback, and the origin next_url may point to
  // Origins (scheme://host[:port]) besides the public URL's that next_url may point to.
  std::vector<std::string> allowed_redirect_origins;
  core::Seconds flow_lifetime{600};  // RFC 9700 / RFC 6749 10.12: about ten minutes
};

struct StartedAuthorization {
  std::string redirect_url;      // the provider's authorization URL
  std::string cookie_name;       // FlowCookieName(state): one cookie per flow, so parallel
                                 // connects in two tabs do not overwrite each other
  core::Secret browser_binding;  // value for the flow cookie (HttpOnly, SameSite=Lax)
};

struct CallbackParameters {
  std::optional<std::string> state;
  std::optional<core::Secret> code;
  std::optional<std::string> error;
  std::optional<std::string> error_description;
  std::optional<std::string> error_uri;         // RFC 6749 4.1.2.1, passed on as Renku does
  std::optional<std::string> iss;               // RFC 9207, if the provider sent it
  std::optional<core::Secret> browser_binding;  // the flow cookie, if the browser sent it
  core::Caller caller;  // if the gateway identified the browser's user, it must be the starter
};

struct CompletedAuthorization {
  std::string redirect_url;  // "" means: answer 200 {"status":"OK"}
};

// An integration's change of destination revokes at most this many connections' tokens at the
// old provider, one after another, and starts none after kRetargetRevocationBudget; the rest are
// only dropped (the admin's request must not hang on a slow provider, and each call is bounded
// by its own HTTP timeout).
inline constexpr std::size_t kMaxRetargetRevocations = 20;
inline constexpr std::chrono::seconds kRetargetRevocationBudget{10};

class ConnectionService final : public ConnectionInvalidator {
 public:
  // All references must outlive the service. Thread-safe.
  ConnectionService(core::ConnectionRepository& connections, core::ProviderRepository& providers,
                    core::AuthorizationFlowRepository& flows, ProviderGateway& gateway,
                    TokenService& tokens, core::Random& random, const core::Clock& clock,
                    ConnectionServiceOptions options);

  std::string CallbackUrl() const;
  // "kb_flow_" + the first 16 hex digits of SHA-256(state).
  static std::string FlowCookieName(std::string_view state);

  // kUnauthenticated, kNotFound (unknown provider, not Renku's `no_client` redirect),
  // kInvalidArgument (next_url not allowed), kUpstreamFailed (OIDC discovery).
  core::Result<StartedAuthorization> StartAuthorization(const core::Caller& caller,
                                                        const core::ProviderId& provider_id,
                                                        const std::string& next_url);
  // kBadRequest (missing/unknown/used/expired state), kPermissionDenied (flow cookie missing or
  // from another browser), kInvalidArgument (the provider rejected the code), kUnavailable.
  // A provider `error` redirects to next_url with error and error_description only.
  core::Result<CompletedAuthorization> CompleteAuthorization(const CallbackParameters& params);

  core::Result<std::vector<core::Connection>> List(const core::Caller& caller);
  // kNotFound for absent or someone else's connection (and for anonymous callers).
  core::Result<core::Connection> Get(const core::Caller& caller, const core::ConnectionId& id);
  // Revokes at the provider (best effort, logged) then deletes. kNotFound as Get.
  core::Status Delete(const core::Caller& caller, const core::ConnectionId& id);
  // ConnectionInvalidator: the connections lose their token sets at once (the repository, in one
  // transaction); then up to kMaxRetargetRevocations of them are revoked at `before` within
  // kRetargetRevocationBudget (RFC 7009, best effort, failures logged).
  core::Result<std::int64_t> InvalidateConnections(const core::Provider& before,
                                                   const std::string& reason) override;
  core::Result<oauth::Account> Account(const core::Caller& caller, const core::ConnectionId& id);
  // GitHub Apps only; other kinds return an empty page.
  core::Result<oauth::InstallationsPage> Installations(const core::Caller& caller,
                                                       const core::ConnectionId& id, int page,
                                                       int per_page);

 private:
  core::Status CheckNextUrl(const std::string& next_url) const;
  // The provider's (or our) error for the flow: an error redirect to its next_url when it has
  // one (carrying error_uri and iss when the provider sent them, as Renku does), else 400.
  core::Result<CompletedAuthorization> Fail(
      const core::AuthorizationFlow& flow, const std::string& error, const std::string& description,
      const CallbackParameters* provider_sent = nullptr) const;

  core::ConnectionRepository& connections_;
  core::ProviderRepository& providers_;
  core::AuthorizationFlowRepository& flows_;
  ProviderGateway& gateway_;
  TokenService& tokens_;
  core::Random& random_;
  const core::Clock& clock_;
  const ConnectionServiceOptions options_;
};

}  // namespace keybridge::service
