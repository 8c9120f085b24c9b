#include "service/provider_gateway.h"

#include <spdlog/spdlog.h>

#include "oauth/data_connectors.h"
#include "oauth/revocation.h"
#include "oauth/token_request.h"
#include "oauth/token_response.h"

namespace keybridge::service {

ProviderGateway::ProviderGateway(core::HttpClient& http, const core::Clock& clock,
                                 core::Seconds discovery_ttl)
    : http_(http), clock_(clock), discovery_ttl_(discovery_ttl) {}

core::Result<core::HttpResponse> ProviderGateway::Send(const core::HttpRequest& request) {
  return http_.Send(request);
}

core::Result<oauth::ProviderEndpoints> ProviderGateway::Endpoints(const core::Provider& provider) {
  if (provider.kind != core::ProviderKind::kGenericOidc) {
    return oauth::EndpointsFor(provider, nullptr);
  }
  const std::string issuer = provider.oidc_issuer_url.value_or("");
  {
    std::lock_guard lock(mu_);
    if (auto it = discovery_.find(issuer);
        it != discovery_.end() && clock_.Now() - it->second.fetched_at < discovery_ttl_) {
      return oauth::EndpointsFor(provider, &it->second.metadata);
    }
  }
  auto response = Send(oauth::BuildDiscoveryRequest(issuer));
  core::Result<oauth::OidcMetadata> metadata =
      response.ok() ? oauth::ParseDiscovery(*response, issuer)
                    : core::Result<oauth::OidcMetadata>(response.error());
  if (!metadata.ok()) {
    // A stale document is better than none while the issuer is briefly down.
    std::lock_guard lock(mu_);
    if (auto it = discovery_.find(issuer); it != discovery_.end()) {
      spdlog::warn("OIDC discovery for provider {} failed ({}); using the cached document",
                   provider.id.value(), metadata.error().message);
      return oauth::EndpointsFor(provider, &it->second.metadata);
    }
    return core::MakeError(core::ErrorCode::kUpstreamFailed,
                           "OpenID Connect discovery failed for integration '" + provider.id.value()
                               + "': " + metadata.error().message);
  }
  std::lock_guard lock(mu_);
  discovery_[issuer] = CachedDiscovery{*metadata, clock_.Now()};
  return oauth::EndpointsFor(provider, &discovery_[issuer].metadata);
}

core::Result<core::TokenSet> ProviderGateway::ExchangeCode(const core::Provider& provider,
                                                           const std::string& redirect_uri,
                                                           const core::Secret& code,
                                                           const core::Secret* code_verifier) {
  KEYBRIDGE_ASSIGN_OR_RETURN(auto endpoints, Endpoints(provider));
  KEYBRIDGE_ASSIGN_OR_RETURN(
      auto response,
      Send(oauth::BuildCodeExchange(provider, endpoints, redirect_uri, code, code_verifier)));
  return oauth::ParseTokenResponse(response, clock_.Now(), oauth::GrantKind::kCode);
}

core::Result<core::TokenSet> ProviderGateway::Refresh(const core::Provider& provider,
                                                      const core::Secret& refresh_token) {
  KEYBRIDGE_ASSIGN_OR_RETURN(auto endpoints, Endpoints(provider));
  KEYBRIDGE_ASSIGN_OR_RETURN(auto response,
                             Send(oauth::BuildRefresh(provider, endpoints, refresh_token)));
  return oauth::ParseTokenResponse(response, clock_.Now(), oauth::GrantKind::kRefresh);
}

core::Result<oauth::Account> ProviderGateway::Account(const core::Provider& provider,
                                                      const core::Secret& access_token) {
  KEYBRIDGE_ASSIGN_OR_RETURN(auto endpoints, Endpoints(provider));
  KEYBRIDGE_ASSIGN_OR_RETURN(auto response,
                             Send(oauth::BuildAccountRequest(provider, endpoints, access_token)));
  return oauth::ParseAccount(provider.kind, response);
}

core::Result<oauth::InstallationsPage> ProviderGateway::Installations(
    const core::Provider& provider, const core::Secret& access_token, int page, int per_page) {
  KEYBRIDGE_ASSIGN_OR_RETURN(auto endpoints, Endpoints(provider));
  KEYBRIDGE_ASSIGN_OR_RETURN(
      auto response,
      Send(oauth::BuildInstallationsRequest(provider, endpoints, access_token, page, per_page)));
  return oauth::ParseInstallations(response);
}

core::Status ProviderGateway::Revoke(const core::Provider& provider, const core::TokenSet& token) {
  KEYBRIDGE_ASSIGN_OR_RETURN(auto endpoints, Endpoints(provider));
  std::optional<core::TokenSet> refreshed;
  if (oauth::RevocationNeedsLiveAccessToken(provider.kind)
      && token.IsExpiring(clock_.Now(), core::Seconds(30)) && token.refresh_token
      && !token.refresh_token->empty()) {
    // Dropbox revokes with the access token, and refuses an expired one; a fresh access token of
    // the same grant revokes the whole grant, refresh token included.
    auto fresh = Refresh(provider, *token.refresh_token);
    if (!fresh.ok()) {
      if (fresh.error().code == core::ErrorCode::kReauthorizationRequired) {
        return core::OkStatus();  // the provider no longer honours the grant: nothing to revoke
      }
      return std::move(fresh).TakeError();
    }
    refreshed = std::move(fresh).value();
  }
  auto request = oauth::BuildRevocation(provider, endpoints, refreshed ? *refreshed : token);
  if (!request) {
    return core::OkStatus();
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(auto response, Send(*request));
  if (!oauth::IsRevocationSuccess(provider.kind, response)) {
    return core::MakeError(
        core::ErrorCode::kUpstreamFailed,
        "the provider refused the revocation (HTTP " + std::to_string(response.status) + ")");
  }
  return core::OkStatus();
}

}  // namespace keybridge::service
