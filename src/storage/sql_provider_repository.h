// SqlProviderRepository: core::ProviderRepository over Database (table oauth2_clients), for both
// SQLite and PostgreSQL. The client secret is sealed with the KeyRing before it reaches SQL;
// timestamps are stored as whole unix seconds.
#pragma once

#include <string>
#include <vector>

#include "core/repositories.h"
#include "crypto/key_ring.h"
#include "storage/database.h"

namespace keybridge::storage {

class SqlProviderRepository final : public core::ProviderRepository {
 public:
  // `database` and `keys` must outlive the repository. Thread-safe.
  SqlProviderRepository(Database& database, crypto::KeyRing& keys)
      : database_(database), keys_(keys) {}

  // Besides the contracts of core::ProviderRepository: reading a provider whose client secret
  // cannot be opened (unknown key, tampered or moved ciphertext) is kDecryptionFailed naming the
  // provider id; an unknown `kind` in the database is kInternal.
  core::Result<std::vector<core::Provider>> List() override;
  core::Result<core::Provider> Find(const core::ProviderId& id) override;
  core::Status Insert(const core::Provider& provider) override;
  core::Status Update(const core::Provider& provider) override;
  core::Result<bool> Delete(const core::ProviderId& id) override;

 private:
  core::Result<Params> ToParams(const core::Provider& provider);
  core::Result<core::Provider> FromRow(const Row& row);

  Database& database_;
  crypto::KeyRing& keys_;
};

}  // namespace keybridge::storage
