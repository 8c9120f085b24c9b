#include "storage/key_rotation.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
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

// The rows of one pass: every value on the first, else those under another key than the active
// one.
struct PassResult {
  std::int64_t found = 0;
  std::string last_found;  // "<table> row '<id>'" of the last value found
};

core::Result<PassResult> RunPass(Database& database, crypto::KeyRing& keys, bool first,
                                 RotationReport& report) {
  PassResult result;
  for (const SealedColumn& c : kSealedColumns) {
    std::string select = "SELECT " + std::string(c.id_column) + ", " + std::string(c.column)
                         + " FROM " + std::string(c.table) + " WHERE " + std::string(c.column)
                         + " IS NOT NULL";
    Params params;
    if (!first) {
      // Key ids are lower-case hex, so LIKE (case-blind on SQLite) matches only the active key.
      select += " AND " + std::string(c.column) + " NOT LIKE $1";
      params.emplace_back("kb1." + keys.ActiveKeyId() + ".%");
    }
    select += " ORDER BY " + std::string(c.id_column);
    KEYBRIDGE_ASSIGN_OR_RETURN(std::vector<Row> rows, database.Query(select, params));
    for (const Row& row : rows) {
      RowReader reader(row, c.table);
      std::string id = reader.Text(0);
      std::string sealed = reader.Text(1);
      KEYBRIDGE_RETURN_IF_ERROR(reader.status());
      ++result.found;
      result.last_found = std::string(c.table) + " row '" + id + "'";
      KEYBRIDGE_ASSIGN_OR_RETURN(Outcome outcome,
                                 ReencryptRow(database, keys, c, id, std::move(sealed)));
      if (outcome == Outcome::kReencrypted) {
        ++report.reencrypted;
      } else if (outcome == Outcome::kAlreadyCurrent && first) {
        ++report.already_current;
      }
    }
  }
  return result;
}

void SleepFor(std::chrono::nanoseconds remaining) {
  if (remaining > std::chrono::nanoseconds::zero()) {
    std::this_thread::sleep_for(remaining);
  }
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& part : parts) {
    out += out.empty() ? "" : ", ";
    out += part;
  }
  return out;
}

}  // namespace

core::Result<RotationReport> ReencryptSecrets(Database& database, crypto::KeyRing& keys,
                                              const ReencryptOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  RotationReport report;
  std::string last_found;
  for (int pass = 1; pass <= options.max_passes; ++pass) {
    if (pass == 2) {
      // A server that has not yet looked at the key file may still seal with the old key: the
      // pass that may end the rotation comes only after every server has looked.
      const auto remaining = std::max<std::chrono::nanoseconds>(
          options.settle - (std::chrono::steady_clock::now() - started),
          std::chrono::nanoseconds::zero());
      (options.wait_for_servers ? options.wait_for_servers : SleepFor)(remaining);
    }
    KEYBRIDGE_ASSIGN_OR_RETURN(const PassResult found, RunPass(database, keys, pass == 1, report));
    report.passes = pass;
    if (pass > 1 && found.found == 0) {
      Log()->info("re-encrypted {} secrets in {} passes; {} were already sealed with key {}",
                  report.reencrypted, report.passes, report.already_current, keys.ActiveKeyId());
      return report;
    }
    last_found = found.last_found;
  }
  return core::MakeError(core::ErrorCode::kUnavailable,
                         "values kept being written under an old key after "
                             + std::to_string(options.max_passes) + " passes (the last: "
                             + (last_found.empty() ? std::string("none") : last_found)
                             + "); check that every server reads the same key file, then run the "
                               "rotation again",
                         "re-encrypted " + std::to_string(report.reencrypted) + " values");
}

core::Result<RotationReport> ReencryptSecrets(Store& store, crypto::KeyRing& keys,
                                              const ReencryptOptions& options) {
  return ReencryptSecrets(*store.database, keys, options);
}

core::Result<std::vector<SealedCount>> CountSealedValues(Database& database) {
  std::vector<SealedCount> counts;
  for (const SealedColumn& c : kSealedColumns) {
    // "kb1." then 8 characters of key id: substr(…, 5, 8) in both SQLite and PostgreSQL.
    const std::string select = "SELECT substr(" + std::string(c.column) + ", 5, 8), COUNT(*) FROM "
                               + std::string(c.table) + " WHERE " + std::string(c.column)
                               + " LIKE 'kb1.%' GROUP BY substr(" + std::string(c.column)
                               + ", 5, 8)";
    KEYBRIDGE_ASSIGN_OR_RETURN(std::vector<Row> rows, database.Query(select, {}));
    for (const Row& row : rows) {
      RowReader reader(row, c.table);
      SealedCount count{reader.Text(0), std::string(c.table), std::string(c.column), reader.Int(1)};
      KEYBRIDGE_RETURN_IF_ERROR(reader.status());
      counts.push_back(std::move(count));
    }
  }
  std::sort(counts.begin(), counts.end(), [](const SealedCount& a, const SealedCount& b) {
    return std::tie(a.key_id, a.table, a.column) < std::tie(b.key_id, b.table, b.column);
  });
  return counts;
}

core::Status RetireKey(Database& database, crypto::KeyRing& keys, std::string_view key_id) {
  KEYBRIDGE_RETURN_IF_ERROR(keys.ReloadIfChanged());
  const std::vector<std::string> ids = keys.KeyIds();
  if (std::find(ids.begin(), ids.end(), key_id) == ids.end()) {
    return core::MakeError(core::ErrorCode::kNotFound,
                           "key " + std::string(key_id)
                               + " is not in the key file; `keybridge keys list` shows its keys");
  }
  if (ids.back() == key_id) {
    return core::MakeError(core::ErrorCode::kConflict,
                           "key " + std::string(key_id)
                               + " is the active key; run `keybridge keys rotate` to make a new "
                                 "key active and re-encrypt everything under it, then retire "
                               + std::string(key_id));
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(const std::vector<SealedCount> counts, CountSealedValues(database));
  std::int64_t total = 0;
  std::vector<std::string> where;
  for (const SealedCount& count : counts) {
    if (count.key_id == key_id) {
      total += count.values;
      where.push_back(std::to_string(count.values) + " in " + count.table + "." + count.column);
    }
  }
  if (total > 0) {
    return core::MakeError(core::ErrorCode::kConflict,
                           "key " + std::string(key_id) + " still seals " + std::to_string(total)
                               + " stored value" + (total == 1 ? "" : "s") + " (" + Join(where)
                               + "); run `keybridge keys rotate` to re-encrypt them, then retire "
                               + std::string(key_id) + " again");
  }
  // Retire() checks again, under the key file's lock, that the key is there and not active.
  return keys.Retire(key_id);
}

core::Status RetireKey(Store& store, crypto::KeyRing& keys, std::string_view key_id) {
  return RetireKey(*store.database, keys, key_id);
}

}  // namespace keybridge::storage
