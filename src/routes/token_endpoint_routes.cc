#include "routes/token_endpoint_routes.h"

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <variant>

#include "core/public_urls.h"
#include "core/text.h"
#include "oauth/form.h"
#include "routes/json_body.h"
#include "service/ulid.h"

namespace keybridge::routes {
namespace {

using nlohmann::json;

// RFC 6749 §5.1: token answers must not be cached.
http::Response NoStore(http::Response response) {
  return std::move(
      response.WithHeader("Cache-Control", "no-store").WithHeader("Pragma", "no-cache"));
}

// An RFC 6749 §5.2 error answer.
http::Response OAuthError(std::string_view error, std::string description) {
  return NoStore(
      JsonResponse(400, {{"error", error}, {"error_description", std::move(description)}}));
}

// RFC 6749 §5.2 for the errors the client (or its user) can act on; anything else stays an Error
// for the route table (kWouldWait moves the request to the provider compartment; 5xx are logged).
core::Result<http::Response> ToOAuthAnswer(const core::Error& error) {
  switch (error.code) {
    case core::ErrorCode::kUnauthenticated:
    case core::ErrorCode::kReauthorizationRequired:
    case core::ErrorCode::kNotFound:
    case core::ErrorCode::kPermissionDenied:
      // The grant (keybridge's handle, or the connection behind it) is no longer good: rclone
      // stops retrying and tells its user to reconnect.
      return OAuthError("invalid_grant", error.message);
    case core::ErrorCode::kInvalidArgument:
    case core::ErrorCode::kBadRequest:
      return OAuthError("invalid_request", error.message);
    default:
      return error;
  }
}

core::Result<core::ConnectionId> PathConnection(const http::Request& request) {
  std::string id = request.PathParam("connection_id");
  if (!service::IsUlid(id)) {
    return core::MakeError(core::ErrorCode::kNotFound,
                           "Connection does not exist or you do not have access.");
  }
  return core::ConnectionId(std::move(id));
}

// The form of a token request (RFC 6749 §3.2: application/x-www-form-urlencoded, no parameter
// twice); the refresh handle, or the §5.2 answer to send instead.
std::variant<std::string, http::Response> ReadRefreshRequest(const http::Request& request) {
  const std::string content_type = core::AsciiLower(request.Header("content-type"));
  if (!content_type.starts_with("application/x-www-form-urlencoded")) {
    return OAuthError("invalid_request",
                      "send the token request as application/x-www-form-urlencoded (RFC 6749 §6)");
  }
  const auto form = oauth::FormDecode(request.body);
  if (!form) {
    return OAuthError("invalid_request", "the request body is not valid form encoding");
  }
  for (std::size_t i = 0; i < form->size(); ++i) {
    for (std::size_t j = i + 1; j < form->size(); ++j) {
      if ((*form)[i].first == (*form)[j].first) {
        return OAuthError("invalid_request", "parameter '" + (*form)[i].first.substr(0, 40)
                                                 + "' is repeated (RFC 6749 §3.2)");
      }
    }
  }
  const std::string* grant_type = oauth::FindField(*form, "grant_type");
  if (grant_type == nullptr || grant_type->empty()) {
    return OAuthError("invalid_request", "grant_type is required (refresh_token)");
  }
  if (*grant_type != "refresh_token") {
    return NoStore(JsonResponse(
        400, {{"error", "unsupported_grant_type"},
              {"error_description", "this endpoint accepts only grant_type=refresh_token"}}));
  }
  const std::string* handle = oauth::FindField(*form, "refresh_token");
  if (handle == nullptr || handle->empty()) {
    return OAuthError("invalid_request", "refresh_token is required");
  }
  return *handle;
}

}  // namespace

void AddTokenEndpointRoutes(RouteTable& routes, service::TokenEndpointService& service) {
  // Anyone holding a handle: rclone sends no keybridge credential, only its own client id and
  // secret (ignored) and the handle in the body. Bounded like any token read: a wrong handle
  // costs one AES-GCM open and no query.
  routes.Add(
      "POST", core::kConnectionTokenEndpointPathTemplate, Access::kOAuthClient,
      Compartment::kMemoryFirst,
      [&service](http::Request& request) -> core::Result<http::Response> {
        auto connection = PathConnection(request);
        if (!connection.ok()) {
          return OAuthError("invalid_grant", connection.error().message);
        }
        auto read = ReadRefreshRequest(request);
        if (auto* answer = std::get_if<http::Response>(&read)) {
          return std::move(*answer);
        }
        auto refreshed = service.Refresh(std::get<std::string>(read), *connection,
                                         request.may_wait_on_providers);
        if (!refreshed.ok()) {
          return ToOAuthAnswer(refreshed.error());
        }
        json out = {{"access_token", refreshed->access_token.Reveal()},
                    {"token_type", "Bearer"},
                    {"refresh_token", refreshed->refresh_token.Reveal()},
                    {"expires_in", refreshed->expires_in}};
        if (!refreshed->scope.empty()) {
          out["scope"] = refreshed->scope;
        }
        return NoStore(JsonResponse(200, out));
      },
      Csrf::kNotRequired);

  // A session (or its user) asks for a ready rclone remote: `keybridge rclone-config`.
  routes.Add("GET", "/api/data/oauth2/connections/{connection_id}/rclone_config",
             Access::kUserOrSession, Compartment::kMemoryFirst,
             [&service](http::Request& request) -> core::Result<http::Response> {
               KEYBRIDGE_ASSIGN_OR_RETURN(const core::ConnectionId id, PathConnection(request));
               KEYBRIDGE_ASSIGN_OR_RETURN(
                   const service::RcloneRemote remote,
                   service.RcloneRemoteFor(request.caller, id, request.may_wait_on_providers));
               // golang.org/x/oauth2's Token as rclone stores it in its `token` option.
               json token = {{"access_token", remote.access_token.Reveal()},
                             {"token_type", "Bearer"},
                             {"refresh_token", remote.refresh_handle.value.Reveal()}};
               if (remote.expiry) {
                 token["expiry"] = core::FormatIso8601(*remote.expiry);
               }
               return NoStore(
                   JsonResponse(200, {{"provider_id", remote.provider_id.value()},
                                      {"type", remote.type},
                                      {"token_url", remote.token_url},
                                      {"token", std::move(token)},
                                      {"refresh_token_expires_at",
                                       core::FormatIso8601(remote.refresh_handle.expires_at)}}));
             });
}

}  // namespace keybridge::routes
