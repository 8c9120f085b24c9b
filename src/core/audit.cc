#include "core/audit.h"

#include <array>
#include <utility>

namespace keybridge::core {
namespace {

constexpr std::array<std::pair<AuditKind, std::string_view>, 10> kKindNames = {{
    {AuditKind::kTokenHandout, "token-handout"},
    {AuditKind::kIntegrationCreated, "integration-created"},
    {AuditKind::kIntegrationUpdated, "integration-updated"},
    {AuditKind::kIntegrationDeleted, "integration-deleted"},
    {AuditKind::kConnected, "connected"},
    {AuditKind::kDisconnected, "disconnected"},
    {AuditKind::kRefreshFailed, "refresh-failed"},
    {AuditKind::kSignedIn, "signed-in"},
    {AuditKind::kSessionTokenCreated, "session-token-created"},
    {AuditKind::kSessionTokenRevoked, "session-token-revoked"},
}};

}  // namespace

std::string_view AuditKindName(AuditKind kind) {
  for (const auto& [value, name] : kKindNames) {
    if (value == kind) {
      return name;
    }
  }
  return "unknown";
}

std::optional<AuditKind> ParseAuditKind(std::string_view name) {
  for (const auto& [value, known] : kKindNames) {
    if (known == name) {
      return value;
    }
  }
  return std::nullopt;
}

std::string_view AuditCallerKind(const Caller& caller) {
  if (caller.session_scope) {
    return "session-token";
  }
  if (caller.browser_session) {
    return "browser";
  }
  return caller.credential;
}

}  // namespace keybridge::core
