// ReencryptSecrets: the storage half of `keybridge keys rotate`. After KeyRing::Rotate() made a
// new key active, it re-seals every value in kSealedColumns that names an older key, online, until
// no value does. RetireKey and CountSealedValues: `keybridge keys retire` and `keys list`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/key_ring.h"
#include "storage/database.h"
#include "storage/store.h"

namespace keybridge::storage {

struct RotationReport {
  std::int64_t reencrypted = 0;      // values re-sealed with the active key
  std::int64_t already_current = 0;  // values the first pass found already sealed with it
  int passes = 0;                    // passes over the sealed columns, the last one finding none
};

struct ReencryptOptions {
  // Running servers seal with the old key until their ring looks at the key file again
  // (KeyRing::kReloadInterval), so a value may be written under it after a pass went by.
  // ReencryptSecrets passes again over what is not under the active key until a pass finds
  // nothing, and gives up (kUnavailable) after this many.
  int max_passes = 10;
  // How long after the start the final check may come: every server has then looked at the key
  // file since the rotation. The margin covers a stat racing the rename.
  std::chrono::milliseconds settle =
      std::chrono::duration_cast<std::chrono::milliseconds>(crypto::KeyRing::kReloadInterval)
      + std::chrono::milliseconds(250);
  // Called once, after the first pass, with what is left of `settle` (zero or more); the default
  // sleeps it. Tests run a racing write here instead of sleeping.
  std::function<void(std::chrono::nanoseconds)> wait_for_servers;
};

// Row by row, each update a compare-and-set on the old ciphertext, so a value written
// concurrently (already under the active key) is never overwritten; such a row is read again.
// Rows deleted meanwhile are skipped. The first pass reads every value (re-sealing under the
// active key those still bound to legacy associated data); later ones only values whose sealed
// prefix names another key. kDecryptionFailed naming the table and row id if a value cannot be
// opened (it stays untouched; rows before it are already re-sealed, so running again after fixing
// the key file is safe); kUnavailable naming a row if values keep appearing under old keys.
core::Result<RotationReport> ReencryptSecrets(Database& database, crypto::KeyRing& keys,
                                              const ReencryptOptions& options = {});
core::Result<RotationReport> ReencryptSecrets(Store& store, crypto::KeyRing& keys,
                                              const ReencryptOptions& options = {});

// How many stored values of one sealed column name one key id.
struct SealedCount {
  std::string key_id;
  std::string table;
  std::string column;
  std::int64_t values = 0;
};

// Every (key id, column) pair with at least one value, by key id then column. Values not in the
// sealed format are not counted.
core::Result<std::vector<SealedCount>> CountSealedValues(Database& database);

// `keybridge keys retire`: removes key `key_id` from the key file once nothing stored needs it.
// kNotFound if the key file does not hold it; kConflict if it is the active key, or if any stored
// value is still sealed with it (the message counts them by column). Messages say what to run.
core::Status RetireKey(Database& database, crypto::KeyRing& keys, std::string_view key_id);
core::Status RetireKey(Store& store, crypto::KeyRing& keys, std::string_view key_id);

}  // namespace keybridge::storage
