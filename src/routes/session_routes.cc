#include "routes/session_routes.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "routes/json_body.h"

namespace keybridge::routes {
namespace {

using nlohmann::json;

constexpr const char* kCollection = "/api/data/sessions/tokens";

core::Error Invalid(std::string message) {
  return core::MakeError(core::ErrorCode::kInvalidArgument, std::move(message));
}

// Absent or null -> empty; otherwise an array of strings.
core::Result<std::vector<std::string>> StringList(const json& body, const char* field) {
  std::vector<std::string> out;
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    return out;
  }
  if (!it->is_array()) {
    return Invalid(std::string(field) + " must be an array of strings");
  }
  if (it->size() > core::kMaxSessionScopeEntries) {
    return Invalid(std::string(field) + " may have at most "
                   + std::to_string(core::kMaxSessionScopeEntries) + " entries");
  }
  for (const json& item : *it) {
    if (!item.is_string()) {
      return Invalid(std::string(field) + " must be an array of strings");
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

core::Result<std::optional<core::Seconds>> OptionalSeconds(const json& body, const char* field) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    return std::optional<core::Seconds>();
  }
  if (!it->is_number_integer() || it->get<std::int64_t>() <= 0) {
    return Invalid(std::string(field) + " must be a positive integer (seconds)");
  }
  return std::optional(core::Seconds(it->get<std::int64_t>()));
}

core::Result<service::SessionTokenRequest> ParseCreate(const http::Request& request) {
  KEYBRIDGE_ASSIGN_OR_RETURN(json body, ParseJsonObject(request));
  KEYBRIDGE_RETURN_IF_ERROR(RejectUnknownFields(
      body,
      {"session_name", "ttl_seconds", "connection_ids", "repository_urls", "image_repositories"}));
  service::SessionTokenRequest create;
  KEYBRIDGE_ASSIGN_OR_RETURN(create.session_name, RequiredString(body, "session_name"));
  KEYBRIDGE_ASSIGN_OR_RETURN(create.ttl, OptionalSeconds(body, "ttl_seconds"));
  KEYBRIDGE_ASSIGN_OR_RETURN(std::vector<std::string> connection_ids,
                             StringList(body, "connection_ids"));
  for (std::string& id : connection_ids) {
    create.connection_ids.emplace_back(std::move(id));
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(create.repository_urls, StringList(body, "repository_urls"));
  KEYBRIDGE_ASSIGN_OR_RETURN(create.image_repositories, StringList(body, "image_repositories"));
  return create;
}

json ConnectionIdsToJson(const std::vector<core::ConnectionId>& ids) {
  json out = json::array();
  for (const core::ConnectionId& id : ids) {
    out.push_back(id.value());
  }
  return out;
}

// Never carries the token value: only POST adds it, once.
json SessionTokenToJson(const core::SessionToken& t) {
  json out = {{"id", t.id},
              {"session_name", t.session_name},
              {"connection_ids", ConnectionIdsToJson(t.connection_ids)},
              {"repository_urls", t.repository_urls},
              {"image_repositories", t.image_repositories},
              {"created_at", core::FormatIso8601(t.created_at)},
              {"expires_at", core::FormatIso8601(t.expires_at)}};
  if (t.revoked_at) {
    out["revoked_at"] = core::FormatIso8601(*t.revoked_at);
  }
  return out;
}

}  // namespace

void AddSessionRoutes(RouteTable& routes, service::SessionTokenService& sessions) {
  routes.Add("POST", kCollection, Access::kUser, Compartment::kDatabase,
             [&sessions](http::Request& request) -> core::Result<http::Response> {
               KEYBRIDGE_ASSIGN_OR_RETURN(auto create, ParseCreate(request));
               KEYBRIDGE_ASSIGN_OR_RETURN(auto issued, sessions.Create(request.caller, create));
               spdlog::info(
                   "session token created: id={} user={} session={} connections={} "
                   "repositories={} images={}",
                   issued.record.id, issued.record.user_id.value(), issued.record.session_name,
                   issued.record.connection_ids.size(), issued.record.repository_urls.size(),
                   issued.record.image_repositories.size());
               json out = SessionTokenToJson(issued.record);
               out["status"] = "active";
               out["token"] = issued.token.Reveal();
               out["git_config"] = {kGitConfigHelperLine, kGitConfigUseHttpPathLine};
               return std::move(
                   JsonResponse(201, out)
                       .WithHeader("Location", std::string(kCollection) + "/" + issued.record.id)
                       .WithHeader("Cache-Control", "no-store"));
             });

  routes.Add("GET", kCollection, Access::kUser, Compartment::kDatabase,
             [&sessions](http::Request& request) -> core::Result<http::Response> {
               KEYBRIDGE_ASSIGN_OR_RETURN(const auto listed, sessions.List(request.caller));
               json out = json::array();
               for (const service::ListedSessionToken& item : listed) {
                 json token = SessionTokenToJson(item.record);
                 token["status"] = std::string(service::ToString(item.state));
                 out.push_back(std::move(token));
               }
               return JsonResponse(200, out);
             });

  routes.Add(
      "DELETE", std::string(kCollection) + "/{token_id}", Access::kUser, Compartment::kDatabase,
      [&sessions](http::Request& request) -> core::Result<http::Response> {
        const std::string id = request.PathParam("token_id");
        if (!service::IsSessionTokenId(id)) {
          return core::MakeError(core::ErrorCode::kNotFound,
                                 "You have no session token with this id.");
        }
        KEYBRIDGE_RETURN_IF_ERROR(sessions.Revoke(request.caller, id));
        spdlog::info("session token revoked: id={} user={}", id, request.caller.user_id.value());
        return http::Response::NoContent();
      });
}

}  // namespace keybridge::routes
