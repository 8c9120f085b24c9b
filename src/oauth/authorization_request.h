// The front-channel authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3): the URL service/
// redirects the browser to when a user connects a provider.
#pragma once

#include <string>
#include <string_view>

#include "core/provider.h"
#include "oauth/provider_profile.h"

namespace keybridge::oauth {

// endpoints.authorize_url plus the query response_type=code, client_id, redirect_uri, state,
// scope (only when provider.scope is non-empty; spaces as %20), and, when `code_challenge` is
// not nullptr, code_challenge + code_challenge_method=S256. Values are percent-encoded (RFC 3986
// unreserved characters kept). A query already present in the authorize URL (OIDC discovery may
// publish one) is kept and extended with '&'.
std::string BuildAuthorizationUrl(const core::Provider& provider,
                                  const ProviderEndpoints& endpoints, std::string_view redirect_uri,
                                  std::string_view state, const std::string* code_challenge);

}  // namespace keybridge::oauth
