// Local API tokens: bearer tokens made by `keybridge tokens create` for deployments without an
// identity issuer. Only the SHA-256 hash is stored (core::ApiToken::token_hash); the hash is also
// the lookup key, so no plaintext token is ever compared or kept.
#pragma once

#include <string>
#include <string_view>

#include "core/caller.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/repositories.h"
#include "core/result.h"
#include "core/secret.h"

namespace keybridge::identity {

// Every local token starts with this, so Authenticator can tell it from a JWT without a lookup.
inline constexpr std::string_view kLocalTokenPrefix = "kb_";

// "kb_" + base64url(32 random bytes): 256 bits of entropy, 46 characters.
core::Secret GenerateLocalToken(core::Random& random);
// Lower-case hex SHA-256 of the whole token string (prefix included).
std::string HashLocalToken(std::string_view token);

class LocalTokenAuthenticator {
 public:
  // `tokens` and `clock` must outlive the authenticator.
  LocalTokenAuthenticator(core::ApiTokenRepository& tokens, const core::Clock& clock);

  // kUnauthenticated ("unknown token", "token revoked", "token expired") for a token that is not
  // usable; repository failures are returned unchanged. Thread-safe if the repository is.
  core::Result<core::Caller> Authenticate(std::string_view token);

 private:
  core::ApiTokenRepository& tokens_;
  const core::Clock& clock_;
};

}  // namespace keybridge::identity
