// The provider account behind a connection (GitLab /user, GitHub /user, OIDC userinfo, and the
// data connectors' lookups in data_connectors.h): service/
// shows it on the connection and uses it to check that a reconnect did not switch accounts.
#pragma once

#include <string>

#include "core/http_client.h"
#include "core/provider.h"
#include "core/result.h"
#include "core/secret.h"
#include "oauth/provider_profile.h"

namespace keybridge::oauth {

struct Account {
  std::string username;  // GitLab username, GitHub login, OIDC preferred_username|name|sub
  std::string web_url;   // profile page; "" for OIDC
  // Immutable account key (GitLab/GitHub numeric id, OIDC sub); "" if the provider sent none.
  // Logins can be renamed, so compare this one across reconnects (GitHub docs: "Changing your
  // GitHub username"; the numeric id stays).
  std::string id;
};

// GET endpoints.userinfo_url with Authorization: Bearer <token> and ApiHeaders(kind) (dropbox,
// google, zenodo: BuildDataConnectorAccountRequest). For a generic_oidc provider whose issuer
// publishes no userinfo_endpoint, userinfo_url is "": check before calling.
core::HttpRequest BuildAccountRequest(const core::Provider& provider,
                                      const ProviderEndpoints& endpoints,
                                      const core::Secret& access_token);

// Errors as CheckApiStatus (api_status.h): 401 -> kReauthorizationRequired ("api_401"), rate
// limits and 5xx -> kUnavailable, others -> kUpstreamFailed; a 200 body that is not a JSON object
// or lacks the username field -> kUpstreamFailed. dropbox, google, zenodo:
// ParseDataConnectorAccount.
core::Result<Account> ParseAccount(core::ProviderKind kind, const core::HttpResponse& response);

}  // namespace keybridge::oauth
