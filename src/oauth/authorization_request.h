// The front-channel authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3): the URL service/
// redirects the browser to when a user connects a provider.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/provider.h"
#include "core/result.h"
#include "oauth/provider_profile.h"

namespace keybridge::oauth {

// endpoints.authorize_url plus the query response_type=code, client_id, redirect_uri, state,
// scope (only when provider.scope is non-empty; spaces as %20), and, when `code_challenge` is
// not nullptr, code_challenge + code_challenge_method=S256, then the kind's AuthorizationExtras
// (data_connectors.h: Dropbox and Google only issue refresh tokens when asked). Values are
// percent-encoded (RFC 3986
// unreserved characters kept). A query already present in the authorize URL (OIDC discovery may
// publish one) is kept and extended with '&'.
std::string BuildAuthorizationUrl(const core::Provider& provider,
                                  const ProviderEndpoints& endpoints, std::string_view redirect_uri,
                                  std::string_view state, const std::string* code_challenge);

// The authorization response's `iss` (RFC 9207 §2.4), against the issuer the flow was started
// with: an issuer that advertises it (authorization_response_iss_parameter_supported) must send
// it, and whenever it is sent it must equal the discovered issuer exactly; otherwise the response
// may come from another authorization server the browser was sent to (a mix-up attack), and its
// code must not be redeemed. kBadRequest with a message a person can act on. Providers without
// discovered metadata (GitLab, GitHub: endpoints.issuer empty) are not checked.
core::Status CheckAuthorizationResponseIssuer(const ProviderEndpoints& endpoints,
                                              const std::optional<std::string>& iss);

}  // namespace keybridge::oauth
