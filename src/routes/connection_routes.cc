#include "routes/connection_routes.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <ctime>
#include <nlohmann/json.hpp>

#include "core/public_urls.h"
#include "routes/json_body.h"
#include "service/ulid.h"

namespace keybridge::routes {
namespace {

using nlohmann::json;

constexpr const char* kCallbackPath = core::kOAuthCallbackPath;
constexpr std::int64_t kFlowCookieSeconds = 600;  // as long as the authorization flow lives

json ConnectionToJson(const core::Connection& c) {
  json out = {{"id", c.id.value()},
              {"provider_id", c.provider_id.value()},
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
  json out = json::object();
  // The provider's other fields first (GitLab created_at, GitHub refresh_token_expires_in), as
  // Renku passes them on; keybridge's own members below win, and a refresh token never leaves.
  if (!t.extra_fields_json.empty()) {
    json extras = json::parse(t.extra_fields_json, nullptr, false);
    if (extras.is_object()) {
      extras.erase("refresh_token");
      out = std::move(extras);
    }
  }
  out["access_token"] = t.access_token.Reveal();
  // Like Renku, token_type and scope only when the provider sent them.
  if (!t.token_type.empty()) {
    out["token_type"] = t.token_type;
  }
  if (!t.scope.empty()) {
    out["scope"] = t.scope;
  }
  if (t.expires_in) {
    out["expires_in"] = *t.expires_in;
  }
  if (t.expires_at) {
    out["expires_at"] = core::ToUnixSeconds(*t.expires_at);
    // Python's isoformat(), as Renku writes it: "+00:00", not "Z".
    std::string iso = core::FormatIso8601(*t.expires_at);
    if (iso.ends_with('Z')) {
      iso.replace(iso.size() - 1, 1, "+00:00");
    }
    out["expires_at_iso"] = iso;
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

// The connection the path names. Connection ids are ULIDs; anything else cannot exist (Renku: the
// route does not match -> 404).
core::Result<core::ConnectionId> PathConnectionId(const http::Request& request) {
  std::string id = request.PathParam("connection_id");
  if (!service::IsUlid(id)) {
    return core::MakeError(core::ErrorCode::kNotFound,
                           "Connection does not exist or you do not have access.");
  }
  return core::ConnectionId(std::move(id));
}

}  // namespace

void AddConnectionRoutes(RouteTable& routes, service::ConnectionService& connections,
                         service::TokenService& tokens, ConnectionRouteOptions options) {
  // The flow cookie binds the callback to the browser that started it.
  const http::CookieAttributes flow_cookie{
      .path = kCallbackPath, .max_age = kFlowCookieSeconds, .secure = options.secure_cookies};
  http::CookieAttributes clear_flow_cookie = flow_cookie;
  clear_flow_cookie.max_age = 0;

  service::IntegrationTrialService* trials = options.trials;
  routes.Add(
      "GET", core::kProviderAuthorizePathTemplate, Access::kUser, Compartment::kDatabase,
      [&connections, trials, flow_cookie](http::Request& request) -> core::Result<http::Response> {
        const core::ProviderId provider_id(request.PathParam("provider_id"));
        const auto trial = request.Query("trial");
        if (trial && trials != nullptr) {
          KEYBRIDGE_RETURN_IF_ERROR(OnlyQueryKeys(request, {"trial"}));
        } else {
          KEYBRIDGE_RETURN_IF_ERROR(OnlyQueryKeys(request, {"next_url"}));
        }
        KEYBRIDGE_ASSIGN_OR_RETURN(
            const auto started,
            trial.has_value() && trials != nullptr
                ? trials->StartAuthorization(request.caller, provider_id, *trial)
                : connections.StartAuthorization(request.caller, provider_id,
                                                 request.Query("next_url").value_or("")));
        return std::move(
            http::Response::Redirect(started.redirect_url)
                .WithHeader("Set-Cookie",
                            http::SetCookieHeader(started.cookie_name,
                                                  started.browser_binding.Reveal(), flow_cookie))
                .WithHeader("Cache-Control", "no-store")
                .WithHeader("Referrer-Policy", "no-referrer"));
      });

  // The provider sends the browser here, signed in or not: the flow decides.
  routes.Add("GET", kCallbackPath, Access::kAnonymous, Compartment::kProvider,
             [&connections, trials, clear_flow_cookie](http::Request& request) {
               service::CallbackParameters params;
               params.state = request.Query("state");
               if (auto code = request.Query("code")) {
                 params.code = core::Secret(std::move(*code));
               }
               params.error = request.Query("error");
               params.error_description = request.Query("error_description");
               params.iss = request.Query("iss");
               params.error_uri = request.Query("error_uri");
               params.caller = request.caller;
               std::string cookie_name;
               if (params.state) {
                 cookie_name = service::ConnectionService::FlowCookieName(*params.state);
                 if (auto value = http::CookieValue(request.Header("cookie"), cookie_name)) {
                   params.browser_binding = core::Secret(std::move(*value));
                 }
               }
               // A trial's state completes the trial; any other is a connect's.
               std::optional<core::Result<service::CompletedAuthorization>> trial_completed;
               if (trials != nullptr) {
                 trial_completed = trials->CompleteAuthorization(params);
               }
               auto completed = trial_completed ? std::move(*trial_completed)
                                                : connections.CompleteAuthorization(params);
               http::Response response =
                   !completed.ok() ? ErrorAnswer(request, completed.error())
                   : completed->redirect_url.empty()
                       ? JsonResponse(200, {{"status", "OK"}})
                       // 302 to a clean URL without the code, as Renku answers (the callback
                       // is a GET, so 302 and 303 mean the same to a browser)
                       : http::Response::Redirect(completed->redirect_url, 302);
               if (!cookie_name.empty()) {
                 response.WithHeader("Set-Cookie",
                                     http::SetCookieHeader(cookie_name, "", clear_flow_cookie));
               }
               return core::Result<http::Response>(
                   std::move(response.WithHeader("Cache-Control", "no-store")
                                 .WithHeader("Referrer-Policy", "no-referrer")));
             });

  // The connection routes answer anonymous callers themselves, as Renku does: an empty list, and
  // 404 for one connection (never confirming that someone's connection exists).
  routes.Add("GET", "/api/data/oauth2/connections", Access::kAnonymous, Compartment::kDatabase,
             [&connections](http::Request& request) -> core::Result<http::Response> {
               KEYBRIDGE_ASSIGN_OR_RETURN(const auto list, connections.List(request.caller));
               json out = json::array();
               for (const auto& c : list) {
                 out.push_back(ConnectionToJson(c));
               }
               return JsonResponse(200, out);
             });

  routes.Add("GET", "/api/data/oauth2/connections/{connection_id}", Access::kAnonymous,
             Compartment::kDatabase,
             [&connections](http::Request& request) -> core::Result<http::Response> {
               KEYBRIDGE_ASSIGN_OR_RETURN(const core::ConnectionId id, PathConnectionId(request));
               KEYBRIDGE_ASSIGN_OR_RETURN(const auto c, connections.Get(request.caller, id));
               return JsonResponse(200, ConnectionToJson(c));
             });

  routes.Add("DELETE", "/api/data/oauth2/connections/{connection_id}", Access::kAnonymous,
             Compartment::kProvider,
             [&connections](http::Request& request) -> core::Result<http::Response> {
               KEYBRIDGE_ASSIGN_OR_RETURN(const core::ConnectionId id, PathConnectionId(request));
               KEYBRIDGE_RETURN_IF_ERROR(connections.Delete(request.caller, id));
               return http::Response::NoContent();
             });

  // Session tokens obtain their access tokens here (TokenService checks the session's scope).
  routes.Add("GET", "/api/data/oauth2/connections/{connection_id}/token",
             Access::kAnonymousOrSession, Compartment::kMemoryFirst,
             [&tokens](http::Request& request) -> core::Result<http::Response> {
               KEYBRIDGE_ASSIGN_OR_RETURN(const core::ConnectionId id, PathConnectionId(request));
               KEYBRIDGE_ASSIGN_OR_RETURN(const int min_valid,
                                          IntParam(request, "min_valid_seconds", 0, 0, 86400));
               service::TokenDemand demand;
               demand.min_valid = core::Seconds(min_valid);
               demand.may_call_provider = request.may_wait_on_providers;
               KEYBRIDGE_ASSIGN_OR_RETURN(const core::Connection connection,
                                          tokens.FreshConnection(request.caller, id, demand));
               // Audit: who (and which session token) obtained which connection's token.
               service::AuditTokenHandedOut(tokens.audit(), request.caller, connection, "api");
               return JsonResponse(200, TokenToJson(*connection.token));
             });

  routes.Add(
      "GET", "/api/data/oauth2/connections/{connection_id}/account", Access::kAnonymous,
      Compartment::kProvider,
      [&connections](http::Request& request) -> core::Result<http::Response> {
        KEYBRIDGE_ASSIGN_OR_RETURN(const core::ConnectionId id, PathConnectionId(request));
        KEYBRIDGE_ASSIGN_OR_RETURN(const auto account, connections.Account(request.caller, id));
        return JsonResponse(200, {{"username", account.username}, {"web_url", account.web_url}});
      });

  routes.Add(
      "GET", "/api/data/oauth2/connections/{connection_id}/installations", Access::kAnonymous,
      Compartment::kProvider,
      [&connections](http::Request& request) -> core::Result<http::Response> {
        KEYBRIDGE_ASSIGN_OR_RETURN(const core::ConnectionId id, PathConnectionId(request));
        KEYBRIDGE_ASSIGN_OR_RETURN(const int page, IntParam(request, "page", 1, 1, 1000000));
        KEYBRIDGE_ASSIGN_OR_RETURN(const int per_page, IntParam(request, "per_page", 20, 1, 100));
        KEYBRIDGE_ASSIGN_OR_RETURN(const auto result,
                                   connections.Installations(request.caller, id, page, per_page));
        json out = json::array();
        for (const auto& i : result.items) {
          json item = {{"id", i.id},
                       {"account_login", i.account_login},
                       {"account_web_url", i.account_web_url},
                       {"repository_selection", i.repository_selection}};
          if (i.suspended_at) {
            item["suspended_at"] = *i.suspended_at;
          }
          out.push_back(std::move(item));
        }
        const auto total = result.total_count;
        const auto pages = total == 0 ? 0 : (total + per_page - 1) / per_page;
        return std::move(JsonResponse(200, out)
                             .WithHeader("page", std::to_string(page))
                             .WithHeader("per-page", std::to_string(per_page))
                             .WithHeader("total", std::to_string(total))
                             .WithHeader("total-pages", std::to_string(pages)));
      });
}

}  // namespace keybridge::routes
