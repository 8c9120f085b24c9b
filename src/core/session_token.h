// SessionToken: a bearer token a user mints for one interactive session (a Renku session, a CI
// job), scoped to some connections or repositories. With it the session may only obtain access
// tokens for that scope (core::SessionScope); it can list, change or mint nothing. Only the
// SHA-256 of the token is ever stored.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"

namespace keybridge::core {

struct SessionToken {
  std::string id;  // "st_" + 12 hex digits: public, used to list and revoke
  UserId user_id;  // the owner; a session acts as this user within its scope
  std::string session_name;
  std::string token_hash;  // hex SHA-256 of the full token string
  // Scope: connections it may obtain tokens for, and repositories whose provider's connection it
  // may use. Any of the three lists may be empty, not all.
  std::vector<ConnectionId> connection_ids;
  std::vector<std::string> repository_urls;
  // Container images ("registry-host[:port][/path-prefix]") it may check and obtain registry
  // credentials for; a token without any gets neither.
  std::vector<std::string> image_repositories{};
  TimePoint created_at{};
  TimePoint expires_at{};  // session tokens always expire
  std::optional<TimePoint> revoked_at;
};

// Limits shared by validation and the schema.
inline constexpr std::size_t kMaxSessionNameLength = 200;
inline constexpr std::size_t kMaxSessionScopeEntries = 50;

}  // namespace keybridge::core
