// ProviderGateway: talks to one provider on behalf of the services. It combines the pure
// protocol functions of oauth/ with the outbound HttpClient, and caches OIDC discovery documents
// for a bounded time. Every request goes only to URLs derived from an administrator-configured
// provider (or its issuer's discovery document).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/http_client.h"
#include "core/provider.h"
#include "core/result.h"
#include "core/token_set.h"
#include "oauth/account.h"
#include "oauth/installations.h"
#include "oauth/oidc_discovery.h"
#include "oauth/provider_profile.h"

namespace keybridge::service {

class ProviderGateway {
 public:
  // `http` and `clock` must outlive the gateway. Thread-safe.
  ProviderGateway(core::HttpClient& http, const core::Clock& clock,
                  core::Seconds discovery_ttl = core::Seconds(3600));

  // kUpstreamFailed (502) with a clear message if OIDC discovery fails.
  core::Result<oauth::ProviderEndpoints> Endpoints(const core::Provider& provider);
  // Errors as oauth::ParseTokenResponse; transport failures are kUnavailable.
  core::Result<core::TokenSet> ExchangeCode(const core::Provider& provider,
                                            const std::string& redirect_uri,
                                            const core::Secret& code,
                                            const core::Secret* code_verifier);
  core::Result<core::TokenSet> Refresh(const core::Provider& provider,
                                       const core::Secret& refresh_token);
  core::Result<oauth::Account> Account(const core::Provider& provider,
                                       const core::Secret& access_token);
  core::Result<oauth::InstallationsPage> Installations(const core::Provider& provider,
                                                       const core::Secret& access_token, int page,
                                                       int per_page);
  // Best effort (RFC 7009 / GitHub token API / Dropbox / Google); kUnavailable/kUpstreamFailed
  // on failure, OK when the provider has no revocation endpoint (Zenodo). A Dropbox token set
  // whose access token has expired is refreshed first (Dropbox revokes with the access token);
  // OK when that refresh says the grant is already gone.
  core::Status Revoke(const core::Provider& provider, const core::TokenSet& token);

 private:
  core::Result<core::HttpResponse> Send(const core::HttpRequest& request);

  core::HttpClient& http_;
  const core::Clock& clock_;
  const core::Seconds discovery_ttl_;
  struct CachedDiscovery {
    oauth::OidcMetadata metadata;
    core::TimePoint fetched_at;
  };
  std::mutex mu_;
  std::map<std::string, CachedDiscovery> discovery_;  // by issuer URL
};

}  // namespace keybridge::service
