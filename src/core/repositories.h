// Repository ports: how services load and store domain objects. storage/ implements them on
// SQLite and PostgreSQL (one SQL implementation, two dialects); tests/contract holds them to the
// same behaviour. All methods are thread-safe.
#pragma once

#include <string>
#include <vector>

#include "core/api_token.h"
#include "core/provider.h"
#include "core/result.h"

namespace keybridge::core {

class ProviderRepository {
 public:
  virtual ~ProviderRepository() = default;
  // Ordered by id.
  virtual Result<std::vector<Provider>> List() = 0;
  // kNotFound if there is no provider with this id.
  virtual Result<Provider> Find(const std::string& id) = 0;
  // kConflict if the id is taken.
  virtual Status Insert(const Provider& provider) = 0;
  // Replaces every field of the stored row with `provider` (matched by id); kNotFound if absent.
  virtual Status Update(const Provider& provider) = 0;
  // Returns whether a row was deleted.
  virtual Result<bool> Delete(const std::string& id) = 0;
};

class ApiTokenRepository {
 public:
  virtual ~ApiTokenRepository() = default;
  // kConflict if the id or the hash is taken.
  virtual Status Insert(const ApiToken& token) = 0;
  // kNotFound if no token has this hash (revoked and expired tokens are returned; the caller
  // decides).
  virtual Result<ApiToken> FindByHash(const std::string& token_hash) = 0;
  // Ordered by created_at, then id.
  virtual Result<std::vector<ApiToken>> List() = 0;
  // Sets revoked_at if not yet revoked; returns whether a token with this id exists.
  virtual Result<bool> Revoke(const std::string& id, TimePoint now) = 0;
};

}  // namespace keybridge::core
