#include "routes/auth_routes.h"

#include <nlohmann/json.hpp>

#include "core/public_urls.h"
#include "http/error_response.h"
#include "routes/json_body.h"

namespace keybridge::routes {
namespace {

using nlohmann::json;

std::string SessionCookie(const std::string& name, const std::string& value, std::int64_t max_age,
                          bool secure) {
  // Path=/ and Secure without Domain are what the __Host- prefix requires.
  std::string cookie = name + "=" + value + "; Path=/; Max-Age=" + std::to_string(max_age)
                       + "; HttpOnly; SameSite=Lax";
  if (secure) {
    cookie += "; Secure";
  }
  return cookie;
}

json UserJson(const core::Caller& caller, const std::string& csrf_token) {
  json out = {{"id", caller.user_id},
              {"username", caller.user_id},
              {"name", caller.name.empty() ? caller.user_id : caller.name},
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

http::Response SignedInResponse(core::Result<service::SignedIn> signed_in,
                                service::BrowserSessionService& sessions,
                                const AuthRouteOptions& options) {
  if (!signed_in.ok()) {
    return NoStore(http::ErrorResponse(signed_in.error()));
  }
  return NoStore(
      JsonResponse(200, UserJson(signed_in->caller, signed_in->csrf_token))
          .WithHeader("Set-Cookie",
                      SessionCookie(SessionCookieName(options.secure_cookies),
                                    signed_in->cookie_value.Reveal(),
                                    sessions.absolute_lifetime().count(), options.secure_cookies)));
}

core::Error NotConfigured() {
  return core::MakeError(core::ErrorCode::kNotFound,
                         "Sign-in through an identity provider is not configured (start keybridge "
                         "with --oidc-issuer, --oidc-client-id and --oidc-client-secret).");
}

}  // namespace

std::string SessionCookieName(bool secure_cookies) {
  return secure_cookies ? "__Host-kb_session" : "kb_session";
}

void AddAuthRoutes(http::Router& router, service::BrowserSessionService& sessions,
                   service::BrowserLoginService* login, AuthRouteOptions options) {
  const std::string cookie_name = SessionCookieName(options.secure_cookies);

  router.Add("GET", "/api/data/user", [cookie_name](http::Request& request) {
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

  router.Add("GET", "/api/data/auth/methods", [login, options](http::Request&) {
    return JsonResponse(
        200, {{"oidc", login != nullptr},
              {"local_token", true},
              {"public_url", options.public_url},
              {"oauth_callback_url", core::PublicUrls(options.public_url).OAuthCallback()}});
  });

  // The printed link is <public_url>/api/data/auth/once#<token>: the token is in the fragment, so
  // it never reaches a server or proxy log. A redirect without a fragment keeps the request's
  // fragment (RFC 9110 10.2.2), so the page at /?signin=once can read it and POST it.
  router.Add("GET", core::kSignInLinkPath, [](http::Request&) {
    return NoStore(http::Response::Redirect("/?signin=once", 303))
        .WithHeader("Referrer-Policy", "no-referrer");
  });

  router.Add("POST", core::kSignInLinkPath, [&sessions, options](http::Request& request) {
    auto token = TokenField(request);
    if (!token.ok()) {
      return http::ErrorResponse(token.error());
    }
    return SignedInResponse(sessions.SignInWithLink(*token), sessions, options);
  });

  router.Add("POST", "/api/data/auth/token", [&sessions, options](http::Request& request) {
    auto token = TokenField(request);
    if (!token.ok()) {
      return http::ErrorResponse(token.error());
    }
    return SignedInResponse(sessions.SignInWithLocalToken(*token), sessions, options);
  });

  router.Add("POST", "/api/data/auth/logout",
             [&sessions, options, cookie_name](http::Request& request) {
               if (!request.caller.browser_session) {
                 return http::ErrorResponse(core::MakeError(
                     core::ErrorCode::kUnauthenticated, "You are not signed in in this browser."));
               }
               const auto cookie = http::CookieValue(request.Header("cookie"), cookie_name);
               if (auto out = sessions.SignOut(cookie.value_or("")); !out.ok()) {
                 return http::ErrorResponse(out.error());
               }
               return NoStore(http::Response::NoContent().WithHeader(
                   "Set-Cookie", SessionCookie(cookie_name, "", 0, options.secure_cookies)));
             });

  router.Add("GET", "/api/data/auth/login", [login, options](http::Request& request) {
    if (login == nullptr) {
      return http::ErrorResponse(NotConfigured());
    }
    auto started = login->Start(request.Query("next").value_or("/"));
    if (!started.ok()) {
      return NoStore(http::ErrorResponse(started.error()));
    }
    std::string cookie = started->cookie_name + "=" + started->browser_binding.Reveal()
                         + "; Path=" + core::kBrowserSignInCallbackPath
                         + "; Max-Age=600; HttpOnly; SameSite=Lax";
    if (options.secure_cookies) {
      cookie += "; Secure";
    }
    return NoStore(http::Response::Redirect(started->redirect_url))
        .WithHeader("Set-Cookie", cookie)
        .WithHeader("Referrer-Policy", "no-referrer");
  });

  router.Add("GET", core::kBrowserSignInCallbackPath,
             [login, &sessions, options](http::Request& request) {
               if (login == nullptr) {
                 return http::ErrorResponse(NotConfigured());
               }
               service::LoginCallback callback;
               callback.state = request.Query("state");
               if (auto code = request.Query("code")) {
                 callback.code = core::Secret(std::move(*code));
               }
               callback.error = request.Query("error");
               callback.error_description = request.Query("error_description");
               std::string flow_cookie;
               if (callback.state) {
                 flow_cookie = service::BrowserLoginService::CookieName(*callback.state);
                 if (auto value = http::CookieValue(request.Header("cookie"), flow_cookie)) {
                   callback.browser_binding = core::Secret(std::move(*value));
                 }
               }
               auto completed = login->Complete(callback);
               http::Response response =
                   completed.ok()
                       // 303 to a clean URL without the code (RFC 9700 4.2.4)
                       ? http::Response::Redirect(completed->next_path, 303)
                             .WithHeader("Set-Cookie",
                                         SessionCookie(SessionCookieName(options.secure_cookies),
                                                       completed->session.cookie_value.Reveal(),
                                                       sessions.absolute_lifetime().count(),
                                                       options.secure_cookies))
                       : http::ErrorResponse(completed.error());
               if (!flow_cookie.empty()) {
                 std::string clear = flow_cookie
                                     + "=; Path=" + std::string(core::kBrowserSignInCallbackPath)
                                     + "; Max-Age=0; HttpOnly; SameSite=Lax";
                 if (options.secure_cookies) {
                   clear += "; Secure";
                 }
                 response.WithHeader("Set-Cookie", clear);
               }
               return NoStore(std::move(response)).WithHeader("Referrer-Policy", "no-referrer");
             });
}

}  // namespace keybridge::routes
