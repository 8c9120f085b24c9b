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

// The associated data a value of `c` in row `id` is sealed with now, and the one it may have
// been sealed with before (connection tokens written before they were bound to their provider's
// destination, sealed_columns.h); rotation re-seals those too, so none is left unbound.
struct AssociatedDataOf {
  std::string current;
  std::optional<std::string> legacy;
};

core::Result<AssociatedDataOf> AssociatedDataFor(Database& database, const SealedColumn& c,
                                                 const std::string& id) {
  if (c.table != kConnectionToken.table || c.column != kConnectionToken.column) {
    return AssociatedDataOf{c.AssociatedData(id), std::nullopt};
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(std::vector<Row> rows,
                             database.Query("SELECT " + std::string(kConnectionBindingColumns)
                                                + " FROM oauth2_connections WHERE id = $1",
                                            {id}));
  std::string binding = ConnectionTokenBinding("", "", "");
  if (!rows.empty()) {
    RowReader reader(rows.front(), c.table);
    const std::optional<std::string> kind = reader.OptionalText(0);
    const std::optional<std::string> url = reader.OptionalText(1);
    const std::optional<std::string> issuer = reader.OptionalText(2);
    KEYBRIDGE_RETURN_IF_ERROR(reader.status());
    binding = ConnectionTokenBinding(kind.value_or(""), url.value_or(""), issuer.value_or(""));
  }
  return AssociatedDataOf{ConnectionTokenAssociatedData(id, binding), c.AssociatedData(id)};
}

core::Result<Outcome> ReencryptRow(Database& database, crypto::KeyRing& keys, const SealedColumn& c,
                                   const std::string& id, std::string sealed) {
  KEYBRIDGE_ASSIGN_OR_RETURN(const AssociatedDataOf associated, AssociatedDataFor(database, c, id));
  const std::string& associated_data = associated.current;
  const std::string update = "UPDATE " + std::string(c.table) + " SET " + std::string(c.column)
                             + " = $1 WHERE " + std::string(c.id_column) + " = $2 AND "
                             + std::string(c.column) + " = $3";
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    const bool active_key = crypto::KeyRing::KeyIdOf(sealed) == keys.ActiveKeyId();
    if (active_key && !associated.legacy) {
      return Outcome::kAlreadyCurrent;
    }
    core::Result<std::string> plaintext = keys.Open(sealed, associated_data);
    if (plaintext.ok() && active_key) {
      return Outcome::kAlreadyCurrent;
    }
    if (!plaintext.ok() && associated.legacy) {
      plaintext = keys.Open(sealed, *associated.legacy);
    }
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
