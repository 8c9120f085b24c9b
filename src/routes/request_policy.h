// RequestPolicy: who may call a route, decided once, before its handler runs. Each route in the
// route table (routes/route_table.h) declares an Access level and whether a cookie-authenticated
// call needs the CSRF token; RequestPolicy authenticates the request (identity::Authenticator:
// the browser session cookie counts only when there is no Authorization header) and refuses it
// when the declaration does not admit the caller. Services keep their own checks (defence in
// depth): a route declared anonymous may still answer 401/404 to an anonymous caller.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/caller.h"
#include "core/result.h"
#include "http/message.h"
#include "identity/authenticator.h"

namespace keybridge::routes {

// Who may call a route. Session tokens (`kbs_`) are refused unless the level names them (issue
// #4: default deny, a session may only obtain tokens); api/openapi.json states each route's level
// in `x-keybridge-access` (ToString) and `security`.
enum class Access {
  // anyone; credentials are not even looked at, so the route can answer from memory on an I/O
  // thread (health probes, the OpenAPI document, the web UI's files)
  kPublic,
  kAnonymous,           // anyone without a session token; the handler decides what they see
  kAnonymousOrSession,  // anyone, session tokens included (health probes, token reads)
  kUser,                // a signed-in user (401 otherwise)
  kUserOrSession,       // a signed-in user or a session token acting for one
  kAdmin,               // an administrator (401 anonymous, 403 other users)
  // A standard OAuth client at a token endpoint (RFC 6749 §3.2): its credential is a keybridge
  // refresh handle in the form body, which the handler checks. Neither the Authorization header
  // (clients send their own client_id/secret there, which mean nothing to keybridge) nor a cookie
  // is looked at, so the caller stays anonymous and no CSRF check applies.
  kOAuthClient,
};

// "public", "anonymous", "anonymous-or-session-token", "user", "user-or-session-token", "admin",
// "oauth-client".
std::string_view ToString(Access access);
bool AdmitsSessionTokens(Access access);

// What the route table stores per route.
struct RoutePolicy {
  Access access = Access::kUser;
  // The cookie-authenticated request must carry the session's CSRF token and no foreign Origin.
  // Set for every method but GET and HEAD unless a route opts out.
  bool csrf = true;
};

struct RequestPolicyOptions {
  std::string public_url;       // its origin is the only Origin a state-changing request may carry
  bool secure_cookies = false;  // https: the session cookie is `__Host-kb_session`
};

// The origin ("scheme://host[:port]", host lower-case, default port left out) browsers send in
// Origin for pages of `public_url`; computed from the parsed URL, so "https://Host:443/x" gives
// "https://host".
std::string PublicOrigin(const std::string& public_url);

// A sign-in POST (it sets the session cookie) must come from keybridge's own page: Origin equal to
// `public_origin`, or, from a browser that sends no Origin, Sec-Fetch-Site: same-origin.
// Otherwise kPermissionDenied: a cross-site page must not sign a victim's browser in to the
// attacker's account (login CSRF).
core::Status CheckSameOriginSignIn(const http::Request& request, const std::string& public_origin);

class RequestPolicy {
 public:
  // Decides who calls from the Authorization header and the session cookie's value; fails only
  // when that is not known yet (identity::Authenticator::Authenticate).
  using Authenticate = std::function<core::Result<core::Caller>(std::string_view authorization,
                                                                std::string_view session_cookie)>;

  // `authenticator` must outlive the policy.
  RequestPolicy(identity::Authenticator& authenticator, const RequestPolicyOptions& options);
  // For tests and embedders that decide the caller themselves.
  RequestPolicy(Authenticate authenticate, const RequestPolicyOptions& options);

  // Sets request.caller (or fails as the authenticator did: kUnavailable, kWouldWait), then: 403
  // for a session token the route does not admit ("session tokens can only obtain tokens"), the
  // CSRF/Origin check (RoutePolicy::csrf), 401/403 for a caller below the route's level.
  // Thread-safe.
  core::Status Admit(http::Request& request, const RoutePolicy& route) const;

 private:
  Authenticate authenticate_;
  std::string public_origin_;
  std::string session_cookie_name_;
};

}  // namespace keybridge::routes
