#include "routes/repository_routes.h"

#include <nlohmann/json.hpp>
#include <string>

#include "routes/json_body.h"

namespace keybridge::routes {
namespace {

using nlohmann::json;

json CheckToJson(const service::RepositoryCheck& check) {
  json out = {{"status", std::string(check.Status())}};
  if (check.connection) {
    out["connection"] = {{"id", check.connection->id.value()},
                         {"provider_id", check.connection->provider_id.value()},
                         {"status", std::string(core::ToString(check.connection->status))}};
  }
  if (check.provider) {
    out["provider"] = {{"id", check.provider->id.value()},
                       {"name", check.provider->display_name},
                       {"url", check.provider->url}};
  }
  if (check.metadata) {
    const oauth::RepositoryMetadata& m = *check.metadata;
    json metadata = {{"git_url", m.git_url},
                     {"pull_permission", m.pull_permission},
                     {"visibility", m.is_public ? "public" : "private"}};
    if (!m.web_url.empty()) {
      metadata["web_url"] = m.web_url;
    }
    if (m.push_permission) {
      metadata["push_permission"] = *m.push_permission;
    }
    out["metadata"] = std::move(metadata);
  }
  if (check.error) {
    out["error_code"] = std::string(service::ToString(*check.error));
  }
  if (!check.message.empty()) {
    out["message"] = check.message;
  }
  if (!check.connect_url.empty()) {
    out["connect_url"] = check.connect_url;
  }
  if (!check.install_url.empty()) {
    out["install_url"] = check.install_url;
  }
  return out;
}

}  // namespace

void AddRepositoryRoutes(RouteTable& routes, service::RepositoryService& repositories,
                         core::RateLimiter* per_client) {
  routes.Add("GET", "/api/data/repository", Access::kAnonymousOrSession, Compartment::kProbe,
             [&repositories](http::Request& request) -> core::Result<http::Response> {
               for (const auto& [key, value] : request.QueryParams()) {
                 if (key != "url") {
                   return core::MakeError(core::ErrorCode::kInvalidArgument,
                                          "unknown query parameter '" + key.substr(0, 60) + "'");
                 }
               }
               KEYBRIDGE_ASSIGN_OR_RETURN(
                   const service::RepositoryCheck check,
                   repositories.Check(request.caller, request.Query("url").value_or(""),
                                      request.Header("if-none-match")));
               // The answer depends on who asks (their token, their connection): never from a
               // shared cache, and revalidated with the provider's ETag each time.
               http::Response response;
               if (check.not_modified) {
                 response.status = 304;
               } else {
                 response = JsonResponse(200, CheckToJson(check));
               }
               if (!check.etag.empty()) {
                 response.WithHeader("ETag", check.etag);
               }
               return std::move(response.WithHeader("Cache-Control", "private, no-cache"));
             });
  if (per_client != nullptr) {
    routes.LimitPerClient("GET", "/api/data/repository", *per_client);
  }
}

}  // namespace keybridge::routes
