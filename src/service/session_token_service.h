// SessionTokenService: users mint, list and revoke session tokens (core::SessionToken) through
// /api/data/sessions/tokens. A session token is shown once and stored as a hash; with it a session
// may only obtain access tokens within its scope (enforced by the routes' access table and
// SessionScopePolicy), so only a user acting for themself, never a session, may manage them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/caller.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/repositories.h"
#include "core/result.h"
#include "core/secret.h"
#include "core/session_token.h"
#include "service/audit_log.h"
#include "service/session_scope.h"

namespace keybridge::service {

struct SessionTokenServiceOptions {
  core::Seconds default_ttl{12 * 3600};  // when the request names none (capped by max_ttl)
  core::Seconds max_ttl{7 * 24 * 3600};  // --max-session-token-ttl
  core::Seconds min_ttl{60};
};

struct SessionTokenRequest {
  std::string session_name;
  std::optional<core::Seconds> ttl;
  std::vector<core::ConnectionId> connection_ids;
  std::vector<std::string> repository_urls;
  std::vector<std::string> image_repositories{};  // "registry-host[:port][/path-prefix]"
};

enum class SessionTokenState { kActive, kExpired, kRevoked };
std::string_view ToString(SessionTokenState state);  // "active", "expired", "revoked"

struct ListedSessionToken {
  core::SessionToken record;
  SessionTokenState state = SessionTokenState::kActive;
};

struct IssuedSessionToken {
  core::SessionToken record;
  core::Secret token;  // the only time the plaintext exists; show it once
};

class SessionTokenService {
 public:
  // All references must outlive the service. Thread-safe.
  SessionTokenService(core::SessionTokenRepository& tokens, SessionScopePolicy& scope,
                      core::Random& random, const core::Clock& clock,
                      SessionTokenServiceOptions options);

  // kUnauthenticated; kPermissionDenied for a session caller; kInvalidArgument naming the field
  // for an empty or overlong name, a TTL outside [min_ttl, max_ttl], or a scope that
  // SessionScopePolicy::CheckRequest refuses.
  core::Result<IssuedSessionToken> Create(const core::Caller& caller,
                                          const SessionTokenRequest& request);
  // The caller's session tokens, revoked and expired ones included. Errors as Create.
  core::Result<std::vector<ListedSessionToken>> List(const core::Caller& caller);
  // kNotFound if the caller has no token with this id; revoking twice is fine.
  core::Status Revoke(const core::Caller& caller, const std::string& id);
  // Where creations and revocations are recorded (null: none). Set before use.
  void SetAuditLog(AuditLog* audit) { audit_ = audit; }

 private:
  void Audit(core::AuditKind kind, const core::Caller& caller, const std::string& id);

  core::SessionTokenRepository& tokens_;
  SessionScopePolicy& scope_;
  core::Random& random_;
  const core::Clock& clock_;
  const SessionTokenServiceOptions options_;
  AuditLog* audit_ = nullptr;
};

// "st_" + 12 lower-case hex digits.
bool IsSessionTokenId(std::string_view id);

}  // namespace keybridge::service
