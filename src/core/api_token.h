// ApiToken: a local bearer token made by `keybridge tokens create`, so the embedded default works
// without an identity provider. Only the SHA-256 hash of the token is ever stored.
#pragma once

#include <optional>
#include <string>

#include "core/clock.h"
#include "core/ids.h"

namespace keybridge::core {

struct ApiToken {
  std::string id;    // short public id, used by `tokens list|revoke`
  UserId user_id;    // the identity the token acts as
  std::string name;  // free label
  bool is_admin = false;
  std::string token_hash;  // hex SHA-256 of the full token string
  TimePoint created_at{};
  std::optional<TimePoint> expires_at;
  std::optional<TimePoint> revoked_at;
};

}  // namespace keybridge::core
