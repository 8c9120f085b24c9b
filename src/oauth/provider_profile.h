// Per-kind provider knowledge: where a provider's OAuth endpoints and REST API live (GitLab with a
// relative URL root, github.com vs GitHub Enterprise Server, discovered OIDC), the git user name
// and the GitHub App install link. Every other oauth/ builder starts from ProviderEndpoints.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/http_client.h"
#include "core/provider.h"
#include "core/result.h"
#include "oauth/oidc_discovery.h"

namespace keybridge::oauth {

// How keybridge authenticates to a token or revocation endpoint when it has a client secret
// (RFC 6749 §2.3.1). Without a secret only client_id is sent in the body (public client + PKCE).
enum class ClientAuthMethod {
  kClientSecretPost,   // client_id + client_secret in the form body
  kClientSecretBasic,  // HTTP Basic over the form-encoded id and secret
};

struct ProviderEndpoints {
  std::string authorize_url;
  std::string token_url;
  std::string api_base;    // REST API root, no trailing slash
  std::string revoke_url;  // "" when the provider has no revocation endpoint
  // Account lookup: <api_base>/user, the OIDC userinfo ("" if none), or a data connector's
  // (data_connectors.h).
  std::string userinfo_url;
  ClientAuthMethod token_auth = ClientAuthMethod::kClientSecretPost;
  // generic_oidc: the discovered issuer, and whether it puts `iss` into its authorization
  // responses (RFC 9207 metadata). "" for GitLab and GitHub, which publish no such metadata.
  std::string issuer;
  bool issuer_in_authorization_response = false;
};

// Endpoints of `provider`:
// - gitlab: <url>/oauth/{authorize,token,revoke}, API <url>/api/v4. `url` may carry a path
//   (https://host/gitlab), with or without a trailing slash.
// - github: <url>/login/oauth/{authorize,access_token}. On github.com (also spelled
//   www.github.com) the web base is https://github.com and the API https://api.github.com;
//   any other host is GitHub Enterprise Server with the API at <url>/api/v3. Revocation is
//   DELETE <api>/applications/{client_id}/token.
// - generic_oidc: from `discovered` (required; see oidc_discovery.h); API base = <url>.
// - dropbox, google, zenodo: DataConnectorEndpoints (data_connectors.h): fixed hosts for
//   Dropbox and Google (or a loopback stand-in), <url>/oauth/... for Zenodo.
// kInvalidArgument if the provider URL does not parse; kInternal if a generic_oidc provider is
// passed without discovered metadata (a caller bug).
core::Result<ProviderEndpoints> EndpointsFor(const core::Provider& provider,
                                             const OidcMetadata* discovered);

// The HTTP Basic user name git needs next to an access token: "oauth2" (GitLab and default) or
// "x-access-token" (GitHub). Data connector kinds serve no repositories and get the default.
std::string GitUsername(core::ProviderKind kind);

// Which GitHub a github provider is, as EndpointsFor decides it: "github.com" when its URL's host
// is github.com or www.github.com, "enterprise" (GitHub Enterprise Server) for any other host.
// "" for other kinds. The provider JSON carries it as github_flavor, so the web UI never guesses.
std::string_view GitHubFlavor(const core::Provider& provider);

// Where a user installs a GitHub App: https://github.com/apps/<slug>/installations/new on
// github.com, <url>/github-apps/<slug>/installations/new on Enterprise Server. "" for anything
// that is not a GitHub App with an app_slug.
std::string InstallUrl(const core::Provider& provider);

// Headers for a REST API call to a provider of `kind` (without Authorization): Accept
// application/vnd.github+json and X-GitHub-Api-Version: 2022-11-28 for GitHub, Accept
// application/json otherwise, and User-Agent.
std::vector<core::HttpHeader> ApiHeaders(core::ProviderKind kind);

// "keybridge/0.1": sent on every outbound call (GitHub rejects requests without a User-Agent).
std::string UserAgent();

}  // namespace keybridge::oauth
