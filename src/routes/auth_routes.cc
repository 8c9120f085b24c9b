#include "routes/auth_routes.h"

#include <nlohmann/json.hpp>

#include "core/public_urls.h"
#include "http/error_response.h"
#include "routes/json_body.h"
#include "routes/request_policy.h"

namespace keybridge::routes {
namespace {

using nlohmann::json;

// Path=/ and Secure without Domain are what the __Host- prefix requires.
std::string SessionCookie(const std::string& name, const std::string& value, std::int64_t max_age,
                          bool secure) {
  return http::SetCookieHeader(name, value, {.path = "/", .max_age = max_age, .secure = secure});
}

// The OIDC flow cookie binds the callback to the browser that started sign-in.
http::CookieAttributes LoginFlowCookie(bool secure, std::int64_t max_age) {
  return {.path = core::kBrowserSignInCallbackPath, .max_age = max_age, .secure = secure};
}

json UserJson(const core::Caller& caller, const std::string& csrf_token) {
  json out = {{"id", caller.user_id.value()},
              {"username", caller.user_id.value()},
              {"name", caller.name.empty() ? caller.user_id.value() : caller.name},
              {"is_admin", caller.is_admin}};
  if (!csrf_token.empty()) {
    out["csrf_token"] = csrf_token;
  }
  return out;
}

http::Response NoStore(http::Response response) {
  return std::move(response.WithHeader("Cache-Control", "no-store"));
}

// {"token": "..."} -> the token, or a 400/422 naming the problem.
core::Result<std::string> TokenField(const http::Request& request) {
  KEYBRIDGE_ASSIGN_OR_RETURN(json body, ParseJsonObject(request));
  KEYBRIDGE_RETURN_IF_ERROR(RejectUnknownFields(body, {"token"}));
  return RequiredString(body, "token");
}

core::Result<http::Response> SignedInResponse(const http::Request& request,
                                              core::Result<service::SignedIn> signed_in,
                                              service::BrowserSessionService& sessions,
                                              const AuthRouteOptions& options) {
  if (!signed_in.ok()) {
    return NoStore(ErrorAnswer(request, signed_in.error()));
  }
  return NoStore(
      JsonResponse(200, UserJson(signed_in->caller, signed_in->csrf_token))
          .WithHeader("Set-Cookie",
                      SessionCookie(SessionCookieName(options.secure_cookies),
                                    signed_in->cookie_value.Reveal(),
                                    sessions.absolute_lifetime().count(), options.secure_cookies)));
}

constexpr std::int64_t kLoginFlowSeconds = 600;  // as long as the sign-in flow lives

core::Error NotConfigured() {
  return core::MakeError(core::ErrorCode::kNotFound,
                         "Sign-in through an identity provider is not configured (start keybridge "
                         "with --oidc-issuer, --oidc-client-id and --oidc-client-secret).");
}

}  // namespace

std::string SessionCookieName(bool secure_cookies) {
  return secure_cookies ? "__Host-kb_session" : "kb_session";
}

void AddAuthRoutes(RouteTable& routes, service::BrowserSessionService& sessions,
                   std::optional<std::reference_wrapper<service::BrowserLoginService>> login,
                   AuthRouteOptions options) {
  const std::string cookie_name = SessionCookieName(options.secure_cookies);

  // Anonymous: the UI asks who is signed in, and a signed-out browser gets its own 401.
  routes.Add(
      "GET", "/api/data/user", Access::kAnonymous, Compartment::kDatabase,
      [cookie_name](http::Request& request) {
        const core::Caller& caller = request.caller;
        if (!caller.IsAuthenticated()) {
          return NoStore(http::ErrorResponse(core::MakeError(
              core::ErrorCode::kUnauthenticated,
              caller.rejected_reason.empty() ? "You are not signed in." : caller.rejected_reason)));
        }
        std::string csrf;
        if (caller.browser_session) {
          csrf = service::BrowserSessionService::CsrfToken(
              http::CookieValue(request.Header("cookie"), cookie_name).value_or(""));
        }
        return NoStore(JsonResponse(200, UserJson(caller, csrf)));
      });

  routes.Add("GET", "/api/data/auth/methods", Access::kAnonymous, Compartment::kDatabase,
             [login, options](http::Request&) {
               return JsonResponse(200, {{"oidc", login.has_value()},
                                         {"local_token", true},
                                         {"public_url", options.public_url},
                                         {"oauth_callback_url",
                                          core::PublicUrls(options.public_url).OAuthCallback()}});
             });

  // The printed link is <public_url>/api/data/auth/once#<token>: the token is in the fragment, so
  // it never reaches a server or proxy log. A redirect without a fragment keeps the request's
  // fragment (RFC 9110 10.2.2), so the page at /?signin=once can read it and POST it.
  routes.Add("GET", core::kSignInLinkPath, Access::kAnonymous, Compartment::kDatabase,
             [](http::Request&) {
               return NoStore(http::Response::Redirect("/?signin=once", 303))
                   .WithHeader("Referrer-Policy", "no-referrer");
             });

  const std::string public_origin = PublicOrigin(options.public_url);
  routes.Add(
      "POST", core::kSignInLinkPath, Access::kAnonymous, Compartment::kDatabase,
      [&sessions, options, public_origin](http::Request& request) -> core::Result<http::Response> {
        KEYBRIDGE_RETURN_IF_ERROR(CheckSameOriginSignIn(request, public_origin));
        KEYBRIDGE_ASSIGN_OR_RETURN(const std::string token, TokenField(request));
        return SignedInResponse(request, sessions.SignInWithLink(token), sessions, options);
      });

  routes.Add(
      "POST", "/api/data/auth/token", Access::kAnonymous, Compartment::kDatabase,
      [&sessions, options, public_origin](http::Request& request) -> core::Result<http::Response> {
        KEYBRIDGE_RETURN_IF_ERROR(CheckSameOriginSignIn(request, public_origin));
        KEYBRIDGE_ASSIGN_OR_RETURN(const std::string token, TokenField(request));
        return SignedInResponse(request, sessions.SignInWithApiToken(token), sessions, options);
      });

  // Anonymous: only a browser session can sign out, and anyone else gets this route's own 401.
  routes.Add(
      "POST", "/api/data/auth/logout", Access::kAnonymous, Compartment::kDatabase,
      [&sessions, options, cookie_name](http::Request& request) -> core::Result<http::Response> {
        if (!request.caller.browser_session) {
          return core::MakeError(core::ErrorCode::kUnauthenticated,
                                 "You are not signed in in this browser.");
        }
        const auto cookie = http::CookieValue(request.Header("cookie"), cookie_name);
        KEYBRIDGE_RETURN_IF_ERROR(sessions.SignOut(cookie.value_or("")));
        return NoStore(http::Response::NoContent().WithHeader(
            "Set-Cookie", SessionCookie(cookie_name, "", 0, options.secure_cookies)));
      });

  routes.Add("GET", "/api/data/auth/login", Access::kAnonymous, Compartment::kProvider,
             [login, options](http::Request& request) -> core::Result<http::Response> {
               if (!login) {
                 return NotConfigured();
               }
               auto started = login->get().Start(request.Query("next").value_or("/"));
               if (!started.ok()) {
                 return NoStore(ErrorAnswer(request, started.error()));
               }
               return NoStore(http::Response::Redirect(started->redirect_url))
                   .WithHeader("Set-Cookie",
                               http::SetCookieHeader(
                                   started->cookie_name, started->browser_binding.Reveal(),
                                   LoginFlowCookie(options.secure_cookies, kLoginFlowSeconds)))
                   .WithHeader("Referrer-Policy", "no-referrer");
             });

  routes.Add("GET", core::kBrowserSignInCallbackPath, Access::kAnonymous, Compartment::kProvider,
             [login, &sessions, options](http::Request& request) -> core::Result<http::Response> {
               if (!login) {
                 return NotConfigured();
               }
               service::LoginCallback callback;
               callback.state = request.Query("state");
               if (auto code = request.Query("code")) {
                 callback.code = core::Secret(std::move(*code));
               }
               callback.error = request.Query("error");
               callback.error_description = request.Query("error_description");
               callback.iss = request.Query("iss");
               std::string flow_cookie;
               if (callback.state) {
                 flow_cookie = service::BrowserLoginService::CookieName(*callback.state);
                 if (auto value = http::CookieValue(request.Header("cookie"), flow_cookie)) {
                   callback.browser_binding = core::Secret(std::move(*value));
                 }
               }
               auto completed = login->get().Complete(callback);
               http::Response response =
                   completed.ok()
                       // 303 to a clean URL without the code (RFC 9700 4.2.4)
                       ? http::Response::Redirect(completed->next_path, 303)
                             .WithHeader("Set-Cookie",
                                         SessionCookie(SessionCookieName(options.secure_cookies),
                                                       completed->session.cookie_value.Reveal(),
                                                       sessions.absolute_lifetime().count(),
                                                       options.secure_cookies))
                       : ErrorAnswer(request, completed.error());
               if (!flow_cookie.empty()) {
                 response.WithHeader("Set-Cookie", http::SetCookieHeader(
                                                       flow_cookie, "",
                                                       LoginFlowCookie(options.secure_cookies, 0)));
               }
               return NoStore(std::move(response)).WithHeader("Referrer-Policy", "no-referrer");
             });
}

}  // namespace keybridge::routes
