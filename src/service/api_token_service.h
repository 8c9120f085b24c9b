// ApiTokenService: local API tokens for the embedded default (no identity provider needed).
// Used by the `keybridge tokens` commands; tokens are shown once and stored only as hashes.
#pragma once

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

class ApiTokenService {
 public:
  // All references must outlive the service. Thread-safe.
  ApiTokenService(core::ApiTokenRepository& tokens, core::Random& random, const core::Clock& clock);

  // kInvalidArgument for an empty user id or a non-positive ttl.
  core::Result<IssuedApiToken> Create(const std::string& user_id, bool is_admin,
                                      const std::string& name, std::optional<core::Seconds> ttl);
  core::Result<std::vector<core::ApiToken>> List();
  // kNotFound if no token has this id.
  core::Status Revoke(const std::string& id);

 private:
  core::ApiTokenRepository& tokens_;
  core::Random& random_;
  const core::Clock& clock_;
};

}  // namespace keybridge::service
