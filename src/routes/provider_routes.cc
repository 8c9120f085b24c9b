#include "routes/provider_routes.h"

#include <nlohmann/json.hpp>

#include "oauth/provider_profile.h"
#include "routes/json_body.h"

namespace keybridge::routes {
namespace {

using nlohmann::json;

constexpr const char* kCollection = "/api/data/oauth2/providers";
constexpr const char* kItem = "/api/data/oauth2/providers/{provider_id}";
constexpr const char* kCheck = "/api/data/oauth2/providers/{provider_id}/check";
// No integration can be POSTed to kItem, so this literal path never shadows one named "check".
constexpr const char* kCheckDraft = "/api/data/oauth2/providers/check";

// Renku's Provider schema. Non-admins see client_id as ""; admins see "redacted" when a secret is
// set. The secret itself never leaves the server. Null optionals are omitted (exclude none).
json ProviderToJson(const core::Provider& p, bool admin) {
  json out = {
      {"id", p.id.value()},
      {"kind", std::string(core::ToString(p.kind))},
      {"app_slug", p.app_slug},
      {"client_id", admin ? p.client_id : ""},
      {"client_secret", admin && p.client_secret ? "redacted" : ""},
      {"display_name", p.display_name},
      {"scope", p.scope},
      {"url", p.url},
      {"use_pkce", p.use_pkce},
      // Not in Renku's schema: applied from an integrations file, so the API refuses to edit or
      // delete it (409) and the UI hides Edit and Delete.
      {"managed_by_file", p.managed_by_file},
  };
  if (p.image_registry_url) {
    out["image_registry_url"] = *p.image_registry_url;
  }
  if (p.oidc_issuer_url) {
    out["oidc_issuer_url"] = *p.oidc_issuer_url;
  }
  // Not in Renku's schema (additional field): where users install the GitHub App, Enterprise-
  // aware, so clients need not guess the URL (it differs on Enterprise Server).
  if (core::IsGitHubApp(p)) {
    out["install_url"] = oauth::InstallUrl(p);
  }
  if (p.kind == core::ProviderKind::kGitHub) {
    out["github_flavor"] = std::string(oauth::GitHubFlavor(p));  // the UI's GitHub.com test
  }
  return out;
}

core::Result<std::optional<core::Secret>> OptionalSecret(const json& body, const char* field) {
  KEYBRIDGE_ASSIGN_OR_RETURN(auto text, OptionalString(body, field));
  if (!text) {
    return std::optional<core::Secret>();
  }
  return std::optional<core::Secret>(core::Secret(std::move(*text)));
}

core::Result<service::ProviderCreate> ParseCreate(const http::Request& request) {
  KEYBRIDGE_ASSIGN_OR_RETURN(json body, ParseJsonObject(request));
  KEYBRIDGE_RETURN_IF_ERROR(RejectUnknownFields(
      body, {"id", "kind", "app_slug", "client_id", "client_secret", "display_name", "scope", "url",
             "use_pkce", "image_registry_url", "oidc_issuer_url"}));
  service::ProviderCreate c;
  KEYBRIDGE_ASSIGN_OR_RETURN(c.id, RequiredString(body, "id"));
  KEYBRIDGE_ASSIGN_OR_RETURN(std::string kind, RequiredString(body, "kind"));
  KEYBRIDGE_ASSIGN_OR_RETURN(c.kind, core::ParseProviderKind(kind));
  KEYBRIDGE_ASSIGN_OR_RETURN(c.client_id, RequiredString(body, "client_id"));
  KEYBRIDGE_ASSIGN_OR_RETURN(c.display_name, RequiredString(body, "display_name"));
  KEYBRIDGE_ASSIGN_OR_RETURN(c.scope, RequiredString(body, "scope"));
  KEYBRIDGE_ASSIGN_OR_RETURN(c.url, RequiredString(body, "url"));
  KEYBRIDGE_ASSIGN_OR_RETURN(auto app_slug, OptionalString(body, "app_slug"));
  c.app_slug = app_slug.value_or("");
  KEYBRIDGE_ASSIGN_OR_RETURN(c.client_secret, OptionalSecret(body, "client_secret"));
  KEYBRIDGE_ASSIGN_OR_RETURN(c.use_pkce, OptionalBool(body, "use_pkce"));
  KEYBRIDGE_ASSIGN_OR_RETURN(c.image_registry_url, OptionalString(body, "image_registry_url"));
  KEYBRIDGE_ASSIGN_OR_RETURN(c.oidc_issuer_url, OptionalString(body, "oidc_issuer_url"));
  return c;
}

// The create body of an integration the admin form has not saved yet; only `kind` is required
// (the form checks its scopes while other fields are still empty).
core::Result<service::ProviderCreate> ParseDraft(const http::Request& request) {
  KEYBRIDGE_ASSIGN_OR_RETURN(json body, ParseJsonObject(request));
  KEYBRIDGE_RETURN_IF_ERROR(RejectUnknownFields(
      body, {"id", "kind", "app_slug", "client_id", "client_secret", "display_name", "scope", "url",
             "use_pkce", "image_registry_url", "oidc_issuer_url"}));
  service::ProviderCreate c;
  KEYBRIDGE_ASSIGN_OR_RETURN(std::string kind, RequiredString(body, "kind"));
  KEYBRIDGE_ASSIGN_OR_RETURN(c.kind, core::ParseProviderKind(kind));
  for (auto [field, target] :
       {std::pair{"id", &c.id}, std::pair{"client_id", &c.client_id},
        std::pair{"display_name", &c.display_name}, std::pair{"scope", &c.scope},
        std::pair{"url", &c.url}, std::pair{"app_slug", &c.app_slug}}) {
    KEYBRIDGE_ASSIGN_OR_RETURN(auto value, OptionalString(body, field));
    *target = value.value_or("");
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(c.client_secret, OptionalSecret(body, "client_secret"));
  KEYBRIDGE_ASSIGN_OR_RETURN(c.use_pkce, OptionalBool(body, "use_pkce"));
  KEYBRIDGE_ASSIGN_OR_RETURN(c.image_registry_url, OptionalString(body, "image_registry_url"));
  KEYBRIDGE_ASSIGN_OR_RETURN(c.oidc_issuer_url, OptionalString(body, "oidc_issuer_url"));
  return c;
}

core::Result<service::ProviderPatch> ParsePatch(const http::Request& request) {
  KEYBRIDGE_ASSIGN_OR_RETURN(json body, ParseJsonObject(request));
  KEYBRIDGE_RETURN_IF_ERROR(RejectUnknownFields(
      body, {"kind", "app_slug", "client_id", "client_secret", "display_name", "scope", "url",
             "use_pkce", "image_registry_url", "oidc_issuer_url"}));
  service::ProviderPatch p;
  KEYBRIDGE_ASSIGN_OR_RETURN(auto kind, OptionalString(body, "kind"));
  if (kind) {
    KEYBRIDGE_ASSIGN_OR_RETURN(p.kind, core::ParseProviderKind(*kind));
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(p.app_slug, OptionalString(body, "app_slug"));
  KEYBRIDGE_ASSIGN_OR_RETURN(p.client_id, OptionalString(body, "client_id"));
  KEYBRIDGE_ASSIGN_OR_RETURN(p.client_secret, OptionalSecret(body, "client_secret"));
  KEYBRIDGE_ASSIGN_OR_RETURN(p.display_name, OptionalString(body, "display_name"));
  KEYBRIDGE_ASSIGN_OR_RETURN(p.scope, OptionalString(body, "scope"));
  KEYBRIDGE_ASSIGN_OR_RETURN(p.url, OptionalString(body, "url"));
  KEYBRIDGE_ASSIGN_OR_RETURN(p.use_pkce, OptionalBool(body, "use_pkce"));
  KEYBRIDGE_ASSIGN_OR_RETURN(p.image_registry_url, OptionalString(body, "image_registry_url"));
  KEYBRIDGE_ASSIGN_OR_RETURN(p.oidc_issuer_url, OptionalString(body, "oidc_issuer_url"));
  return p;
}

core::ProviderId PathProviderId(const http::Request& request) {
  return core::ProviderId(request.PathParam("provider_id"));
}

json ReportToJson(const service::ProviderCheckReport& report) {
  return {{"provider_id", report.provider_id.value()},
          {"ok", report.ok},
          {"checked_at", core::FormatIso8601(report.checked_at)},
          {"checks", ChecklistToJson(report.checks)}};
}

}  // namespace

void AddProviderRoutes(RouteTable& routes, service::ProviderService& service,
                       ConnectionCounter count, service::ConnectionInvalidator* invalidator) {
  routes.Add("GET", kCollection, Access::kAnonymous, Compartment::kDatabase,
             [&service](http::Request& request) -> core::Result<http::Response> {
               KEYBRIDGE_ASSIGN_OR_RETURN(const auto providers, service.List());
               json out = json::array();
               for (const auto& p : providers) {
                 out.push_back(ProviderToJson(p, request.caller.is_admin));
               }
               return JsonResponse(200, out);
             });
  routes.Add(
      "GET", kItem, Access::kAnonymous, Compartment::kDatabase,
      [&service, count = std::move(count)](http::Request& request) -> core::Result<http::Response> {
        KEYBRIDGE_ASSIGN_OR_RETURN(const core::Provider provider,
                                   service.Get(PathProviderId(request)));
        json out = ProviderToJson(provider, request.caller.is_admin);
        if (request.caller.is_admin && count) {
          KEYBRIDGE_ASSIGN_OR_RETURN(out["connection_count"], count(provider.id));
        }
        return JsonResponse(200, out);
      });
  // Admin routes: the route table refuses other callers before the body is parsed, so an
  // anonymous caller learns nothing about the schema.
  routes.Add("POST", kCollection, Access::kAdmin, Compartment::kDatabase,
             [&service](http::Request& request) -> core::Result<http::Response> {
               KEYBRIDGE_ASSIGN_OR_RETURN(auto create, ParseCreate(request));
               KEYBRIDGE_ASSIGN_OR_RETURN(const core::Provider created,
                                          service.Create(request.caller, std::move(create)));
               return JsonResponse(201, ProviderToJson(created, true));
             });
  // On the provider compartment: a change of destination revokes the old grants at the old
  // provider (bounded, ConnectionService::InvalidateConnections).
  routes.Add("PATCH", kItem, Access::kAdmin, Compartment::kProvider,
             [&service, invalidator](http::Request& request) -> core::Result<http::Response> {
               KEYBRIDGE_ASSIGN_OR_RETURN(auto patch, ParsePatch(request));
               KEYBRIDGE_ASSIGN_OR_RETURN(const core::Provider updated,
                                          service.Update(request.caller, PathProviderId(request),
                                                         std::move(patch), invalidator));
               return JsonResponse(200, ProviderToJson(updated, true));
             });
  // On the provider compartment too: deleting revokes the integration's grants at its provider.
  routes.Add("DELETE", kItem, Access::kAdmin, Compartment::kProvider,
             [&service, invalidator](http::Request& request) -> core::Result<http::Response> {
               KEYBRIDGE_RETURN_IF_ERROR(
                   service.Delete(request.caller, PathProviderId(request), invalidator));
               return http::Response::NoContent();
             });
}

json ChecklistToJson(const std::vector<oauth::CheckResult>& checks) {
  json out = json::array();
  for (const auto& check : checks) {
    json item = {{"id", check.id},
                 {"title", check.title},
                 {"status", std::string(oauth::ToString(check.status))},
                 {"detail", check.detail}};
    if (!check.fix.empty()) {
      item["fix"] = check.fix;
    }
    out.push_back(std::move(item));
  }
  return out;
}

void AddProviderCheckRoute(RouteTable& routes, service::ProviderCheckService& checks) {
  routes.Add("POST", kCheck, Access::kAdmin, Compartment::kIntegrationCheck,
             [&checks](http::Request& request) -> core::Result<http::Response> {
               // 200 also when checks fail: the check ran, and its report is the answer.
               KEYBRIDGE_ASSIGN_OR_RETURN(const auto report,
                                          checks.Check(request.caller, PathProviderId(request)));
               return JsonResponse(200, ReportToJson(report));
             });
  // The admin form's check before saving (or, with ?only=scopes, as the admin types). Nothing
  // is stored.
  routes.Add("POST", kCheckDraft, Access::kAdmin, Compartment::kIntegrationCheck,
             [&checks](http::Request& request) -> core::Result<http::Response> {
               const auto only = request.Query("only");
               if (only && *only != "scopes") {
                 return core::MakeError(core::ErrorCode::kInvalidArgument,
                                        "only: the one value accepted is 'scopes'");
               }
               KEYBRIDGE_ASSIGN_OR_RETURN(auto draft, ParseDraft(request));
               KEYBRIDGE_ASSIGN_OR_RETURN(const auto report,
                                          checks.CheckDraft(request.caller, std::move(draft),
                                                            only ? service::CheckItems::kScopes
                                                                 : service::CheckItems::kAll));
               return JsonResponse(200, ReportToJson(report));
             });
}

}  // namespace keybridge::routes
