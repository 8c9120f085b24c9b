// How keybridge reads the status of a provider REST API answer (GitLab /api/v4, GitHub REST,
// OIDC userinfo): shared by account.cc and installations.cc.
#pragma once

#include <string_view>

#include "core/http_client.h"
#include "core/result.h"

namespace keybridge::oauth {

// OK for 200. Otherwise, with `what` naming the call in the message ("the account lookup"):
// - 401: kReauthorizationRequired, detail "api_401" (the access token is bad or revoked);
// - 429, or 403 with x-ratelimit-remaining: 0 or a Retry-After header (GitHub's primary and
//   secondary rate limits): kUnavailable, detail "retry_after=<n>" or "ratelimit_reset=<unix>"
//   when the headers say when to retry, else "rate_limited";
// - 5xx: kUnavailable, detail "http_<status>" (transient);
// - 403 with X-GitHub-SSO: kUpstreamFailed telling the user to authorize SAML single sign-on;
// - anything else: kUpstreamFailed, detail "http_<status>".
// Never copies the body.
core::Status CheckApiStatus(const core::HttpResponse& response, std::string_view what);

}  // namespace keybridge::oauth
