#include "service/provider_check_service.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>
#include <utility>

#include "oauth/oidc_discovery.h"
#include "oauth/provider_profile.h"
#include "oauth/scope_vocabulary.h"
#include "service/provider_service.h"

namespace keybridge::service {
namespace {

using oauth::CheckResult;
using oauth::CheckStatus;

bool Failed(const CheckResult& check) {
  return check.status == CheckStatus::kFail;
}

// How long an issuer's scopes_supported is reused for the scope check as the admin types, and how
// many issuers are remembered.
constexpr auto kOidcScopesTtl = std::chrono::minutes(5);
constexpr std::size_t kMaxCachedIssuers = 64;

std::optional<std::string> NonEmpty(const std::optional<std::string>& value) {
  return value && !value->empty() ? value : std::nullopt;
}

}  // namespace

ProviderCheckService::ProviderCheckService(core::ProviderRepository& providers,
                                           core::HttpClient& http, const core::Clock& clock,
                                           ProviderCheckServiceOptions options)
    : providers_(providers), http_(http), clock_(clock), options_(std::move(options)) {}

core::Result<ProviderCheckReport> ProviderCheckService::Check(const core::Caller& caller,
                                                              const core::ProviderId& provider_id) {
  KEYBRIDGE_RETURN_IF_ERROR(RequireAdmin(caller));
  auto provider = providers_.Find(provider_id);
  if (!provider.ok()) {
    if (provider.error().code == core::ErrorCode::kNotFound) {
      return core::MakeError(core::ErrorCode::kNotFound,
                             "OAuth2 Client with id '" + provider_id.value()
                                 + "' does not exist or you do not have access to it.");
    }
    return std::move(provider).TakeError();
  }
  ProviderCheckReport report = Run(*provider);
  std::string summary;
  for (const auto& check : report.checks) {
    summary += " " + check.id + "=" + std::string(oauth::ToString(check.status));
  }
  // Ids and statuses only: details quote provider answers, which stay out of the logs.
  spdlog::info("integration check of '{}' by {}:{}", report.provider_id.value(),
               caller.user_id.value(), summary);
  return report;
}

core::Result<ProviderCheckReport> ProviderCheckService::CheckDraft(const core::Caller& caller,
                                                                   ProviderCreate draft,
                                                                   CheckItems items) {
  KEYBRIDGE_RETURN_IF_ERROR(RequireAdmin(caller));
  const bool all = items == CheckItems::kAll;
  core::Provider p;
  p.kind = draft.kind;
  p.app_slug = std::move(draft.app_slug);
  p.client_id = std::move(draft.client_id);
  p.display_name = std::move(draft.display_name);
  p.scope = std::move(draft.scope);
  p.use_pkce = draft.use_pkce.value_or(DefaultPkce(p.kind));
  p.image_registry_url = NonEmpty(draft.image_registry_url);
  p.oidc_issuer_url = NonEmpty(draft.oidc_issuer_url);
  auto url = core::NormalizeProviderUrl(p.kind, draft.url);
  if (!url.ok() && all) {
    return std::move(url).TakeError();
  }
  p.url = url.ok() ? std::move(url).value() : std::move(draft.url);
  // Absent: the stored secret when editing (below); "": none (the form's "Remove the secret").
  const bool secret_given = draft.client_secret.has_value();
  if (secret_given && !draft.client_secret->empty()) {
    p.client_secret = std::move(draft.client_secret);
  }
  if (!draft.id.empty()) {
    auto id = core::SlugifyProviderId(draft.id);
    if (!id.ok() && all) {
      return std::move(id).TakeError();
    }
    p.id = id.ok() ? std::move(id).value() : core::ProviderId(draft.id);
  }
  if (all) {
    if (!p.id.value().empty() && !secret_given) {
      // Editing: the stored secret stands in for the one the form never shows, but only towards
      // the destination it was stored for (the rule of ProviderService::Update).
      auto stored = providers_.Find(p.id);
      if (stored.ok()) {
        const auto changed = ChangedDestinationFields(*stored, p);
        if (!changed.empty()) {
          std::string fields;
          for (const auto& field : changed) {
            fields += (fields.empty() ? "" : ", ") + field;
          }
          return core::MakeError(core::ErrorCode::kInvalidArgument,
                                 "client_secret is required when changing " + fields
                                     + ": the stored secret is only sent where it was stored for");
        }
        p.client_secret = stored->client_secret;
      } else if (stored.error().code != core::ErrorCode::kNotFound) {
        return std::move(stored).TakeError();
      }
    }
    if (p.id.value().empty()) {
      p.id = core::ProviderId("draft");  // validation wants one; the report names none
    }
    KEYBRIDGE_RETURN_IF_ERROR(core::ValidateProvider(p));
    if (draft.id.empty()) {
      p.id = core::ProviderId("");
    }
  }
  if (!all) {
    ProviderCheckReport report;
    report.provider_id = p.id;
    report.checked_at = clock_.Now();
    report.checks.push_back(ScopesOnly(p));
    report.ok = !Failed(report.checks.back());
    return report;
  }
  ProviderCheckReport report = Run(p);
  std::string summary;
  for (const auto& check : report.checks) {
    summary += " " + check.id + "=" + std::string(oauth::ToString(check.status));
  }
  spdlog::info("integration check of a draft '{}' by {}:{}", report.provider_id.value(),
               caller.user_id.value(), summary);
  return report;
}

CheckResult ProviderCheckService::ScopesOnly(const core::Provider& provider) {
  std::vector<std::string> supported;
  if (provider.kind == core::ProviderKind::kGenericOidc && provider.oidc_issuer_url) {
    supported = OidcScopesSupported(*provider.oidc_issuer_url);
  }
  return oauth::ScopesCheck(provider, supported);
}

std::vector<std::string> ProviderCheckService::OidcScopesSupported(const std::string& issuer) {
  {
    const std::lock_guard lock(oidc_scopes_mutex_);
    const auto found = oidc_scopes_.find(issuer);
    if (found != oidc_scopes_.end() && clock_.Now() - found->second.fetched_at < kOidcScopesTtl) {
      return found->second.scopes;
    }
  }
  std::vector<std::string> scopes;
  if (auto answer = http_.Send(oauth::BuildDiscoveryRequest(issuer)); answer.ok()) {
    if (auto metadata = oauth::ParseDiscovery(*answer, issuer); metadata.ok()) {
      scopes = std::move(metadata->scopes_supported);
    }
  }
  RememberOidcScopes(issuer, scopes);
  return scopes;
}

void ProviderCheckService::RememberOidcScopes(const std::string& issuer,
                                              std::vector<std::string> scopes) {
  const std::lock_guard lock(oidc_scopes_mutex_);
  if (oidc_scopes_.size() >= kMaxCachedIssuers && oidc_scopes_.count(issuer) == 0) {
    oidc_scopes_.clear();
  }
  oidc_scopes_[issuer] = CachedScopes{clock_.Now(), std::move(scopes)};
}

ProviderCheckReport ProviderCheckService::Run(const core::Provider& provider) {
  const std::string callback = options_.public_urls.OAuthCallback();
  const bool github = provider.kind == core::ProviderKind::kGitHub;
  ProviderCheckReport report;
  report.provider_id = provider.id;
  report.checked_at = clock_.Now();
  auto& checks = report.checks;
  // The registry is a host of its own: checked whatever the provider URL does, reported last.
  const auto check_image_registry = [&] {
    std::optional<core::Result<core::HttpResponse>> answer;
    if (auto probe = oauth::BuildRegistryProbe(provider)) {
      answer = http_.Send(*probe);
    }
    return oauth::ImageRegistryCheck(provider, answer);
  };

  // A GitHub App without a slug is a configuration fact; report it whatever the network says.
  const std::optional<CheckResult> slug_config = oauth::AppSlugConfigCheck(provider);
  const auto finish_app_slug = [&](const std::string& reason) {
    checks.push_back(slug_config ? *slug_config
                                 : oauth::SkippedCheck(oauth::kCheckAppSlug, reason));
  };

  // 1. base_url
  checks.push_back(oauth::BaseUrlCheck(provider, http_.Send(oauth::BuildBaseUrlProbe(provider))));
  if (Failed(checks.back())) {
    const std::string reason = "skipped: the provider URL does not answer (see base_url)";
    checks.push_back(oauth::SkippedCheck(oauth::kCheckEndpoints, reason));
    checks.push_back(oauth::SkippedCheck(oauth::kCheckClientCredentials, reason));
    checks.push_back(oauth::SkippedCheck(oauth::kCheckRedirectUri,
                                         reason + "; the callback URL to register is " + callback));
    checks.push_back(oauth::ScopesCheck(provider));
    finish_app_slug(reason);
    checks.push_back(check_image_registry());
    report.ok = false;
    return report;
  }

  // 2. endpoints; for every kind but generic_oidc the token probe's answer doubles as the
  // endpoint check.
  std::optional<oauth::TokenProbe> probe;
  std::optional<CheckResult> credentials;  // set early when the OIDC token endpoint fails
  oauth::ProviderEndpoints endpoints;
  std::vector<std::string> oidc_scopes;  // the issuer's scopes_supported, for "scopes"
  if (provider.kind == core::ProviderKind::kGenericOidc) {
    std::optional<oauth::OidcMetadata> metadata;
    const std::string issuer = provider.oidc_issuer_url.value_or("");
    checks.push_back(oauth::OidcEndpointsCheck(
        provider, http_.Send(oauth::BuildDiscoveryRequest(issuer)), metadata));
    if (metadata) {
      oidc_scopes = metadata->scopes_supported;
      RememberOidcScopes(issuer, oidc_scopes);
      auto resolved = oauth::EndpointsFor(provider, &*metadata);
      if (resolved.ok()) {
        endpoints = std::move(resolved).value();
        auto answer = http_.Send(oauth::BuildTokenProbe(provider, endpoints, callback));
        if (answer.ok()) {
          probe = oauth::ClassifyTokenProbe(*answer);
        } else {
          oauth::TransportProblem problem =
              oauth::DescribeTransportError(answer.error(), "OpenID Connect Issuer URL");
          credentials = oauth::MakeCheck(oauth::kCheckClientCredentials, CheckStatus::kFail,
                                         "POST " + endpoints.token_url + ": " + problem.detail,
                                         std::move(problem.fix));
        }
      }
    }
  } else {
    auto resolved = oauth::EndpointsFor(provider, nullptr);
    if (!resolved.ok()) {
      checks.push_back(oauth::MakeCheck(oauth::kCheckEndpoints, CheckStatus::kFail,
                                        resolved.error().message,
                                        "Correct URL: it must be an absolute https URL."));
    } else {
      endpoints = std::move(resolved).value();
      const auto answer = http_.Send(oauth::BuildTokenProbe(provider, endpoints, callback));
      std::optional<core::Result<core::HttpResponse>> kind_probe;
      // GitLab and GitHub are told apart by probing the other one's token endpoint at the same
      // URL; a data connector's URL is fixed (Dropbox, Google) or names its kind by its host
      // (EndpointsCheck), and its client id is sent to no endpoint the admin did not choose.
      const bool git_kind = github || provider.kind == core::ProviderKind::kGitLab;
      if (git_kind && answer.ok()
          && oauth::ClassifyTokenProbe(*answer).verdict == oauth::TokenProbeVerdict::kNotOAuth) {
        // Nothing OAuth-like there: ask the same URL whether it is the other kind.
        const auto other = github ? core::ProviderKind::kGitLab : core::ProviderKind::kGitHub;
        if (auto request = oauth::BuildKindProbe(provider, other, callback); request.ok()) {
          kind_probe = http_.Send(*request);
        }
      }
      checks.push_back(oauth::EndpointsCheck(provider, endpoints, answer, kind_probe));
      if (!Failed(checks.back())) {
        probe = oauth::ClassifyTokenProbe(*answer);
      }
    }
  }
  const bool endpoints_ok = !Failed(checks.back());

  // 3. client_credentials, 4. redirect_uri
  const std::string no_endpoints =
      "skipped: the OAuth endpoints could not be verified (see endpoints)";
  if (credentials) {
    checks.push_back(*credentials);
  } else if (probe) {
    checks.push_back(oauth::ClientCredentialsCheck(provider, *probe));
  } else {
    checks.push_back(oauth::SkippedCheck(oauth::kCheckClientCredentials, no_endpoints));
  }
  const std::size_t credentials_index = checks.size() - 1;
  if (probe) {
    checks.push_back(oauth::RedirectUriCheck(provider, *probe, callback));
  } else {
    checks.push_back(oauth::SkippedCheck(
        oauth::kCheckRedirectUri,
        "skipped: the token endpoint could not be probed; the callback URL to register is "
            + callback));
  }
  // The scopes are part of the same registration: what the application may be granted.
  checks.push_back(oauth::ScopesCheck(provider, oidc_scopes));

  // 5. app_slug (public REST lookup on the API base derived from the URL)
  if (slug_config) {
    checks.push_back(*slug_config);
  } else if (!endpoints_ok) {
    checks.push_back(oauth::SkippedCheck(
        oauth::kCheckAppSlug, "skipped: the URL is not a working GitHub (see endpoints)"));
  } else {
    checks.push_back(
        oauth::AppSlugCheck(provider, http_.Send(oauth::BuildAppProbe(provider, endpoints))));
    // The App lookup proves the Client ID right, so a rejected pair means a wrong secret.
    CheckResult& creds = checks[credentials_index];
    if (checks.back().status == CheckStatus::kPass && Failed(creds) && probe) {
      creds.detail = "the token endpoint answered " + probe->seen
                     + ": the Client ID is the App's (see app_slug), so the Client Secret is wrong";
      creds.fix =
          "Generate a new client secret in the GitHub App's settings, paste it into Client "
          "Secret and save the integration.";
    }
  }

  checks.push_back(check_image_registry());
  report.ok = true;
  for (const auto& check : checks) {
    report.ok = report.ok && !Failed(check);
  }
  return report;
}

}  // namespace keybridge::service
