// Token-endpoint answers (RFC 6749 §5.1 success, §5.2 error) turned into core::TokenSet or a
// core::Error, with the GitHub quirks (HTTP 200 + `error`, form-encoded bodies). The stored form
// of a TokenSet is storage/token_codec.h.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/http_client.h"
#include "core/result.h"
#include "core/token_set.h"

namespace keybridge::oauth {

enum class GrantKind {
  kCode,     // authorization_code exchange (RFC 6749 §4.1.3)
  kRefresh,  // refresh_token grant (RFC 6749 §6)
};

// Parses a token-endpoint response received at `now`. JSON and form-encoded bodies are accepted
// (by Content-Type, else by sniffing). `now` is truncated to whole seconds, so obtained_at and
// every expiry are whole seconds; expires_at = now + expires_in (expires_in may be a number or a
// numeric string; absent = no expiry). A refresh answer without refresh_token yields a set
// without one: the caller keeps the old refresh token (RFC 6749 §6, Google does this).
//
// Errors (Error::detail = the OAuth `error` value when there is one; messages and details never
// contain the response body or any token):
// - kUnavailable: HTTP 429 or 5xx, or error temporarily_unavailable/server_error; detail is
//   "retry_after=<n>" when a numeric Retry-After header came with it.
// - kReauthorizationRequired: on kRefresh, invalid_grant / bad_refresh_token /
//   unauthorized_client (the user must reconnect).
// - kInvalidArgument: on kCode, invalid_grant / bad_verification_code (the code was rejected).
// - kUpstreamFailed: invalid_client / incorrect_client_credentials or a bare 401 (the message
//   tells the admin to check client_id and client_secret), redirect_uri_mismatch, any other
//   `error`, a non-2xx status without one, an HTML or otherwise unreadable body, a missing or
//   malformed access_token, token_type (must be "bearer", any case), expires_in or
//   refresh_token_expires_in, or a scope that is not UTF-8 text without control bytes (detail
//   "malformed_scope"; never stored rewritten).
core::Result<core::TokenSet> ParseTokenResponse(const core::HttpResponse& response,
                                                core::TimePoint now, GrantKind kind);

}  // namespace keybridge::oauth
