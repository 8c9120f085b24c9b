#include "routes/connection_routes.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <ctime>
#include <nlohmann/json.hpp>

#include "core/public_urls.h"
#include "http/error_response.h"
#include "routes/json_body.h"
#include "service/ulid.h"

namespace keybridge::routes {
namespace {

using nlohmann::json;

constexpr const char* kCallbackPath = core::kOAuthCallbackPath;

json ConnectionToJson(const core::Connection& c) {
  json out = {{"id", c.id},
              {"provider_id", c.provider_id},
              {"status", std::string(core::ToString(c.status))}};
  if (!c.status_reason.empty()) {
    out["status_reason"] = c.status_reason;
  }
  return out;
}

// Renku's token response: the token set without the refresh token, plus expires_at_iso.
// expires_in is the lifetime the provider announced (Renku compatibility); consumers should use
// expires_at.
json TokenToJson(const core::TokenSet& t) {
  json out = {
      {"access_token", t.access_token.Reveal()}, {"token_type", t.token_type}, {"scope", t.scope}};
  if (t.expires_in) {
    out["expires_in"] = *t.expires_in;
  }
  if (t.expires_at) {
    out["expires_at"] = core::ToUnixSeconds(*t.expires_at);
    out["expires_at_iso"] = core::FormatIso8601(*t.expires_at);
  }
  if (t.id_token) {
    out["id_token"] = t.id_token->Reveal();
  }
  return out;
}

core::Result<int> IntParam(const http::Request& request, const char* name, int fallback, int min,
                           int max) {
  auto text = request.Query(name);
  if (!text) {
    return fallback;
  }
  int value = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || ptr != text->data() + text->size() || value < min || value > max) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           std::string("query parameter '") + name + "' must be an integer from "
                               + std::to_string(min) + " to " + std::to_string(max));
  }
  return value;
}

core::Status OnlyQueryKeys(const http::Request& request,
                           std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : request.QueryParams()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return core::MakeError(core::ErrorCode::kInvalidArgument,
                             "unknown query parameter '" + key.substr(0, 60) + "'");
    }
  }
  return core::OkStatus();
}

// Connection ids are ULIDs; anything else cannot exist (Renku: the route does not match -> 404).
core::Status CheckConnectionId(const std::string& id) {
  if (!service::IsUlid(id)) {
    return core::MakeError(core::ErrorCode::kNotFound,
                           "Connection does not exist or you do not have access.");
  }
  return core::OkStatus();
}

}  // namespace

