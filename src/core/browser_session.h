// BrowserSession: a signed-in browser. The browser holds a 256-bit random session id in
// an HttpOnly cookie; the server keeps only its SHA-256. A session ends at expires_at (absolute
// lifetime) or after an idle period without requests (BrowserSessionService decides).
#pragma once

#include <optional>
#include <string>

#include "core/clock.h"
#include "core/ids.h"

namespace keybridge::core {

struct BrowserSession {
  std::string id_hash;  // hex SHA-256 of the cookie value
  UserId user_id;
  std::string name;  // what the UI shows ("Administrator", the OIDC name, the token's user)
  bool is_admin = false;
  TimePoint created_at{};
  TimePoint last_seen_at{};
  TimePoint expires_at{};
  // The hex SHA-256 of the local `kb_` token the session was signed in with ("" otherwise): the
  // session re-checks it on every use and ends when the token is revoked or expires.
  std::string source_token_hash;
  // OIDC sessions: when the identity provider must be asked again (roles can change there).
  std::optional<TimePoint> identity_recheck_at;
};

// A pending OIDC browser sign-in: state and browser binding are stored hashed; the PKCE verifier
// is derived from the binding cookie, so nothing secret is kept.
struct BrowserLoginFlow {
  std::string state_hash;
  std::string browser_binding_hash;
  std::string next_path;  // same-origin path to return to
  TimePoint expires_at{};
};

}  // namespace keybridge::core
