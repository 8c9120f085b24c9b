// Authenticator: decides who is calling from the Authorization header, for every inbound request.
// Local "kb_" tokens go to ApiTokenAuthenticator, "kbs_" session tokens to
// SessionTokenAuthenticator, anything else to the JwtVerifier. Like Renku,
// a rejected credential yields an anonymous caller that carries the reason; routes that need a
// user answer 401 with it.
#pragma once

#include <string_view>

#include "core/caller.h"
#include "core/result.h"
#include "identity/api_token_authenticator.h"
#include "identity/jwt_verifier.h"

namespace keybridge::identity {

// Checks the value of a browser session cookie; implemented by
// service::BrowserSessionService. The returned caller has browser_session set.
class BrowserSessionVerifier {
 public:
  virtual ~BrowserSessionVerifier() = default;
  // kUnauthenticated ("signed out", "session expired") for an unusable session; repository
  // failures unchanged. Thread-safe.
  virtual core::Result<core::Caller> VerifySession(std::string_view cookie_value) = 0;
};

class Authenticator {
 public:
  // `jwt` is null when no identity issuer is configured (then bearer JWTs are rejected). Every
  // argument must outlive the authenticator.
  Authenticator(JwtVerifier* jwt, ApiTokenAuthenticator& local, SessionTokenAuthenticator& sessions,
                BrowserSessionVerifier& browser_sessions);

  // `authorization_header_value` is the raw header value ("" when absent). "Bearer <token>", the
  // scheme case-insensitive. Never logs the token: an absent header is an anonymous caller with
  // no reason; a rejected one is anonymous with `rejected_reason` set ("token expired",
  // "identity issuer unavailable", ...). Fails only when the answer is not known yet:
  // kUnavailable when the token store cannot be reached (the caller should retry, not be told
  // its credential is bad), kWouldWait on a memory-only thread (core/memory_only.h) when the
  // credential is not in memory. Thread-safe.
  core::Result<core::Caller> Authenticate(std::string_view authorization_header_value);
  // As above; when there is no Authorization header, a non-empty `session_cookie` (the browser
  // session cookie's value) is checked by the BrowserSessionVerifier. A present Authorization
  // header always wins, so bearer clients are never affected by cookies.
  core::Result<core::Caller> Authenticate(std::string_view authorization_header_value,
                                          std::string_view session_cookie);

 private:
  JwtVerifier* jwt_;
  ApiTokenAuthenticator& local_;
  SessionTokenAuthenticator& sessions_;
  BrowserSessionVerifier& browser_sessions_;
};

}  // namespace keybridge::identity
