// Back-channel token requests (RFC 6749 §4.1.3 code exchange, §6 refresh) as core::HttpRequest
// values; service/ sends them and hands the answer to ParseTokenResponse (token_response.h).
#pragma once

#include <string_view>
#include <vector>

#include "core/http_client.h"
#include "core/provider.h"
#include "core/secret.h"
#include "oauth/form.h"
#include "oauth/provider_profile.h"

namespace keybridge::oauth {

// POST endpoints.token_url, form body
//   grant_type=authorization_code&code=..&redirect_uri=..&client_id=..[&client_secret=..]
//   [&code_verifier=..]
// `redirect_uri` must be the exact string sent to the authorize endpoint (RFC 6749 §4.1.3).
// Headers: Content-Type form, Accept: application/json (GitHub answers form-encoded without it),
// User-Agent; timeout 10 s.
core::HttpRequest BuildCodeExchange(const core::Provider& provider,
                                    const ProviderEndpoints& endpoints,
                                    std::string_view redirect_uri, const core::Secret& code,
                                    const core::Secret* code_verifier);

// POST endpoints.token_url, form body
//   grant_type=refresh_token&refresh_token=..[&redirect_uri=..]&client_id=..[&client_secret=..]
// redirect_uri is sent only for GitLab and only when non-empty (GitLab's docs send it; Doorkeeper
// ignores it). Same headers and timeout as BuildCodeExchange.
core::HttpRequest BuildRefresh(const core::Provider& provider, const ProviderEndpoints& endpoints,
                               const core::Secret& refresh_token,
                               std::string_view redirect_uri = {});

// Client authentication shared by token and RFC 7009 revocation requests: with a non-empty
// client secret, client_secret_post appends client_id + client_secret to `body`, and
// client_secret_basic adds an Authorization header over the form-encoded id and secret
// (RFC 6749 §2.3.1). Without a secret only client_id is appended (public client).
void AddClientAuthentication(const core::Provider& provider, const ProviderEndpoints& endpoints,
                             FormFields& body, std::vector<core::HttpHeader>& headers);

}  // namespace keybridge::oauth
