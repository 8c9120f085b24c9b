// AuditEvent: one record of the audit trail — who obtained which connection's token when, and
// who changed what (integrations, connections, sign-ins, session tokens). Never a token, secret,
// code or verifier: a hand-out records only the token's fingerprint (TokenFingerprint in
// service/audit_log.h), an administrator's change only field values that are not secret.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/caller.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/result.h"

namespace keybridge::core {

enum class AuditKind {
  kTokenHandout,
  kIntegrationCreated,
  kIntegrationUpdated,
  kIntegrationDeleted,
  kConnected,
  kDisconnected,
  kRefreshFailed,
  kSignedIn,
  kSessionTokenCreated,
  kSessionTokenRevoked,
};

// "token-handout", "integration-created", ...: the names the API and the log lines use.
std::string_view AuditKindName(AuditKind kind);
std::optional<AuditKind> ParseAuditKind(std::string_view name);

// Who called, by credential: "browser", "jwt", "api-token", "session-token", or "" (none, e.g.
// the token endpoint's refresh handle is checked by its service and names its session token).
std::string_view AuditCallerKind(const Caller& caller);

struct AuditEvent {
  std::int64_t id = 0;  // assigned by the repository, increasing; 0 before
  TimePoint time{};
  AuditKind kind = AuditKind::kTokenHandout;
  UserId actor;                  // who acted ("" for a background refresh)
  std::string caller_kind;       // AuditCallerKind
  std::string session_token_id;  // the session token's public id when caller_kind is one
  // What handed the token out: "api", "git-credential", "git-proxy", "docker-helper", "rclone",
  // "token-endpoint", "pull-secret"; "" for changes.
  std::string consumer;
  std::string connection_id;
  std::string provider_id;
  std::string target;             // repository URL or image reference, when known
  std::string token_fingerprint;  // first 12 hex digits of SHA-256 of the access token
  std::string changes;            // JSON {"field": {"before": …, "after": …}}, no secrets
};

struct AuditQuery {
  std::optional<UserId> user;
  std::optional<ProviderId> provider;
  std::optional<AuditKind> kind;
  std::optional<TimePoint> since;  // inclusive
  std::optional<TimePoint> until;  // inclusive
  std::size_t offset = 0;
  std::size_t limit = 20;
};

struct AuditPage {
  std::vector<AuditEvent> events;  // newest first (time, then id, descending)
  std::int64_t total = 0;          // events matching the filters
};

class AuditRepository {
 public:
  virtual ~AuditRepository() = default;
  // Stores the events (ids are assigned, the given ones ignored), all or none.
  virtual Status Append(const std::vector<AuditEvent>& events) = 0;
  virtual Result<AuditPage> List(const AuditQuery& query) = 0;
  // Deletes events older than `before`; returns how many.
  virtual Result<std::int64_t> DeleteBefore(TimePoint before) = 0;
};

}  // namespace keybridge::core
