#include "routes/git_credentials_routes.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "routes/json_body.h"

namespace keybridge::routes {
namespace {

using nlohmann::json;

// A git command runs for a while after it got its credentials (the issue asks for 5 minutes).
constexpr int kDefaultMinValidSeconds = 300;
constexpr int kMaxMinValidSeconds = 86400;

core::Error Invalid(std::string message) {
  return core::MakeError(core::ErrorCode::kInvalidArgument, std::move(message));
}

bool IsLowerHex(std::string_view text, std::size_t size) {
  return text.size() == size && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

core::Result<service::TokenDemand> ParseDemand(const http::Request& request) {
  service::TokenDemand demand;
  demand.min_valid = core::Seconds(kDefaultMinValidSeconds);
  for (const auto& [key, value] : request.QueryParams()) {
    if (key == "url" || key == "provider_id" || key == "path") {
      continue;
    }
    if (key == "min_valid_seconds") {
      int seconds = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
      if (ec != std::errc() || ptr != value.data() + value.size() || seconds < 0
          || seconds > kMaxMinValidSeconds) {
        return Invalid("query parameter 'min_valid_seconds' must be an integer from 0 to "
                       + std::to_string(kMaxMinValidSeconds));
      }
      demand.min_valid = core::Seconds(seconds);
    } else if (key == "force_refresh") {
      if (value != "0" && value != "1" && value != "true" && value != "false") {
        return Invalid("query parameter 'force_refresh' must be 1 or 0");
      }
      demand.force_refresh = value == "1" || value == "true";
    } else if (key == "rejected_sha256") {
      if (!IsLowerHex(value, 64)) {
        return Invalid("query parameter 'rejected_sha256' must be 64 lower-case hex digits");
      }
      demand.rejected_token_sha256 = value;
    } else {
      return Invalid("unknown query parameter '" + key.substr(0, 60) + "'");
    }
  }
  if (!demand.rejected_token_sha256.empty() && !demand.force_refresh) {
    return Invalid("query parameter 'rejected_sha256' needs force_refresh=1");
  }
  return demand;
}

// The lookup's error, plus what the user can do about it: where to connect, the provider, and
// for GitHub Apps where to install the App (clients read these next to "error").
core::Error LookupError(const service::GitCredentialLookup& lookup) {
  core::Error error = lookup.credential.error();
  error.WithPublicField("provider_id", lookup.provider.id.value())
      .WithPublicField("provider_name", lookup.provider.display_name);
  if (!lookup.connect_url.empty()) {
    error.WithPublicField("connect_url", lookup.connect_url);
  }
  if (!lookup.install_url.empty()) {
    error.WithPublicField("install_url", lookup.install_url);
  }
  return error;
}

}  // namespace

void AddGitCredentialsRoutes(RouteTable& routes, service::GitCredentialService& credentials) {
  routes.Add(
      "GET", kGitCredentialsPath, Access::kUserOrSession, Compartment::kMemoryFirst,
      [&credentials](http::Request& request) -> core::Result<http::Response> {
        // Either the remote's URL (the credential helper), or an integration id and the
        // repository path below its URL (keybridge git-proxy, which names the integration in its
        // own URL).
        const std::optional<std::string> url = request.Query("url");
        const std::optional<std::string> provider_id = request.Query("provider_id");
        const std::optional<std::string> path = request.Query("path");
        const bool by_url = url && !url->empty();
        const bool by_provider = provider_id && !provider_id->empty() && path && !path->empty();
        if (by_url == by_provider || (!by_url && (provider_id || path) && !by_provider)) {
          return Invalid(
              "give either query parameter 'url' (the git remote URL) or both 'provider_id' and "
              "'path' (the repository path below the integration's URL)");
        }
        KEYBRIDGE_ASSIGN_OR_RETURN(service::TokenDemand demand, ParseDemand(request));
        demand.may_call_provider = request.may_wait_on_providers;
        KEYBRIDGE_ASSIGN_OR_RETURN(
            const service::GitCredentialLookup lookup,
            by_url ? credentials.Lookup(request.caller, *url, demand)
                   : credentials.LookupAt(request.caller, core::ProviderId(*provider_id), *path,
                                          demand));
        if (!lookup.credential.ok()
            && lookup.credential.error().code == core::ErrorCode::kWouldWait) {
          return lookup.credential.error();  // the route table runs this again on the provider
        }
        if (!lookup.credential.ok()) {
          // The answer depends on the caller's connections: never from a cache.
          http::Response response = ErrorAnswer(request, LookupError(lookup));
          return std::move(response.WithHeader("Cache-Control", "no-store"));
        }
        const service::GitCredential& credential = *lookup.credential;
        // The credential helper names the remote's URL; keybridge git-proxy the integration and
        // path.
        service::AuditTokenHandedOut(credentials.audit(), request.caller, credential.connection,
                                     by_url ? "git-credential" : "git-proxy",
                                     lookup.repository_url);
        json out = {{"username", credential.username},
                    {"password", credential.password.Reveal()},
                    {"provider_id", lookup.provider.id.value()},
                    {"repository_url", lookup.repository_url},
                    {"connection_id", credential.connection.id.value()}};
        if (!lookup.install_url.empty()) {
          // A GitHub App token reaches only installed repositories; clients name this URL when
          // the provider refuses one.
          out["install_url"] = lookup.install_url;
        }
        if (credential.expires_at) {
          out["expires_at"] = core::ToUnixSeconds(*credential.expires_at);
          out["expires_at_iso"] = core::FormatIso8601(*credential.expires_at);
        }
        return std::move(JsonResponse(200, out).WithHeader("Cache-Control", "no-store"));
      });
}

}  // namespace keybridge::routes
