// Caller: who is making a request, as decided by identity::Authenticator. Renku's caller classes:
// anonymous, authenticated user, admin (the security requirements of each route in
// api/openapi.json).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"

namespace keybridge::core {

// What a session token (minted for one interactive session) may reach. A session caller may only
// obtain access tokens for these connections, or for connections whose provider serves one of
// these repositories, and run the repository check; it can list, change or mint nothing.
struct SessionScope {
  std::string token_id;      // the session token's public id (audit)
  std::string session_name;  // e.g. the session/server name it was minted for
  std::vector<ConnectionId> connection_ids;
  std::vector<std::string> repository_urls;
  // Container images it may check and obtain registry credentials for:
  // "registry-host[:port][/path-prefix]" (core::ImageWithin).
  std::vector<std::string> image_repositories{};
  // The token's SHA-256 (its stored lookup key, never the token) and its expiry: a refresh handle
  // issued to the session is bound to both (identity/refresh_handle.h).
  std::string token_hash{};
  TimePoint expires_at{};
};

struct Caller {
  UserId user_id;  // empty for anonymous callers
  bool is_admin = false;
  std::string email;
  std::string name;
  // Why a presented credential was not accepted ("expired", "unknown key"...), for the 401 message;
  // never contains the credential itself.
  std::string rejected_reason;

  // Set when the credential was a session token; the user_id is the session owner.
  std::optional<SessionScope> session_scope;
  // Set when the credential was the browser session cookie: state-changing requests
  // must then carry the session's CSRF token (checked by routes/request_policy.cc).
  bool browser_session = false;
  // Which bearer credential authenticated the caller, for the audit trail: "jwt" or
  // "api-token" ("" otherwise; session tokens and the browser cookie are told by the fields above).
  std::string credential;

  bool IsAuthenticated() const { return !user_id.empty(); }
  bool IsSessionToken() const { return session_scope.has_value(); }
  static Caller Anonymous() { return Caller{}; }
  static Caller User(UserId id, bool admin = false) {
    Caller caller;
    caller.user_id = std::move(id);
    caller.is_admin = admin;
    return caller;
  }
};

}  // namespace keybridge::core
