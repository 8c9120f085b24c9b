// BrowserLoginService: browser sign-in through the configured OIDC issuer:
// authorization code + PKCE S256 + state (RFC 6749 4.1, RFC 7636, RFC 9700). The issuer's
// endpoints come from OIDC discovery and the code exchange goes through the same ProviderGateway
// as connecting an integration (the issuer is treated as a generic_oidc provider); the returned
// access token (or id_token) must pass identity::JwtVerifier, the same rules as bearer callers
// (issuer, audience, admin role). State is 256-bit, stored hashed, single use, expires after 10
// minutes and is bound to the browser by an HttpOnly cookie, like the provider connect flow. The
// PKCE verifier is derived from that cookie (HMAC), so it is never stored.
#pragma once

#include <optional>
#include <string>

#include "core/clock.h"
#include "core/public_urls.h"
#include "core/random.h"
#include "core/repositories.h"
#include "core/result.h"
#include "core/secret.h"
#include "identity/jwt_verifier.h"
#include "service/browser_session_service.h"
#include "service/provider_gateway.h"

namespace keybridge::service {

struct BrowserLoginOptions {
  std::string issuer;
  std::string client_id;
  std::optional<core::Secret> client_secret;  // absent for a public client
  std::string scope = "openid profile email";
  core::PublicUrls public_urls;      // names the callback (PublicUrls::SignInCallback)
  core::Seconds flow_lifetime{600};  // RFC 6749 10.12: short-lived
};

struct StartedLogin {
  std::string redirect_url;      // the issuer's authorization URL
  std::string cookie_name;       // one cookie per flow (parallel sign-ins in two tabs)
  core::Secret browser_binding;  // value for that cookie
};

struct LoginCallback {
  std::optional<std::string> state;
  std::optional<core::Secret> code;
  std::optional<std::string> error;
  std::optional<std::string> error_description;
  std::optional<std::string> iss;  // RFC 9207, if the identity provider sent it
  std::optional<core::Secret> browser_binding;
};

struct CompletedLogin {
  SignedIn session;
  std::string next_path;
};

class BrowserLoginService {
 public:
  // All references must outlive the service. Thread-safe.
  BrowserLoginService(core::BrowserSessionRepository& repository, ProviderGateway& gateway,
                      identity::JwtVerifier& verifier, BrowserSessionService& sessions,
                      core::Random& random, const core::Clock& clock, BrowserLoginOptions options);

  // "kb_login_" + 16 hex digits of SHA-256(state).
  static std::string CookieName(std::string_view state);
  // Only same-origin paths ("/..." but not "//..." or "/\...") are accepted; "" means "/".
  static core::Result<std::string> CheckNextPath(const std::string& next);

  // kInvalidArgument (next), kUpstreamFailed (discovery).
  core::Result<StartedLogin> Start(const std::string& next);
  // kBadRequest (missing/unknown/used/expired state, issuer error), kPermissionDenied (cookie
  // missing or from another browser), kUnauthenticated (token rejected by the JwtVerifier).
  core::Result<CompletedLogin> Complete(const LoginCallback& callback);

 private:
  core::Provider IssuerAsProvider() const;
  std::string CallbackUrl() const;

  core::BrowserSessionRepository& repository_;
  ProviderGateway& gateway_;
  identity::JwtVerifier& verifier_;
  BrowserSessionService& sessions_;
  core::Random& random_;
  const core::Clock& clock_;
  const BrowserLoginOptions options_;
};

}  // namespace keybridge::service
