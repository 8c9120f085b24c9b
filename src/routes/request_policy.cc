#include "routes/request_policy.h"

#include <utility>

#include "core/url.h"
#include "routes/auth_routes.h"
#include "service/browser_session_service.h"
#include "service/provider_service.h"

namespace keybridge::routes {
namespace {

bool IsSafeMethod(std::string_view method) {
  return method == "GET" || method == "HEAD";
}

// "scheme://host[:port]" of an absolute URL (the public URL has no path that matters here).
// CSRF defence for requests the browser session cookie authenticates (OWASP CSRF
// cheat sheet: synchronizer token + origin check). A cross-site page can make a browser send the
// cookie (SameSite=Lax still allows some cross-site requests and all same-site ones), but it can
// neither read the token nor forge the Origin header. Bearer-authenticated requests carry no
// ambient credentials and are not checked.
core::Status CheckBrowserRequest(const http::Request& request, const std::string& public_origin,
                                 const std::string& session_cookie) {
  if (IsSafeMethod(request.method) || !request.Header("authorization").empty()) {
    return core::OkStatus();
  }
  const std::string origin = request.Header("origin");
  if (!origin.empty() && origin != public_origin) {
    return core::MakeError(core::ErrorCode::kPermissionDenied,
                           "Request refused: it came from another site (" + origin.substr(0, 100)
                               + "), not from " + public_origin + ".");
  }
  if (!request.caller.browser_session) {
    return core::OkStatus();
  }
  if (!service::BrowserSessionService::IsCsrfTokenOf(session_cookie,
                                                     request.Header("x-csrf-token"))) {
    return core::MakeError(core::ErrorCode::kPermissionDenied,
                           "Request refused: the X-CSRF-Token header is missing or wrong. Reload "
                           "the page and try again.");
  }
  return core::OkStatus();
}

}  // namespace

std::string PublicOrigin(const std::string& public_url) {
  auto url = core::ParseUrl(public_url);
  return url.ok() ? url->Origin() : public_url;  // Validate() refused unparsable ones at start
}

core::Status CheckSameOriginSignIn(const http::Request& request, const std::string& public_origin) {
  const std::string origin = request.Header("origin");
  const bool same_origin =
      origin.empty() ? request.Header("sec-fetch-site") == "same-origin" : origin == public_origin;
  if (!same_origin) {
    return core::MakeError(
        core::ErrorCode::kPermissionDenied,
        "Sign-in refused: it must come from keybridge's own page at " + public_origin + ".");
  }
  return core::OkStatus();
}

std::string_view ToString(Access access) {
  switch (access) {
    case Access::kPublic:
      return "public";
    case Access::kAnonymous:
      return "anonymous";
    case Access::kAnonymousOrSession:
      return "anonymous-or-session-token";
    case Access::kUser:
      return "user";
    case Access::kUserOrSession:
      return "user-or-session-token";
    case Access::kAdmin:
      return "admin";
    case Access::kOAuthClient:
      return "oauth-client";
  }
  return "admin";  // unreachable for valid enumerators; -Wswitch flags unnamed ones
}

bool AdmitsSessionTokens(Access access) {
  return access == Access::kPublic || access == Access::kAnonymousOrSession
         || access == Access::kUserOrSession;
}

RequestPolicy::RequestPolicy(identity::Authenticator& authenticator,
                             const RequestPolicyOptions& options)
    : RequestPolicy(
        [&authenticator](std::string_view authorization, std::string_view session_cookie) {
          return authenticator.Authenticate(authorization, session_cookie);
        },
        options) {}

RequestPolicy::RequestPolicy(Authenticate authenticate, const RequestPolicyOptions& options)
    : authenticate_(std::move(authenticate)),
      public_origin_(PublicOrigin(options.public_url)),
      session_cookie_name_(SessionCookieName(options.secure_cookies)) {}

core::Status RequestPolicy::Admit(http::Request& request, const RoutePolicy& route) const {
  if (route.access == Access::kPublic || route.access == Access::kOAuthClient) {
    return core::OkStatus();  // nobody is authenticated: the caller stays anonymous
  }
  // A present Authorization header always wins, so bearer clients are never affected by cookies.
  const std::string authorization = request.Header("authorization");
  const std::string session_cookie =
      authorization.empty()
          ? http::CookieValue(request.Header("cookie"), session_cookie_name_).value_or("")
          : "";
  KEYBRIDGE_ASSIGN_OR_RETURN(request.caller, authenticate_(authorization, session_cookie));
  // Default deny for session tokens: a session may obtain access tokens (its scope is
  // checked by TokenService), run the repository check and reach the health probes; it can list,
  // change or mint nothing.
  if (request.caller.IsSessionToken() && !AdmitsSessionTokens(route.access)) {
    return core::MakeError(core::ErrorCode::kPermissionDenied,
                           "session tokens can only obtain tokens");
  }
  // Before the caller's level, as the services' own checks always came after it: a cross-site
  // request is refused the same way whoever it claims to be.
  if (route.csrf) {
    KEYBRIDGE_RETURN_IF_ERROR(CheckBrowserRequest(request, public_origin_, session_cookie));
  }
  switch (route.access) {
    case Access::kPublic:
    case Access::kAnonymous:
    case Access::kAnonymousOrSession:
    case Access::kOAuthClient:
      return core::OkStatus();
    case Access::kUser:
    case Access::kUserOrSession:
      return service::RequireUser(request.caller);
    case Access::kAdmin:
      return service::RequireAdmin(request.caller);
  }
  return service::RequireAdmin(request.caller);
}

}  // namespace keybridge::routes
