// TokenSet: what a provider issued for one connection (RFC 6749 section 5.1), held in memory with
// every credential wrapped in Secret. storage/ seals the whole set before it reaches SQL.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/secret.h"

namespace keybridge::core {

struct TokenSet {
  Secret access_token;
  std::string token_type = "bearer";  // compare case-insensitively (RFC 6749 5.1)
  std::optional<Secret> refresh_token;
  std::string scope;  // as granted; "" when the provider sent none
  // Absolute expiry computed at receipt from expires_in; absent = the token does not expire
  // (GitHub OAuth Apps, GitHub Apps with expiring tokens switched off).
  std::optional<TimePoint> expires_at;
  std::optional<std::int64_t> expires_in;  // the lifetime the provider announced, in seconds
  std::optional<TimePoint> refresh_token_expires_at;  // GitHub: refresh_token_expires_in
  std::optional<Secret> id_token;                     // OIDC
  // The other members of the provider's latest token answer (GitLab created_at, GitHub
  // refresh_token_expires_in, Zenodo user...) as the text of one JSON object, "" if none: handed
  // on with the token as Renku does, never interpreted. Sealed with the rest of the set.
  std::string extra_fields_json;
  TimePoint obtained_at{};

  // True when the access token expires within `margin` of `now`. Never true for tokens without
  // an expiry.
  bool IsExpiring(TimePoint now, Seconds margin) const {
    return expires_at.has_value() && *expires_at - margin <= now;
  }
};

// When the background refresher should refresh a connection so that its refresh token never
// lapses while the user is idle: a week before a known refresh-token expiry (GitHub Apps: ~6
// months), else 30 days after the token was obtained (GitLab documents no expiry, but instances
// can be configured to expire unused grants). No refresh token: never.
inline std::optional<TimePoint> RefreshDueAt(const TokenSet& token) {
  if (!token.refresh_token) {
    return std::nullopt;
  }
  constexpr Seconds kWeek(7 * 24 * 3600);
  constexpr Seconds kMonth(30 * 24 * 3600);
  if (token.refresh_token_expires_at) {
    return std::max(*token.refresh_token_expires_at - kWeek, token.obtained_at + Seconds(3600));
  }
  return token.obtained_at + kMonth;
}

}  // namespace keybridge::core
