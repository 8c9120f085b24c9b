#include "storage/key_rotation.h"

#include <optional>
#include <string>
#include <utility>

#include "storage/log.h"
#include "storage/sealed_columns.h"

namespace keybridge::storage {
namespace {

// A row that keeps changing under us this often is being rewritten in a loop; give up on it.
constexpr int kMaxAttempts = 5;

enum class Outcome { kReencrypted, kAlreadyCurrent, kGone };

std::string SelectOne(const SealedColumn& c) {
  return "SELECT " + std::string(c.column) + " FROM " + std::string(c.table) + " WHERE "
         + std::string(c.id_column) + " = $1";
}

core::Result<Outcome> ReencryptRow(Database& database, crypto::KeyRing& keys, const SealedColumn& c,
                                   const std::string& id, std::string sealed) {
  const std::string associated_data = c.AssociatedData(id);
  const std::string update = "UPDATE " + std::string(c.table) + " SET " + std::string(c.column)
                             + " = $1 WHERE " + std::string(c.id_column) + " = $2 AND "
                             + std::string(c.column) + " = $3";
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    if (crypto::KeyRing::KeyIdOf(sealed) == keys.ActiveKeyId()) {
      return Outcome::kAlreadyCurrent;
    }
    core::Result<std::string> plaintext = keys.Open(sealed, associated_data);
    if (!plaintext.ok()) {
      return core::MakeError(core::ErrorCode::kDecryptionFailed,
                             "cannot decrypt " + std::string(c.table) + "." + std::string(c.column)
                                 + " of row '" + id + "'",
                             "sealed with key id '" + crypto::KeyRing::KeyIdOf(sealed)
                                 + "': " + plaintext.error().message);
    }
    KEYBRIDGE_ASSIGN_OR_RETURN(std::string resealed, keys.Seal(*plaintext, associated_data));
    KEYBRIDGE_ASSIGN_OR_RETURN(std::int64_t updated,
                               database.Execute(update, {std::move(resealed), id, sealed}));
    if (updated > 0) {
      return Outcome::kReencrypted;
    }
    // Someone wrote the row between our read and the update: look at what is there now.
    KEYBRIDGE_ASSIGN_OR_RETURN(std::vector<Row> rows, database.Query(SelectOne(c), {id}));
    if (rows.empty()) {
      return Outcome::kGone;
    }
    RowReader reader(rows.front(), c.table);
    std::optional<std::string> current = reader.OptionalText(0);
    KEYBRIDGE_RETURN_IF_ERROR(reader.status());
    if (!current) {
      return Outcome::kGone;
    }
    sealed = *std::move(current);
  }
  return core::MakeError(core::ErrorCode::kUnavailable,
                         "row '" + id + "' of " + std::string(c.table)
                             + " kept changing during re-encryption; run the rotation again");
}

}  // namespace

core::Result<RotationReport> ReencryptSecrets(Database& database, crypto::KeyRing& keys) {
  RotationReport report;
  for (const SealedColumn& c : kSealedColumns) {
    const std::string select = "SELECT " + std::string(c.id_column) + ", " + std::string(c.column)
                               + " FROM " + std::string(c.table) + " WHERE " + std::string(c.column)
                               + " IS NOT NULL ORDER BY " + std::string(c.id_column);
    KEYBRIDGE_ASSIGN_OR_RETURN(std::vector<Row> rows, database.Query(select, {}));
    for (const Row& row : rows) {
      RowReader reader(row, c.table);
      std::string id = reader.Text(0);
      std::string sealed = reader.Text(1);
      KEYBRIDGE_RETURN_IF_ERROR(reader.status());
      KEYBRIDGE_ASSIGN_OR_RETURN(Outcome outcome,
                                 ReencryptRow(database, keys, c, id, std::move(sealed)));
      if (outcome == Outcome::kReencrypted) {
        ++report.reencrypted;
      } else if (outcome == Outcome::kAlreadyCurrent) {
        ++report.already_current;
      }
    }
  }
  Log()->info("re-encrypted {} secrets; {} were already sealed with key {}", report.reencrypted,
              report.already_current, keys.ActiveKeyId());
  return report;
}

core::Result<RotationReport> ReencryptSecrets(Store& store, crypto::KeyRing& keys) {
  return ReencryptSecrets(*store.database, keys);
}

}  // namespace keybridge::storage
