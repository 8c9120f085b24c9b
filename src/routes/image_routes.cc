#include "routes/image_routes.h"

#include <charconv>
#include <nlohmann/json.hpp>
#include <string>

#include "routes/json_body.h"

namespace keybridge::routes {
namespace {

using nlohmann::json;

// A pull runs for a while after it got its credentials, as a git command does.
constexpr int kDefaultMinValidSeconds = 300;
constexpr int kMaxMinValidSeconds = 86400;

core::Error Invalid(std::string message) {
  return core::MakeError(core::ErrorCode::kInvalidArgument, std::move(message));
}

// The one query parameter `name` (required) and optionally min_valid_seconds; nothing else.
core::Result<std::string> ParseQuery(const http::Request& request, std::string_view name,
                                     service::TokenDemand* demand) {
  for (const auto& [key, value] : request.QueryParams()) {
    if (key == name) {
      continue;
    }
    if (demand != nullptr && key == "min_valid_seconds") {
      int seconds = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
      if (ec != std::errc() || ptr != value.data() + value.size() || seconds < 0
          || seconds > kMaxMinValidSeconds) {
        return Invalid("query parameter 'min_valid_seconds' must be an integer from 0 to "
                       + std::to_string(kMaxMinValidSeconds));
      }
      demand->min_valid = core::Seconds(seconds);
      continue;
    }
    return Invalid("unknown query parameter '" + key.substr(0, 60) + "'");
  }
  std::string value = request.Query(std::string(name)).value_or("");
  if (value.empty()) {
    return Invalid("query parameter '" + std::string(name) + "' is required");
  }
  return value;
}

json CheckToJson(const service::ImageCheck& check) {
  json out = {{"accessible", check.accessible}};
  if (!check.platforms.empty()) {
    json platforms = json::array();
    for (const oauth::ImagePlatform& p : check.platforms) {
      json platform = {{"os", p.os}, {"architecture", p.architecture}};
      if (!p.variant.empty()) {
        platform["variant"] = p.variant;
      }
      platforms.push_back(std::move(platform));
    }
    out["platforms"] = std::move(platforms);
  }
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
  if (!check.connect_url.empty()) {
    out["connect_url"] = check.connect_url;
  }
  if (!check.message.empty()) {
    out["message"] = check.message;
  }
  return out;
}

// The lookup's error with what the user can do about it, as the git credentials route answers.
// `not_connected_forbidden`: the pull secret answers "no connection" with 403 (the user is known
// but may not have the secret yet), where credential helpers get git credentials' 404.
http::Response LookupError(const http::Request& request,
                           const service::RegistryCredentialLookup& lookup,
                           bool not_connected_forbidden) {
  core::Error error = lookup.credential.error();
  if (not_connected_forbidden && error.code == core::ErrorCode::kNotFound) {
    error.code = core::ErrorCode::kPermissionDenied;
  }
  error.WithPublicField("provider_id", lookup.provider.id.value())
      .WithPublicField("provider_name", lookup.provider.display_name);
  if (!lookup.connect_url.empty()) {
    error.WithPublicField("connect_url", lookup.connect_url);
  }
  http::Response response = ErrorAnswer(request, error);
  return std::move(response.WithHeader("Cache-Control", "no-store"));
}

json ExpiresAt(const service::RegistryCredential& credential) {
  return credential.expires_at ? json(core::FormatIso8601(*credential.expires_at)) : json(nullptr);
}

}  // namespace

void AddImageRoutes(RouteTable& routes, service::ImageService& images,
                    core::RateLimiter* per_client) {
  routes.Add(
      "GET", kImageCheckPath, Access::kAnonymousOrSession, Compartment::kProbe,
      [&images](http::Request& request) -> core::Result<http::Response> {
        KEYBRIDGE_ASSIGN_OR_RETURN(const std::string image_url,
                                   ParseQuery(request, "image_url", nullptr));
        KEYBRIDGE_ASSIGN_OR_RETURN(const service::ImageCheck check,
                                   images.Check(request.caller, image_url));
        // The answer depends on who asks (their token, their connection).
        return std::move(
            JsonResponse(200, CheckToJson(check)).WithHeader("Cache-Control", "private, no-store"));
      });
  if (per_client != nullptr) {
    routes.LimitPerClient("GET", kImageCheckPath, *per_client);
  }

  routes.Add("GET", kPullSecretPath, Access::kUserOrSession, Compartment::kMemoryFirst,
             [&images](http::Request& request) -> core::Result<http::Response> {
               service::TokenDemand demand;
               demand.min_valid = core::Seconds(kDefaultMinValidSeconds);
               KEYBRIDGE_ASSIGN_OR_RETURN(const std::string image_url,
                                          ParseQuery(request, "image_url", &demand));
               demand.may_call_provider = request.may_wait_on_providers;
               KEYBRIDGE_ASSIGN_OR_RETURN(const service::RegistryCredentialLookup lookup,
                                          images.PullSecret(request.caller, image_url, demand));
               if (!lookup.credential.ok()) {
                 if (lookup.credential.error().code == core::ErrorCode::kWouldWait) {
                   return lookup.credential.error();  // the route table runs this on the provider
                 }
                 return LookupError(request, lookup, true);
               }
               const service::RegistryCredential& credential = *lookup.credential;
               service::AuditTokenHandedOut(images.audit(), request.caller, credential.connection,
                                            "pull-secret", image_url);
               const core::Secret config = oauth::DockerConfigJsonBase64(
                   lookup.registry, oauth::RegistryLogin{credential.username, credential.secret});
               json out = {{"apiVersion", "v1"},
                           {"kind", "Secret"},
                           {"type", "kubernetes.io/dockerconfigjson"},
                           {"metadata", {{"name", "keybridge-" + lookup.provider.id.value()}}},
                           {"data", {{".dockerconfigjson", config.Reveal()}}},
                           {"expires_at", ExpiresAt(credential)}};
               return std::move(JsonResponse(200, out).WithHeader("Cache-Control", "no-store"));
             });

  routes.Add("GET", kRegistryCredentialsPath, Access::kUserOrSession, Compartment::kMemoryFirst,
             [&images](http::Request& request) -> core::Result<http::Response> {
               service::TokenDemand demand;
               demand.min_valid = core::Seconds(kDefaultMinValidSeconds);
               KEYBRIDGE_ASSIGN_OR_RETURN(const std::string server_url,
                                          ParseQuery(request, "server_url", &demand));
               demand.may_call_provider = request.may_wait_on_providers;
               KEYBRIDGE_ASSIGN_OR_RETURN(
                   const service::RegistryCredentialLookup lookup,
                   images.RegistryCredentials(request.caller, server_url, demand));
               if (!lookup.credential.ok()) {
                 if (lookup.credential.error().code == core::ErrorCode::kWouldWait) {
                   return lookup.credential.error();
                 }
                 return LookupError(request, lookup, false);
               }
               const service::RegistryCredential& credential = *lookup.credential;
               service::AuditTokenHandedOut(images.audit(), request.caller, credential.connection,
                                            "docker-helper", server_url);
               json out = {{"server_url", lookup.registry},
                           {"username", credential.username},
                           {"secret", credential.secret.Reveal()},
                           {"expires_at", ExpiresAt(credential)},
                           {"provider_id", lookup.provider.id.value()},
                           {"connection_id", credential.connection.id.value()}};
               return std::move(JsonResponse(200, out).WithHeader("Cache-Control", "no-store"));
             });
}

}  // namespace keybridge::routes
