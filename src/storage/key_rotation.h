// ReencryptSecrets: the storage half of `keybridge keys rotate`. After KeyRing::Rotate() made a
// new key active, it re-seals every value in kSealedColumns that names an older key, online.
#pragma once

#include <cstdint>

#include "crypto/key_ring.h"
#include "storage/database.h"
#include "storage/store.h"

namespace keybridge::storage {

struct RotationReport {
  std::int64_t reencrypted = 0;      // values re-sealed with the active key
  std::int64_t already_current = 0;  // values that were already sealed with it
};

// Row by row, each update a compare-and-set on the old ciphertext, so a value written
// concurrently (already under the active key) is never overwritten; such a row is read again.
// Rows deleted meanwhile are skipped. kDecryptionFailed naming the table and row id if a value
// cannot be opened (it stays untouched; rows before it are already re-sealed, so running again
// after fixing the key file is safe).
core::Result<RotationReport> ReencryptSecrets(Database& database, crypto::KeyRing& keys);
core::Result<RotationReport> ReencryptSecrets(Store& store, crypto::KeyRing& keys);

}  // namespace keybridge::storage
