// Token revocation at the provider when a user disconnects (best effort; the local copy is
// deleted whatever happens): RFC 7009 for GitLab and OIDC, GitHub's application token API, and
// Dropbox's and Google's own endpoints.
#pragma once

#include <optional>

#include "core/http_client.h"
#include "core/provider.h"
#include "core/token_set.h"
#include "oauth/provider_profile.h"

namespace keybridge::oauth {

// - gitlab (and generic_oidc with a discovered revocation_endpoint): RFC 7009 POST revoke_url,
//   form token=<refresh token if any, else access token>&token_type_hint=refresh_token|
//   access_token plus client authentication (AddClientAuthentication). Revoking the refresh
//   token also kills its access tokens (RFC 7009 §2.1).
// - github: DELETE <api>/applications/{client_id}/token, HTTP Basic client_id:client_secret,
//   JSON body {"access_token":"..."}; std::nullopt without a client secret.
// - dropbox, google: BuildDataConnectorRevocation (data_connectors.h); zenodo has none.
// std::nullopt when the provider has no revocation endpoint or `tokens` holds no token.
std::optional<core::HttpRequest> BuildRevocation(const core::Provider& provider,
                                                 const ProviderEndpoints& endpoints,
                                                 const core::TokenSet& tokens);

// 200 and 204 are success; so is 404, which GitHub answers for a token that is already gone.
bool IsRevocationSuccess(const core::HttpResponse& response);
// As above for a provider of `kind`; for google also 400 with error invalid_token (a token that
// is already revoked or expired).
bool IsRevocationSuccess(core::ProviderKind kind, const core::HttpResponse& response);

}  // namespace keybridge::oauth
