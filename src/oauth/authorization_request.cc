#include "oauth/authorization_request.h"

#include <utility>
#include <vector>

#include "core/url.h"
#include "oauth/data_connectors.h"
#include "oauth/form.h"

namespace keybridge::oauth {

std::string BuildAuthorizationUrl(const core::Provider& provider,
                                  const ProviderEndpoints& endpoints, std::string_view redirect_uri,
                                  std::string_view state, const std::string* code_challenge) {
  std::vector<std::pair<std::string_view, std::string_view>> params = {
      {"response_type", "code"},
      {"client_id", provider.client_id},
      {"redirect_uri", redirect_uri},
      {"state", state},
  };
  if (!provider.scope.empty()) {
    params.emplace_back("scope", provider.scope);
  }
  if (code_challenge != nullptr) {
    params.emplace_back("code_challenge", *code_challenge);
    params.emplace_back("code_challenge_method", "S256");
  }
  for (const auto& extra : AuthorizationExtras(provider.kind)) {
    params.push_back(extra);
  }

  std::string url = endpoints.authorize_url;
  // RFC 6749 §3.1: the endpoint URI MAY include a query component, which MUST be retained.
  char separator = '?';
  if (url.find('?') != std::string::npos) {
    separator = url.back() == '?' || url.back() == '&' ? '\0' : '&';
  }
  for (const auto& [name, value] : params) {
    if (separator != '\0') {
      url += separator;
    }
    url += core::PercentEncode(name);
    url += '=';
    url += core::PercentEncode(value);
    separator = '&';
  }
  return url;
}

core::Status CheckAuthorizationResponseIssuer(const ProviderEndpoints& endpoints,
                                              const std::optional<std::string>& iss) {
  if (endpoints.issuer.empty()) {
    return core::OkStatus();
  }
  if (!iss) {
    if (!endpoints.issuer_in_authorization_response) {
      return core::OkStatus();
    }
    return core::MakeError(core::ErrorCode::kBadRequest,
                           "The authorization response did not name its issuer, although "
                               + endpoints.issuer
                               + " says it always does (RFC 9207); start again, and tell an "
                                 "administrator if it happens again.");
  }
  if (*iss != endpoints.issuer) {
    return core::MakeError(core::ErrorCode::kBadRequest,
                           "The authorization response came from another issuer than "
                               + endpoints.issuer
                               + " (RFC 9207); its code was not used. Start again, and tell an "
                                 "administrator if it happens again.");
  }
  return core::OkStatus();
}

}  // namespace keybridge::oauth