void AddConnectionRoutes(http::Router& router, service::ConnectionService& connections,
                         service::TokenService& tokens, ConnectionRouteOptions options) {
  router.Add(
      "GET", core::kProviderAuthorizePathTemplate, [&connections, options](http::Request& request) {
        if (auto ok = OnlyQueryKeys(request, {"next_url"}); !ok.ok()) {
          return http::ErrorResponse(ok.error());
        }
        auto started =
            connections.StartAuthorization(request.caller, request.PathParam("provider_id"),
                                           request.Query("next_url").value_or(""));
        if (!started.ok()) {
          return http::ErrorResponse(started.error());
        }
        std::string cookie = started->cookie_name + "=" + started->browser_binding.Reveal()
                             + "; Path=" + kCallbackPath + "; Max-Age=600; HttpOnly; SameSite=Lax";
        if (options.secure_cookies) {
          cookie += "; Secure";
        }
        return http::Response::Redirect(started->redirect_url)
            .WithHeader("Set-Cookie", cookie)
            .WithHeader("Cache-Control", "no-store")
            .WithHeader("Referrer-Policy", "no-referrer");
      });

  router.Add("GET", kCallbackPath, [&connections, options](http::Request& request) {
    service::CallbackParameters params;
    params.state = request.Query("state");
    if (auto code = request.Query("code")) {
      params.code = core::Secret(std::move(*code));
    }
    params.error = request.Query("error");
    params.error_description = request.Query("error_description");
    params.caller = request.caller;
    std::string cookie_name;
    if (params.state) {
      cookie_name = service::ConnectionService::FlowCookieName(*params.state);
      if (auto value = http::CookieValue(request.Header("cookie"), cookie_name)) {
        params.browser_binding = core::Secret(std::move(*value));
      }
    }
    auto completed = connections.CompleteAuthorization(params);
    http::Response response = !completed.ok() ? http::ErrorResponse(completed.error())
                              : completed->redirect_url.empty()
                                  ? JsonResponse(200, {{"status", "OK"}})
                                  // 303 to a clean URL without the code (RFC 9700 4.2.4)
                                  : http::Response::Redirect(completed->redirect_url, 303);
    if (!cookie_name.empty()) {
      std::string clear = cookie_name + "=; Path=" + std::string(kCallbackPath)
                          + "; Max-Age=0; HttpOnly; SameSite=Lax";
      if (options.secure_cookies) {
        clear += "; Secure";
      }
      response.WithHeader("Set-Cookie", clear);
    }
    return response.WithHeader("Cache-Control", "no-store")
        .WithHeader("Referrer-Policy", "no-referrer");
  });

  router.Add("GET", "/api/data/oauth2/connections", [&connections](http::Request& request) {
    auto list = connections.List(request.caller);
    if (!list.ok()) {
      return http::ErrorResponse(list.error());
    }
    json out = json::array();
    for (const auto& c : *list) {
      out.push_back(ConnectionToJson(c));
    }
    return JsonResponse(200, out);
  });

  router.Add("GET", "/api/data/oauth2/connections/{connection_id}",
             [&connections](http::Request& request) {
               const std::string id = request.PathParam("connection_id");
               if (auto ok = CheckConnectionId(id); !ok.ok()) {
                 return http::ErrorResponse(ok.error());
               }
               auto c = connections.Get(request.caller, id);
               return c.ok() ? JsonResponse(200, ConnectionToJson(*c))
                             : http::ErrorResponse(c.error());
             });

  router.Add("DELETE", "/api/data/oauth2/connections/{connection_id}",
             [&connections](http::Request& request) {
               const std::string id = request.PathParam("connection_id");
               if (auto ok = CheckConnectionId(id); !ok.ok()) {
                 return http::ErrorResponse(ok.error());
               }
               auto deleted = connections.Delete(request.caller, id);
               return deleted.ok() ? http::Response::NoContent()
                                   : http::ErrorResponse(deleted.error());
             });

  router.Add("GET", "/api/data/oauth2/connections/{connection_id}/token",
             [&tokens](http::Request& request) {
               const std::string id = request.PathParam("connection_id");
               if (auto ok = CheckConnectionId(id); !ok.ok()) {
                 return http::ErrorResponse(ok.error());
               }
               auto min_valid = IntParam(request, "min_valid_seconds", 0, 0, 86400);
               if (!min_valid.ok()) {
                 return http::ErrorResponse(min_valid.error());
               }
               auto connection =
                   tokens.FreshConnection(request.caller, id, core::Seconds(*min_valid));
               if (!connection.ok()) {
                 return http::ErrorResponse(connection.error());
               }
               // Audit: who (and which session token) obtained which connection's token.
               service::AuditTokenHandedOut(request.caller, *connection, "connection-token");
               return JsonResponse(200, TokenToJson(*connection->token));
             });

  router.Add(
      "GET", "/api/data/oauth2/connections/{connection_id}/account",
      [&connections](http::Request& request) {
        const std::string id = request.PathParam("connection_id");
        if (auto ok = CheckConnectionId(id); !ok.ok()) {
          return http::ErrorResponse(ok.error());
        }
        auto account = connections.Account(request.caller, id);
        if (!account.ok()) {
          return http::ErrorResponse(account.error());
        }
        return JsonResponse(200, {{"username", account->username}, {"web_url", account->web_url}});
      });

  router.Add("GET", "/api/data/oauth2/connections/{connection_id}/installations",
             [&connections](http::Request& request) {
               const std::string id = request.PathParam("connection_id");
               if (auto ok = CheckConnectionId(id); !ok.ok()) {
                 return http::ErrorResponse(ok.error());
               }
               auto page = IntParam(request, "page", 1, 1, 1000000);
               auto per_page = IntParam(request, "per_page", 20, 1, 100);
               if (!page.ok() || !per_page.ok()) {
                 return http::ErrorResponse(!page.ok() ? page.error() : per_page.error());
               }
               auto result = connections.Installations(request.caller, id, *page, *per_page);
               if (!result.ok()) {
                 return http::ErrorResponse(result.error());
               }
               json out = json::array();
               for (const auto& i : result->items) {
                 json item = {{"id", i.id},
                              {"account_login", i.account_login},
                              {"account_web_url", i.account_web_url},
                              {"repository_selection", i.repository_selection}};
                 if (i.suspended_at) {
                   item["suspended_at"] = *i.suspended_at;
                 }
                 out.push_back(std::move(item));
               }
               const auto total = result->total_count;
               const auto pages = total == 0 ? 0 : (total + *per_page - 1) / *per_page;
               return JsonResponse(200, out)
                   .WithHeader("page", std::to_string(*page))
                   .WithHeader("per-page", std::to_string(*per_page))
                   .WithHeader("total", std::to_string(total))
                   .WithHeader("total-pages", std::to_string(pages));
             });
}

}  // namespace keybridge::routes
