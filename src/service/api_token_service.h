// ApiTokenService: local API tokens for the embedded default (no identity provider needed).
// Used by the `keybridge tokens` commands; tokens are shown once and stored only as hashes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/api_token.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/repositories.h"
#include "core/result.h"
#include "core/secret.h"

namespace keybridge::service {

struct IssuedApiToken {
  core::ApiToken record;
  core::Secret token;  // the only time the plaintext exists; print it once
};

// What RevokeAndSignOut did once the token was revoked.
struct ApiTokenRevocation {
  core::UserId user_id;  // the token's owner (empty if the listing that names it failed)
  std::int64_t browser_sessions_ended = 0;
  // Set when the token is revoked but the owner's browser sessions could not be deleted (they
  // may have been signed in with it): the caller must report it.
  std::optional<core::Error> sign_out_error;
};

class ApiTokenService {
 public:
  // All references must outlive the service. Thread-safe.
  ApiTokenService(core::ApiTokenRepository& tokens, core::Random& random, const core::Clock& clock);

  // kInvalidArgument for an empty user id or a non-positive ttl.
  core::Result<IssuedApiToken> Create(const core::UserId& user_id, bool is_admin,
                                      const std::string& name, std::optional<core::Seconds> ttl);
  core::Result<std::vector<core::ApiToken>> List();
  // kNotFound if no token has this id.
  core::Status Revoke(const std::string& id);
  // Revokes the token and signs its owner out of every browser: a browser session may have been
  // signed in with the token, and must not outlive it (up to 7 days). The errors of Revoke; a
  // failed sign-out after a successful revocation is ApiTokenRevocation::sign_out_error.
  core::Result<ApiTokenRevocation> RevokeAndSignOut(const std::string& id,
                                                    core::BrowserSessionRepository& sessions);

 private:
  core::ApiTokenRepository& tokens_;
  core::Random& random_;
  const core::Clock& clock_;
};

}  // namespace keybridge::service
