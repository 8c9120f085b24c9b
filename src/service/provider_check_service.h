// ProviderCheckService: "Test this integration". An administrator asks whether an
// integration is configured right; the service probes the provider with oauth/provider_check.h
// requests and returns a checklist whose every failure names the field to fix. It never changes
// anything and never reveals the client secret.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/caller.h"
#include "core/clock.h"
#include "core/http_client.h"
#include "core/public_urls.h"
#include "core/repositories.h"
#include "core/result.h"
#include "oauth/provider_check.h"
#include "service/provider_service.h"

namespace keybridge::service {

struct ProviderCheckReport {
  core::ProviderId provider_id;
  bool ok = false;  // no check failed (skips and warnings do not count)
  core::TimePoint checked_at{};
  // base_url, endpoints, client_credentials, redirect_uri, scopes, app_slug, image_registry:
  // always all seven, in order (only "scopes" for CheckItems::kScopes).
  std::vector<oauth::CheckResult> checks;
};

struct ProviderCheckServiceOptions {
  core::PublicUrls public_urls;  // names the callback to register (PublicUrls::OAuthCallback)
};

// Which items a draft check runs.
enum class CheckItems {
  kAll,
  // Only "scopes": no network call but OIDC discovery for generic_oidc (cached 5 minutes), so the
  // admin form can ask as the administrator types.
  kScopes,
};

class ProviderCheckService {
 public:
  // `providers`, `http` and `clock` must outlive the service. Thread-safe.
  ProviderCheckService(core::ProviderRepository& providers, core::HttpClient& http,
                       const core::Clock& clock, ProviderCheckServiceOptions options);

  // Runs every check against the provider `provider_id`. Requests go only to the provider's
  // configured URL, the API base derived from it (api.github.com for github.com) and, for
  // generic_oidc, the configured issuer and its discovered token endpoint; each has a 10 s
  // timeout. A failed check makes the checks that depend on it `skip` with the reason.
  // Errors: kUnauthenticated / kPermissionDenied (admins only), kNotFound; a provider that
  // answers badly is a report with failed checks, not an error.
  core::Result<ProviderCheckReport> Check(const core::Caller& caller,
                                          const core::ProviderId& provider_id);

  // The same checks for an integration that is not (or not yet so) stored: the admin form checks
  // its fields before saving. `draft.id` may be empty (a new integration); when it names a stored
  // integration and the draft has no client secret (absent; "" means none), the stored secret is
  // used (editing), unless the draft changes where the secret goes (ChangedDestinationFields):
  // kInvalidArgument then, as ProviderService::Update. With kAll the draft must be valid
  // (kInvalidArgument naming the field, as Create); with kScopes only the kind matters. Nothing
  // is stored.
  core::Result<ProviderCheckReport> CheckDraft(const core::Caller& caller, ProviderCreate draft,
                                               CheckItems items = CheckItems::kAll);

 private:
  ProviderCheckReport Run(const core::Provider& provider);
  oauth::CheckResult ScopesOnly(const core::Provider& provider);
  // The issuer's scopes_supported ("" when discovery failed or it publishes none), cached.
  std::vector<std::string> OidcScopesSupported(const std::string& issuer);
  void RememberOidcScopes(const std::string& issuer, std::vector<std::string> scopes);

  core::ProviderRepository& providers_;
  core::HttpClient& http_;
  const core::Clock& clock_;
  const ProviderCheckServiceOptions options_;

  struct CachedScopes {
    core::TimePoint fetched_at{};
    std::vector<std::string> scopes;
  };
  std::mutex oidc_scopes_mutex_;
  std::map<std::string, CachedScopes> oidc_scopes_;  // by issuer URL, bounded
};

}  // namespace keybridge::service
