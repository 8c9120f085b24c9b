// OpenID Connect discovery (OIDC Discovery 1.0 §4, RFC 8414 §3): builds the metadata request for a
// generic_oidc provider's issuer and validates the answer. service/ sends the request and caches
// the parsed OidcMetadata; provider_profile.h turns it into endpoints.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/http_client.h"
#include "core/result.h"

namespace keybridge::oauth {

struct OidcMetadata {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string userinfo_endpoint;    // "" when the issuer publishes none
  std::string revocation_endpoint;  // "" when the issuer publishes none (RFC 7009 is optional)
  std::string jwks_uri;             // "" when absent
  std::vector<std::string> code_challenge_methods_supported;
  // Empty when absent; the OIDC default is then client_secret_basic.
  std::vector<std::string> token_endpoint_auth_methods_supported;
  bool authorization_response_iss_parameter_supported = false;  // RFC 9207
  // Empty when the issuer publishes none (it is RECOMMENDED, OIDC Discovery 1.0 §3); the
  // integration check's "scopes" item then only warns about scopes it does not know.
  std::vector<std::string> scopes_supported;
};

// GET <issuer without trailing '/'>/.well-known/openid-configuration, Accept: application/json.
core::HttpRequest BuildDiscoveryRequest(std::string_view issuer);

// Validates a discovery response. Every failure is kUpstreamFailed with a message an
// administrator can act on (it names the issuer, never echoes the body):
// - a status other than 200, or a body that is not a JSON object;
// - `issuer` not exactly equal to `expected_issuer` (RFC 8414 §3.3; no slash normalisation);
// - authorization_endpoint or token_endpoint missing;
// - any endpoint that is not https (http only for loopback hosts), has user info or a fragment.
core::Result<OidcMetadata> ParseDiscovery(const core::HttpResponse& response,
                                          std::string_view expected_issuer);

}  // namespace keybridge::oauth
