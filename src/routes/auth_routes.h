// Browser sign-in routes, all under /api/data/auth plus GET /api/data/user:
// the one-time administrator link, signing in with an API token, OIDC sign-in (login/callback)
// and sign-out. Sessions live in an HttpOnly SameSite=Lax cookie (`__Host-kb_session` on https,
// RFC 6265bis 4.1.3.2, else `kb_session`); routes/request_policy.cc checks CSRF on
// state-changing requests that the cookie authenticates.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "routes/route_table.h"
#include "service/browser_login_service.h"
#include "service/browser_session_service.h"

namespace keybridge::routes {

struct AuthRouteOptions {
  bool secure_cookies = false;  // public URL is https
  std::string public_url;       // shown by the UI (callback URL to register at providers)
};

// The session cookie's name for this deployment.
std::string SessionCookieName(bool secure_cookies);

// `sessions` must outlive the route table; `login` too when set (absent when OIDC sign-in is not
// configured: its routes then answer 404).
void AddAuthRoutes(RouteTable& routes, service::BrowserSessionService& sessions,
                   std::optional<std::reference_wrapper<service::BrowserLoginService>> login,
                   AuthRouteOptions options);

}  // namespace keybridge::routes
