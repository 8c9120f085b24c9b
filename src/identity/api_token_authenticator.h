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

// Every API token starts with this, so Authenticator can tell it from a JWT without a lookup.
inline constexpr std::string_view kApiTokenPrefix = "kb_";

// Session tokens (core::SessionToken) start with this one instead.
inline constexpr std::string_view kSessionTokenPrefix = "kbs_";

// `prefix` + base64url(32 random bytes): 256 bits of entropy.
core::Secret GenerateBearerToken(std::string_view prefix, core::Random& random);
// Lower-case hex SHA-256 of the whole token string (prefix included): the stored lookup key of
// local and session tokens alike.
std::string HashBearerToken(std::string_view token);

// "kb_" + base64url(32 random bytes): 256 bits of entropy, 46 characters.
core::Secret GenerateApiToken(core::Random& random);
// HashBearerToken of an API token.
std::string HashApiToken(std::string_view token);

class ApiTokenAuthenticator {
 public:
  // `tokens` and `clock` must outlive the authenticator.
  ApiTokenAuthenticator(core::ApiTokenRepository& tokens, const core::Clock& clock);

  // kUnauthenticated ("unknown token", "token revoked", "token expired") for a token that is not
  // usable; repository failures are returned unchanged. Thread-safe if the repository is.
  core::Result<core::Caller> Authenticate(std::string_view token);
  // The same checks for a token known by its hash (HashApiToken): the stored token if it is
  // usable now. A browser session signed in with a local token re-checks it this way on every use.
  core::Result<core::ApiToken> CheckHash(std::string_view hash);

 private:
  core::ApiTokenRepository& tokens_;
  const core::Clock& clock_;
};

// Accepts "kbs_" session tokens: the caller is the token's owner, never an administrator, with
// Caller::session set to the token's scope.
class SessionTokenAuthenticator {
 public:
  // `tokens` and `clock` must outlive the authenticator.
  SessionTokenAuthenticator(core::SessionTokenRepository& tokens, const core::Clock& clock);

  // kUnauthenticated ("unknown session token", "session token revoked", "session token expired")
  // for a token that is not usable; repository failures are returned unchanged. Thread-safe if
  // the repository is.
  core::Result<core::Caller> Authenticate(std::string_view token);
  // The same checks for a token known by its hash (HashBearerToken): a refresh handle bound to a
  // session (identity/refresh_handle.h) re-checks the session token this way on every use.
  core::Result<core::Caller> AuthenticateHash(std::string_view hash);

 private:
  core::SessionTokenRepository& tokens_;
  const core::Clock& clock_;
};

}  // namespace keybridge::identity
