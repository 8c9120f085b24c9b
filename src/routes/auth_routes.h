// Browser sign-in routes, all under /api/data/auth plus GET /api/data/user:
// the one-time administrator link, signing in with a local token, OIDC sign-in (login/callback)
// and sign-out. Sessions live in an HttpOnly SameSite=Lax cookie (`__Host-kb_session` on https,
// RFC 6265bis 4.1.3.2, else `kb_session`); app/application.cc checks CSRF on state-changing
// requests that the cookie authenticates.
#pragma once

#include <string>

#include "http/router.h"
#include "service/browser_login_service.h"
#include "service/browser_session_service.h"

namespace keybridge::routes {

struct AuthRouteOptions {
  bool secure_cookies = false;  // public URL is https
  std::string public_url;       // shown by the UI (callback URL to register at providers)
};

// The session cookie's name for this deployment.
std::string SessionCookieName(bool secure_cookies);

// `sessions` must outlive the router; `login` (may be null: OIDC sign-in is then not configured
// and its routes answer 404) too.
void AddAuthRoutes(http::Router& router, service::BrowserSessionService& sessions,
                   service::BrowserLoginService* login, AuthRouteOptions options);

}  // namespace keybridge::routes
