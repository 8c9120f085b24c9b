#include "identity/authenticator.h"

#include <cctype>
#include <string>

#include "core/text.h"

namespace keybridge::identity {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && IsSpace(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

core::Caller Rejected(std::string reason) {
  core::Caller caller = core::Caller::Anonymous();
  caller.rejected_reason = std::move(reason);
  return caller;
}

// Where a credential is checked: our own database (local, session and browser tokens) or the
// identity issuer (JWTs).
enum class CheckedBy { kTokenStore, kIdentityIssuer };

core::Result<core::Caller> FromResult(core::Result<core::Caller> result, CheckedBy checked_by) {
  if (result.ok()) {
    return result;
  }
  const core::ErrorCode code = result.error().code;
  if (code == core::ErrorCode::kUnauthenticated) {
    return Rejected(result.error().message);
  }
  if (code == core::ErrorCode::kWouldWait) {
    return result;  // asked again where waiting is allowed
  }
  if (code == core::ErrorCode::kUnavailable || code == core::ErrorCode::kUpstreamFailed) {
    if (checked_by == CheckedBy::kTokenStore) {
      // Our database is away: the credential may be fine, so "retry" (503), not "rejected" (401).
      return result;
    }
    if (result.error().retry_after) {
      return result;  // a key fetch is under way: retry in a moment (JwtVerifier)
    }
    // As Renku: a JWT that cannot be checked is not accepted.
    return Rejected("identity issuer unavailable");
  }
  return Rejected("credentials could not be checked");
}

}  // namespace

Authenticator::Authenticator(JwtVerifier* jwt, ApiTokenAuthenticator& local,
                             SessionTokenAuthenticator& sessions,
                             BrowserSessionVerifier& browser_sessions)
    : jwt_(jwt), local_(local), sessions_(sessions), browser_sessions_(browser_sessions) {}

core::Result<core::Caller> Authenticator::Authenticate(
    std::string_view authorization_header_value) {
  const std::string_view value = Trim(authorization_header_value);
  if (value.empty()) {
    return core::Caller::Anonymous();
  }
  // RFC 6750 §2.1: "Bearer" 1*SP token; RFC 9110 §11.1: the scheme is case-insensitive.
  if (core::EqualsIgnoreAsciiCase(value, "bearer")) {
    return Rejected("missing bearer token");
  }
  const std::size_t space = value.find_first_of(" \t");
  if (space == std::string_view::npos
      || !core::EqualsIgnoreAsciiCase(value.substr(0, space), "bearer")) {
    return Rejected("unsupported authorization scheme");
  }
  const std::string_view token = Trim(value.substr(space));
  if (token.substr(0, kApiTokenPrefix.size()) == kApiTokenPrefix) {
    return FromResult(local_.Authenticate(token), CheckedBy::kTokenStore);
  }
  if (token.substr(0, kSessionTokenPrefix.size()) == kSessionTokenPrefix) {
    return FromResult(sessions_.Authenticate(token), CheckedBy::kTokenStore);
  }
  if (jwt_ == nullptr) {
    return Rejected("token not accepted: no identity issuer is configured");
  }
  return FromResult(jwt_->Verify(token), CheckedBy::kIdentityIssuer);
}

core::Result<core::Caller> Authenticator::Authenticate(std::string_view authorization_header_value,
                                                       std::string_view session_cookie) {
  if (!Trim(authorization_header_value).empty() || session_cookie.empty()) {
    return Authenticate(authorization_header_value);
  }
  return FromResult(browser_sessions_.VerifySession(session_cookie), CheckedBy::kTokenStore);
}

}  // namespace keybridge::identity
