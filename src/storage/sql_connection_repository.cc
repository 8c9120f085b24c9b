#include "storage/sql_connection_repository.h"

#include <functional>
#include <utility>

#include "core/text.h"
#include "storage/sealed_columns.h"
#include "storage/token_codec.h"

namespace keybridge::storage {
namespace {

constexpr std::string_view kColumns =
    "id, user_id, client_id, status, status_reason, token, token_version, creation_date, "
    "updated_at";

core::Error NotFound() {
  return core::MakeError(core::ErrorCode::kNotFound,
                         "Connection does not exist or you do not have access.");
}

SqlValue OptionalSeconds(const std::optional<core::TimePoint>& t) {
  return t ? SqlValue(core::ToUnixSeconds(*t)) : SqlValue();
}

std::string Select(std::string_view where) {
  return "SELECT " + std::string(kColumns) + " FROM oauth2_connections " + std::string(where);
}

}  // namespace

std::mutex& SqlConnectionRepository::ProcessLockFor(const std::string& id) {
  return process_locks_[std::hash<std::string>{}(id) % process_locks_.size()];
}

core::Result<core::Connection> SqlConnectionRepository::FromRow(const Row& row) {
  RowReader reader(row, kConnectionToken.table);
  core::Connection c;
  c.id = reader.Text(0);
  c.user_id = reader.Text(1);
  c.provider_id = reader.Text(2);
  const std::string status = reader.Text(3);
  c.status_reason = reader.Text(4);
  const std::optional<std::string> sealed = reader.OptionalText(5);
  c.token_version = reader.Int(6);
  c.created_at = core::FromUnixSeconds(reader.Int(7));
  c.updated_at = core::FromUnixSeconds(reader.Int(8));
  KEYBRIDGE_RETURN_IF_ERROR(reader.status());
  KEYBRIDGE_ASSIGN_OR_RETURN(c.status, core::ParseConnectionStatus(status));
  if (sealed) {
    auto opened = keys_.Open(*sealed, kConnectionToken.AssociatedData(c.id));
    if (!opened.ok()) {
      return core::MakeError(core::ErrorCode::kDecryptionFailed,
                             "Token decryption failed. Please reconnect the integration.",
                             "connection " + c.id + ": " + opened.error().message);
    }
    KEYBRIDGE_ASSIGN_OR_RETURN(c.token, DecodeTokenSet(*opened));
  }
  return c;
}

core::Result<core::Connection> SqlConnectionRepository::FindIn(Database& db, const std::string& id,
                                                               bool for_update) {
  std::string sql = Select("WHERE id = $1");
  if (for_update && db.dialect() == Dialect::kPostgres) {
    sql += " FOR UPDATE";
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(auto rows, db.Query(sql, {id}));
  if (rows.empty()) {
    return NotFound();
  }
  return FromRow(rows.front());
}

core::Result<std::vector<core::Connection>> SqlConnectionRepository::ListForUser(
    const std::string& user_id) {
  KEYBRIDGE_ASSIGN_OR_RETURN(
      auto rows, database_.Query(Select("WHERE user_id = $1 ORDER BY client_id"), {user_id}));
  std::vector<core::Connection> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    KEYBRIDGE_ASSIGN_OR_RETURN(auto c, FromRow(row));
    out.push_back(std::move(c));
  }
  return out;
}

core::Result<core::Connection> SqlConnectionRepository::Find(const std::string& id) {
  return FindIn(database_, id, false);
}

core::Result<core::Connection> SqlConnectionRepository::FindOrInsert(
    const core::Connection& candidate) {
  // ON CONFLICT DO NOTHING (SQLite >= 3.24, PostgreSQL): two concurrent authorize calls both
  // succeed and read the same row; the loser never gets a unique-violation error (a 500).
  KEYBRIDGE_ASSIGN_OR_RETURN(
      [[maybe_unused]] auto inserted,
      database_.Execute(
          "INSERT INTO oauth2_connections (id, user_id, client_id, status, status_reason, token, "
          "token_version, expires_at, refresh_due_at, creation_date, updated_at) VALUES ($1, $2, "
          "$3, $4, '', NULL, 0, NULL, NULL, $5, $5) ON CONFLICT (user_id, client_id) DO NOTHING",
          {candidate.id, candidate.user_id, candidate.provider_id,
           std::string(core::ToString(candidate.status)),
           core::ToUnixSeconds(candidate.created_at)}));
  KEYBRIDGE_ASSIGN_OR_RETURN(auto rows,
                             database_.Query(Select("WHERE user_id = $1 AND client_id = $2"),
                                             {candidate.user_id, candidate.provider_id}));
  if (rows.empty()) {
    return NotFound();  // deleted between the two statements
  }
  return FromRow(rows.front());
}

core::Result<std::int64_t> SqlConnectionRepository::Persist(Database& db,
                                                            const core::Connection& current,
                                                            const core::RefreshOutcome& outcome) {
  if (const auto* fresh = std::get_if<core::RefreshNewToken>(&outcome)) {
    KEYBRIDGE_ASSIGN_OR_RETURN(
        std::string sealed,
        keys_.Seal(EncodeTokenSet(fresh->token), kConnectionToken.AssociatedData(current.id)));
    return db.Execute(
        "UPDATE oauth2_connections SET status = 'connected', status_reason = '', token = $3, "
        "token_version = token_version + 1, expires_at = $4, refresh_due_at = $5, updated_at = $6 "
        "WHERE id = $1 AND token_version = $2",
        {current.id, current.token_version, std::move(sealed),
         OptionalSeconds(fresh->token.expires_at),
         OptionalSeconds(core::RefreshDueAt(fresh->token)),
         std::max(core::ToUnixSeconds(fresh->token.obtained_at),
                  core::ToUnixSeconds(current.updated_at))});
  }
  if (const auto* invalid = std::get_if<core::RefreshMarkInvalid>(&outcome)) {
    return db.Execute(
        "UPDATE oauth2_connections SET status = 'invalid_credentials', status_reason = $3, "
        "token_version = token_version + 1, refresh_due_at = NULL "
        "WHERE id = $1 AND token_version = $2",
        {current.id, current.token_version, core::TruncateUtf8(invalid->reason, 500)});
  }
  return std::int64_t{1};
}

core::Result<core::Connection> SqlConnectionRepository::StoreToken(const std::string& id,
                                                                   const core::TokenSet& token,
                                                                   core::TimePoint now) {
  KEYBRIDGE_ASSIGN_OR_RETURN(
      std::string sealed, keys_.Seal(EncodeTokenSet(token), kConnectionToken.AssociatedData(id)));
  KEYBRIDGE_ASSIGN_OR_RETURN(
      auto affected,
      database_.Execute(
          "UPDATE oauth2_connections SET status = 'connected', status_reason = '', token = $2, "
          "token_version = token_version + 1, expires_at = $3, refresh_due_at = $4, "
          "updated_at = $5 WHERE id = $1",
          {id, std::move(sealed), OptionalSeconds(token.expires_at),
           OptionalSeconds(core::RefreshDueAt(token)), core::ToUnixSeconds(now)}));
  if (affected == 0) {
    return NotFound();
  }
  return Find(id);
}

core::Result<core::Connection> SqlConnectionRepository::WithRefreshLock(
    const std::string& id,
    const std::function<core::Result<core::RefreshOutcome>(const core::Connection&)>& refresh) {
  if (database_.dialect() == Dialect::kPostgres) {
    // The row lock is held for the whole provider call: a second replica blocks here and then
    // re-reads the row the winner committed. If this process dies, PostgreSQL drops the session
    // and the lock with it, so a crash mid-refresh never wedges the connection.
    std::optional<core::Connection> stored;
    KEYBRIDGE_RETURN_IF_ERROR(database_.Transaction([&](Database& tx) -> core::Status {
      KEYBRIDGE_ASSIGN_OR_RETURN(core::Connection current, FindIn(tx, id, /*for_update=*/true));
      KEYBRIDGE_ASSIGN_OR_RETURN(core::RefreshOutcome outcome, refresh(current));
      KEYBRIDGE_ASSIGN_OR_RETURN([[maybe_unused]] auto affected, Persist(tx, current, outcome));
      KEYBRIDGE_ASSIGN_OR_RETURN(stored, FindIn(tx, id, false));
      return core::OkStatus();
    }));
    return *stored;
  }
  std::lock_guard lock(ProcessLockFor(id));
  KEYBRIDGE_ASSIGN_OR_RETURN(core::Connection current, Find(id));
  KEYBRIDGE_ASSIGN_OR_RETURN(core::RefreshOutcome outcome, refresh(current));
  KEYBRIDGE_ASSIGN_OR_RETURN([[maybe_unused]] auto affected, Persist(database_, current, outcome));
  // affected == 0: another process wrote a newer version meanwhile; return what is stored.
  return Find(id);
}

core::Result<bool> SqlConnectionRepository::Delete(const std::string& id) {
  KEYBRIDGE_ASSIGN_OR_RETURN(
      auto affected, database_.Execute("DELETE FROM oauth2_connections WHERE id = $1", {id}));
  return affected > 0;
}

core::Result<std::vector<std::string>> SqlConnectionRepository::ClaimDueRefreshes(
    core::TimePoint now, core::Seconds claim_for, std::size_t limit) {
  std::vector<std::string> claimed;
  KEYBRIDGE_RETURN_IF_ERROR(database_.Transaction([&](Database& tx) -> core::Status {
    KEYBRIDGE_ASSIGN_OR_RETURN(
        auto rows,
        tx.Query("SELECT id, refresh_due_at FROM oauth2_connections WHERE status = 'connected' "
                 "AND refresh_due_at IS NOT NULL AND refresh_due_at <= $1 "
                 "ORDER BY refresh_due_at, id LIMIT $2",
                 {core::ToUnixSeconds(now), static_cast<std::int64_t>(limit)}));
    for (const auto& row : rows) {
      RowReader reader(row, kConnectionToken.table);
      const std::string id = reader.Text(0);
      const std::int64_t due = reader.Int(1);
      KEYBRIDGE_RETURN_IF_ERROR(reader.status());
      // Compare-and-set: of two replicas claiming the same row, exactly one wins.
      KEYBRIDGE_ASSIGN_OR_RETURN(
          auto affected,
          tx.Execute("UPDATE oauth2_connections SET refresh_due_at = $3 WHERE id = $1 AND "
                     "refresh_due_at = $2",
                     {id, due, core::ToUnixSeconds(now + claim_for)}));
      if (affected == 1) {
        claimed.push_back(id);
      }
    }
    return core::OkStatus();
  }));
  return claimed;
}

core::Result<std::int64_t> SqlConnectionRepository::CountForProvider(
    const std::string& provider_id) {
  KEYBRIDGE_ASSIGN_OR_RETURN(
      auto rows, database_.Query("SELECT COUNT(*) FROM oauth2_connections WHERE client_id = $1",
                                 {provider_id}));
  RowReader reader(rows.at(0), kConnectionToken.table);
  const std::int64_t count = reader.Int(0);
  KEYBRIDGE_RETURN_IF_ERROR(reader.status());
  return count;
}

core::Status SqlAuthorizationFlowRepository::Insert(const core::AuthorizationFlow& flow) {
  SqlValue verifier;
  if (flow.code_verifier) {
    KEYBRIDGE_ASSIGN_OR_RETURN(verifier,
                               keys_.Seal(flow.code_verifier->Reveal(),
                                          kFlowCodeVerifier.AssociatedData(flow.state_hash)));
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(
      [[maybe_unused]] auto affected,
      database_.Execute(
          "INSERT INTO oauth2_flows (state_hash, user_id, client_id, connection_id, "
          "code_verifier, next_url, browser_binding_hash, creation_date, expires_at) VALUES ($1, "
          "$2, $3, $4, $5, $6, $7, $8, $9)",
          {flow.state_hash, flow.user_id, flow.provider_id, flow.connection_id, std::move(verifier),
           flow.next_url, flow.browser_binding_hash, core::ToUnixSeconds(flow.created_at),
           core::ToUnixSeconds(flow.expires_at)}));
  return core::OkStatus();
}

core::Result<core::AuthorizationFlow> SqlAuthorizationFlowRepository::Take(
    const std::string& state_hash) {
  // DELETE ... RETURNING (SQLite >= 3.35, PostgreSQL) makes the single use atomic.
  KEYBRIDGE_ASSIGN_OR_RETURN(
      auto rows,
      database_.Query("DELETE FROM oauth2_flows WHERE state_hash = $1 RETURNING state_hash, "
                      "user_id, client_id, connection_id, code_verifier, next_url, "
                      "browser_binding_hash, creation_date, expires_at",
                      {state_hash}));
  if (rows.empty()) {
    return core::MakeError(core::ErrorCode::kNotFound, "unknown or used authorization state");
  }
  RowReader reader(rows.front(), kFlowCodeVerifier.table);
  core::AuthorizationFlow flow;
  flow.state_hash = reader.Text(0);
  flow.user_id = reader.Text(1);
  flow.provider_id = reader.Text(2);
  flow.connection_id = reader.Text(3);
  const std::optional<std::string> sealed = reader.OptionalText(4);
  flow.next_url = reader.Text(5);
  flow.browser_binding_hash = reader.Text(6);
  flow.created_at = core::FromUnixSeconds(reader.Int(7));
  flow.expires_at = core::FromUnixSeconds(reader.Int(8));
  KEYBRIDGE_RETURN_IF_ERROR(reader.status());
  if (sealed) {
    KEYBRIDGE_ASSIGN_OR_RETURN(std::string verifier,
                               keys_.Open(*sealed, kFlowCodeVerifier.AssociatedData(state_hash)));
    flow.code_verifier = core::Secret(std::move(verifier));
  }
  return flow;
}

core::Result<std::int64_t> SqlAuthorizationFlowRepository::DeleteExpired(core::TimePoint now) {
  return database_.Execute("DELETE FROM oauth2_flows WHERE expires_at <= $1",
                           {core::ToUnixSeconds(now)});
}

}  // namespace keybridge::storage
