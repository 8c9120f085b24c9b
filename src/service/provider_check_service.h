// ProviderCheckService: "Test this integration". An administrator asks whether an
// integration is configured right; the service probes the provider with oauth/provider_check.h
// requests and returns a checklist whose every failure names the field to fix. It never changes
// anything and never reveals the client secret.
#pragma once

#include <string>
#include <vector>

#include "core/caller.h"
#include "core/clock.h"
#include "core/http_client.h"
#include "core/public_urls.h"
#include "core/repositories.h"
#include "core/result.h"
#include "oauth/provider_check.h"

namespace keybridge::service {

struct ProviderCheckReport {
  core::ProviderId provider_id;
  bool ok = false;  // no check failed (skips and warnings do not count)
  core::TimePoint checked_at{};
  // base_url, endpoints, client_credentials, redirect_uri, app_slug: always all five, in order.
  std::vector<oauth::CheckResult> checks;
};

struct ProviderCheckServiceOptions {
  core::PublicUrls public_urls;  // names the callback to register (PublicUrls::OAuthCallback)
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

 private:
  ProviderCheckReport Run(const core::Provider& provider);

  core::ProviderRepository& providers_;
  core::HttpClient& http_;
  const core::Clock& clock_;
  const ProviderCheckServiceOptions options_;
};

}  // namespace keybridge::service
