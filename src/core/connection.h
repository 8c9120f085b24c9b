// Connection: one user's link to one provider (Renku "OAuth2 connection"), and
// AuthorizationFlow: one pending authorize -> callback round trip. Flows are separate from
// connections so that starting a reconnect never disturbs a working token.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/ids.h"
#include "core/result.h"
#include "core/secret.h"
#include "core/token_set.h"

namespace keybridge::core {

enum class ConnectionStatus {
  kPending,             // a flow was started, no token yet
  kConnected,           // a usable token set is stored
  kInvalidCredentials,  // the provider rejected our refresh token; the user must reconnect
};

std::string_view ToString(ConnectionStatus status);
Result<ConnectionStatus> ParseConnectionStatus(std::string_view text);

struct Connection {
  ConnectionId id;  // ULID (26 chars, Crockford base32), stable across reconnects
  UserId user_id;
  ProviderId provider_id;
  ConnectionStatus status = ConnectionStatus::kPending;
  std::string status_reason;  // why it is not connected; "" when connected
  std::optional<TokenSet> token;
  // Incremented on every token write; used for compare-and-set so a stale writer never
  // overwrites a newer token.
  std::int64_t token_version = 0;
  TimePoint created_at{};
  TimePoint updated_at{};
};

struct AuthorizationFlow {
  std::string state_hash;  // hex SHA-256 of the `state` sent to the provider; never the state
  UserId user_id;          // who started it; the callback must come from the same browser
  ProviderId provider_id;
  ConnectionId connection_id;
  std::optional<Secret> code_verifier;  // PKCE (RFC 7636), sealed at rest
  std::string next_url;                 // validated same-origin URL, "" if none
  std::string browser_binding_hash;     // hex SHA-256 of the flow cookie value
  TimePoint created_at{};
  TimePoint expires_at{};
};

}  // namespace keybridge::core
