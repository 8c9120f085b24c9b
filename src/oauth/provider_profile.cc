#include "oauth/provider_profile.h"

#include <algorithm>
#include <string>
#include <utility>

#include "core/url.h"
#include "oauth/data_connectors.h"
#include "oauth/form.h"

namespace keybridge::oauth {
namespace {

constexpr std::string_view kGitHubWeb = "https://github.com";
constexpr std::string_view kGitHubApi = "https://api.github.com";

// The configured URL without trailing slashes. Paths are appended by plain concatenation, never
// RFC 3986 reference resolution, which drops the last segment of https://host/gitlab unless
// the admin added a trailing slash.
core::Result<std::string> BaseUrl(const core::Provider& provider) {
  auto parsed = core::ParseUrl(provider.url);
  if (!parsed.ok()) {
    return core::MakeError(
        core::ErrorCode::kInvalidArgument,
        "provider '" + provider.id.value() + "' has an unusable url: " + parsed.error().message);
  }
  if (parsed->has_query || parsed->has_fragment) {
    return core::MakeError(
        core::ErrorCode::kInvalidArgument,
        "provider '" + provider.id.value() + "' url must not contain a query or fragment");
  }
  std::string base = provider.url;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  return base;
}

// github.com is the only host whose API lives on another host. www.github.com redirects to
// github.com, and a redirected token POST would fail, so both map to the canonical origin.
bool IsGitHubDotCom(const std::string& url) {
  auto parsed = core::ParseUrl(url);
  return parsed.ok() && (parsed->host == "github.com" || parsed->host == "www.github.com");
}

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

core::Result<ProviderEndpoints> EndpointsFor(const core::Provider& provider,
                                             const OidcMetadata* discovered) {
  KEYBRIDGE_ASSIGN_OR_RETURN(const std::string base, BaseUrl(provider));
  ProviderEndpoints endpoints;
  switch (provider.kind) {
    case core::ProviderKind::kGitLab:
      endpoints.authorize_url = base + "/oauth/authorize";
      endpoints.token_url = base + "/oauth/token";
      endpoints.api_base = base + "/api/v4";
      endpoints.revoke_url = base + "/oauth/revoke";
      endpoints.userinfo_url = endpoints.api_base + "/user";
      return endpoints;
    case core::ProviderKind::kGitHub: {
      const bool dotcom = IsGitHubDotCom(provider.url);
      const std::string web = dotcom ? std::string(kGitHubWeb) : base;
      endpoints.authorize_url = web + "/login/oauth/authorize";
      endpoints.token_url = web + "/login/oauth/access_token";
      endpoints.api_base = dotcom ? std::string(kGitHubApi) : base + "/api/v3";
      endpoints.revoke_url = endpoints.api_base + "/applications/"
                             + core::PercentEncode(provider.client_id) + "/token";
      endpoints.userinfo_url = endpoints.api_base + "/user";
      return endpoints;
    }
    case core::ProviderKind::kGenericOidc:
      if (discovered == nullptr) {
        return core::MakeError(core::ErrorCode::kInternal,
                               "OpenID Connect metadata was not discovered for provider '"
                                   + provider.id.value() + "'");
      }
      endpoints.authorize_url = discovered->authorization_endpoint;
      endpoints.token_url = discovered->token_endpoint;
      endpoints.api_base = base;
      endpoints.revoke_url = discovered->revocation_endpoint;
      endpoints.userinfo_url = discovered->userinfo_endpoint;
      endpoints.issuer = discovered->issuer;
      endpoints.issuer_in_authorization_response =
          discovered->authorization_response_iss_parameter_supported;
      // OIDC Discovery §3: an absent list means client_secret_basic. Prefer the body when the
      // issuer offers it, which sidesteps the RFC 6749 §2.3.1 Basic-encoding pitfall.
      endpoints.token_auth =
          Contains(discovered->token_endpoint_auth_methods_supported, "client_secret_post")
              ? ClientAuthMethod::kClientSecretPost
              : ClientAuthMethod::kClientSecretBasic;
      return endpoints;
    case core::ProviderKind::kDropbox:
    case core::ProviderKind::kGoogle:
    case core::ProviderKind::kZenodo:
      return DataConnectorEndpoints(provider, base);
  }
  return core::MakeError(core::ErrorCode::kInternal, "unknown provider kind");
}

std::string GitUsername(core::ProviderKind kind) {
  switch (kind) {
    case core::ProviderKind::kGitHub:
      return "x-access-token";
    case core::ProviderKind::kGitLab:
    case core::ProviderKind::kGenericOidc:
    case core::ProviderKind::kDropbox:
    case core::ProviderKind::kGoogle:
    case core::ProviderKind::kZenodo:
      // Data connectors serve no repositories (core::ServesRepositories); the default is moot.
      return "oauth2";
  }
  return "oauth2";
}

std::string_view GitHubFlavor(const core::Provider& provider) {
  if (provider.kind != core::ProviderKind::kGitHub) {
    return "";
  }
  return IsGitHubDotCom(provider.url) ? "github.com" : "enterprise";
}

std::string InstallUrl(const core::Provider& provider) {
  if (!core::IsGitHubApp(provider) || provider.app_slug.empty()) {
    return {};
  }
  auto base = BaseUrl(provider);
  if (!base.ok()) {
    return {};
  }
  const std::string slug = core::PercentEncode(provider.app_slug);
  // GHES serves App pages under /github-apps/, github.com under /apps/ (GitHub docs:
  // "Installing your own GitHub App").
  if (IsGitHubDotCom(provider.url)) {
    return std::string(kGitHubWeb) + "/apps/" + slug + "/installations/new";
  }
  return *base + "/github-apps/" + slug + "/installations/new";
}

std::vector<core::HttpHeader> ApiHeaders(core::ProviderKind kind) {
  if (kind == core::ProviderKind::kGitHub) {
    // GHES before 3.9 ignores the version header; newer ones require a known version.
    return {{"Accept", "application/vnd.github+json"},
            {"X-GitHub-Api-Version", "2022-11-28"},
            {"User-Agent", UserAgent()}};
  }
  return {{"Accept", "application/json"}, {"User-Agent", UserAgent()}};
}

std::string UserAgent() {
  return "keybridge/0.1";
}

}  // namespace keybridge::oauth
