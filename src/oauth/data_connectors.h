// Dropbox, Google (Drive) and Zenodo, Renku's data connector kinds: what is particular to each,
// in one place. provider_profile.cc (endpoints), authorization_request.cc (extra parameters),
// revocation.cc and account.cc dispatch here for these kinds; token requests and answers are the
// generic RFC 6749 ones (token_request.h, token_response.h) with client_secret_post.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/http_client.h"
#include "core/provider.h"
#include "core/result.h"
#include "core/token_set.h"
#include "oauth/account.h"
#include "oauth/provider_profile.h"

namespace keybridge::oauth {

// Endpoints of a dropbox, google or zenodo provider; `base` is its url without trailing slashes.
// - dropbox at https://www.dropbox.com: authorize https://www.dropbox.com/oauth2/authorize,
//   token https://api.dropboxapi.com/oauth2/token, revoke
//   https://api.dropboxapi.com/2/auth/token/revoke, account
//   https://api.dropboxapi.com/2/users/get_current_account (Dropbox HTTP API documentation).
// - google at https://accounts.google.com: authorize
//   https://accounts.google.com/o/oauth2/v2/auth, token https://oauth2.googleapis.com/token,
//   revoke https://oauth2.googleapis.com/revoke, account
//   https://openidconnect.googleapis.com/v1/userinfo (Google "Using OAuth 2.0 for Web Server
//   Applications", and its discovery document).
// - dropbox/google on a loopback url (a local stand-in, core::IsLocalStandInUrl): every endpoint
//   is <base> + the production path (dropbox <base>/oauth2/token, google <base>/token, ...).
// - zenodo (Invenio OAuth2 server): <base>/oauth/authorize, <base>/oauth/token, account
//   <base>/api/deposit/depositions?size=1, no revocation endpoint.
// Client authentication is client_secret_post for all three. kInvalidArgument for a dropbox or
// google url that is neither the canonical one nor loopback (ValidateProvider refuses it too;
// this keeps a token from leaving even if a stored row says otherwise); kInternal for other kinds.
core::Result<ProviderEndpoints> DataConnectorEndpoints(const core::Provider& provider,
                                                       const std::string& base);

// Authorization request parameters beyond RFC 6749 §4.1.1 that the provider needs to issue a
// refresh token: dropbox token_access_type=offline (Dropbox OAuth Guide); google
// access_type=offline and prompt=consent (without consent Google issues a refresh token only at
// a user's first authorization: "Using OAuth 2.0 for Web Server Applications", Refresh the
// access token). Empty for every other kind.
std::vector<std::pair<std::string_view, std::string_view>> AuthorizationExtras(
    core::ProviderKind kind);

// Revocation when a connection is deleted:
// - dropbox: POST revoke_url with Authorization: Bearer <access token>, no body and no
//   Content-Type (Dropbox HTTP API, auth/token/revoke: an RPC endpoint without arguments);
//   revoking the access token ends the whole grant. nullopt without an access token.
// - google: POST revoke_url, form body token=<refresh token if any, else access token>, no
//   client authentication (Google "Using OAuth 2.0 for Web Server Applications", Revoking a
//   token); either token ends the grant.
// - zenodo (no revocation endpoint) and other kinds: nullopt.
std::optional<core::HttpRequest> BuildDataConnectorRevocation(const core::Provider& provider,
                                                              const ProviderEndpoints& endpoints,
                                                              const core::TokenSet& tokens);

// Whether dropbox revokes with the access token itself, so an expired one must be refreshed
// first or the revocation is refused (service::ProviderGateway::Revoke does that).
bool RevocationNeedsLiveAccessToken(core::ProviderKind kind);

// The account lookup with Authorization: Bearer <token>:
// - dropbox: POST with body `null` and Content-Type: application/json (the endpoint takes no
//   arguments; an empty body with a JSON Content-Type is refused with HTTP 400);
// - google: GET the OIDC userinfo endpoint;
// - zenodo: GET <url>/api/deposit/depositions?size=1 (Zenodo has no user endpoint).
core::HttpRequest BuildDataConnectorAccountRequest(const core::Provider& provider,
                                                   const ProviderEndpoints& endpoints,
                                                   const core::Secret& access_token);

// The account behind a dropbox, google or zenodo token (web_url is always ""):
// - dropbox: username = email (else name.display_name), id = account_id;
// - google: username = email, else sub; id = sub;
// - zenodo: a JSON array of depositions; username "Zenodo user ID: <owner>" of the first one,
//   id = that owner, or "Zenodo user" and id "" when there is none (Renku's wording).
// Errors as ParseAccount (account.h): statuses per CheckApiStatus, kUpstreamFailed for a body of
// the wrong shape.
core::Result<Account> ParseDataConnectorAccount(core::ProviderKind kind,
                                                const core::HttpResponse& response);

}  // namespace keybridge::oauth
