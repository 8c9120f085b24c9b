#include "storage/sql_browser_session_repository.h"

#include <utility>

namespace keybridge::storage {
namespace {

core::Status WithConflictMessage(core::Result<std::int64_t> inserted, std::string message) {
  if (!inserted.ok()) {
    core::Error error = std::move(inserted).TakeError();
    if (error.code == core::ErrorCode::kConflict) {
      error.message = std::move(message);
    }
    return error;
  }
  return core::OkStatus();
}

}  // namespace

core::Status SqlBrowserSessionRepository::Insert(const core::BrowserSession& session) {
  return database_.Transaction([&session](Database& tx) -> core::Status {
    KEYBRIDGE_RETURN_IF_ERROR(WithConflictMessage(
        tx.Execute(
            "INSERT INTO browser_sessions (id_hash, user_id, name, is_admin, created_at, "
            "last_seen_at, expires_at, source_token_hash, identity_recheck_at) VALUES ($1, $2, "
            "$3, $4, $5, $6, $7, $8, $9)",
            {session.id_hash, session.user_id.value(), session.name,
             std::int64_t{session.is_admin ? 1 : 0}, core::ToUnixSeconds(session.created_at),
             core::ToUnixSeconds(session.last_seen_at), core::ToUnixSeconds(session.expires_at),
             session.source_token_hash.empty() ? SqlValue() : SqlValue(session.source_token_hash),
             session.identity_recheck_at
                 ? SqlValue(core::ToUnixSeconds(*session.identity_recheck_at))
                 : SqlValue()}),
        "A browser session with the same id already exists."));
    if (session.is_admin) {
      KEYBRIDGE_ASSIGN_OR_RETURN(
          [[maybe_unused]] std::int64_t recorded,
          tx.Execute("INSERT INTO instance_facts (name, at) VALUES ('admin_signed_in', $1) "
                     "ON CONFLICT (name) DO NOTHING",
                     {core::ToUnixSeconds(session.created_at)}));
    }
    return core::OkStatus();
  });
}

core::Result<core::BrowserSession> SqlBrowserSessionRepository::FindByHash(
    const std::string& id_hash) {
  KEYBRIDGE_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      database_.Query("SELECT id_hash, user_id, name, is_admin, created_at, last_seen_at, "
                      "expires_at, source_token_hash, identity_recheck_at FROM browser_sessions "
                      "WHERE id_hash = $1",
                      {id_hash}));
  if (rows.empty()) {
    return core::MakeError(core::ErrorCode::kNotFound, "Unknown browser session.");
  }
  RowReader reader(rows.front(), "browser_sessions");
  core::BrowserSession session;
  session.id_hash = reader.Text(0);
  session.user_id = core::UserId(reader.Text(1));
  session.name = reader.Text(2);
  session.is_admin = reader.Bool(3);
  session.created_at = core::FromUnixSeconds(reader.Int(4));
  session.last_seen_at = core::FromUnixSeconds(reader.Int(5));
  session.expires_at = core::FromUnixSeconds(reader.Int(6));
  session.source_token_hash = reader.OptionalText(7).value_or("");
  if (const std::optional<std::int64_t> recheck_at = reader.OptionalInt(8)) {
    session.identity_recheck_at = core::FromUnixSeconds(*recheck_at);
  }
  KEYBRIDGE_RETURN_IF_ERROR(reader.status());
  return session;
}

core::Status SqlBrowserSessionRepository::Touch(const std::string& id_hash,
                                                core::TimePoint last_seen_at) {
  KEYBRIDGE_ASSIGN_OR_RETURN(
      std::int64_t ignored,
      database_.Execute("UPDATE browser_sessions SET last_seen_at = $2 WHERE id_hash = $1",
                        {id_hash, core::ToUnixSeconds(last_seen_at)}));
  static_cast<void>(ignored);
  return core::OkStatus();
}

core::Result<bool> SqlBrowserSessionRepository::Delete(const std::string& id_hash) {
  KEYBRIDGE_ASSIGN_OR_RETURN(
      std::int64_t deleted,
      database_.Execute("DELETE FROM browser_sessions WHERE id_hash = $1", {id_hash}));
  return deleted > 0;
}

core::Result<std::int64_t> SqlBrowserSessionRepository::DeleteForUser(const core::UserId& user_id) {
  return database_.Execute("DELETE FROM browser_sessions WHERE user_id = $1", {user_id.value()});
}

core::Result<std::int64_t> SqlBrowserSessionRepository::DeleteExpired(core::TimePoint now) {
  const std::int64_t t = core::ToUnixSeconds(now);
  std::int64_t total = 0;
  for (const char* table : {"browser_sessions", "admin_sign_in_links", "browser_login_flows"}) {
    KEYBRIDGE_ASSIGN_OR_RETURN(
        std::int64_t deleted,
        database_.Execute(std::string("DELETE FROM ") + table + " WHERE expires_at < $1", {t}));
    total += deleted;
  }
  return total;
}

core::Result<bool> SqlBrowserSessionRepository::AdminEverSignedIn() {
  KEYBRIDGE_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      database_.Query("SELECT at FROM instance_facts WHERE name = 'admin_signed_in'", {}));
  return !rows.empty();
}

core::Status SqlBrowserSessionRepository::InsertSignInLink(const std::string& token_hash,
                                                           core::TimePoint created_at,
                                                           core::TimePoint expires_at) {
  return WithConflictMessage(
      database_.Execute(
          "INSERT INTO admin_sign_in_links (token_hash, created_at, expires_at) VALUES ($1, $2, "
          "$3)",
          {token_hash, core::ToUnixSeconds(created_at), core::ToUnixSeconds(expires_at)}),
      "A sign-in link with the same hash already exists.");
}

core::Result<core::TimePoint> SqlBrowserSessionRepository::TakeSignInLink(
    const std::string& token_hash) {
  // DELETE ... RETURNING (SQLite >= 3.35, PostgreSQL) makes the single use atomic.
  KEYBRIDGE_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      database_.Query("DELETE FROM admin_sign_in_links WHERE token_hash = $1 RETURNING expires_at",
                      {token_hash}));
  if (rows.empty()) {
    return core::MakeError(core::ErrorCode::kNotFound, "unknown or used sign-in link");
  }
  RowReader reader(rows.front(), "admin_sign_in_links");
  const std::int64_t expires_at = reader.Int(0);
  KEYBRIDGE_RETURN_IF_ERROR(reader.status());
  return core::FromUnixSeconds(expires_at);
}

core::Status SqlBrowserSessionRepository::InsertLoginFlow(const core::BrowserLoginFlow& flow,
                                                          std::size_t max_pending) {
  return database_.Transaction([&flow, max_pending](Database& tx) -> core::Status {
    KEYBRIDGE_RETURN_IF_ERROR(WithConflictMessage(
        tx.Execute("INSERT INTO browser_login_flows (state_hash, browser_binding_hash, "
                   "next_path, expires_at) VALUES ($1, $2, $3, $4)",
                   {flow.state_hash, flow.browser_binding_hash, flow.next_path,
                    core::ToUnixSeconds(flow.expires_at)}),
        "A sign-in flow with the same state already exists."));
    // Flows all live equally long, so those that expire first are the oldest. Everything past the
    // newest `max_pending` goes (a row-value comparison: ties on the second are ordered by hash).
    KEYBRIDGE_ASSIGN_OR_RETURN(
        [[maybe_unused]] std::int64_t dropped,
        tx.Execute("DELETE FROM browser_login_flows WHERE (expires_at, state_hash) <= (SELECT "
                   "expires_at, state_hash FROM browser_login_flows ORDER BY expires_at DESC, "
                   "state_hash DESC LIMIT 1 OFFSET $1)",
                   {static_cast<std::int64_t>(max_pending)}));
    return core::OkStatus();
  });
}

core::Result<core::BrowserLoginFlow> SqlBrowserSessionRepository::TakeLoginFlow(
    const std::string& state_hash) {
  KEYBRIDGE_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      database_.Query("DELETE FROM browser_login_flows WHERE state_hash = $1 RETURNING "
                      "state_hash, browser_binding_hash, next_path, expires_at",
                      {state_hash}));
  if (rows.empty()) {
    return core::MakeError(core::ErrorCode::kNotFound, "unknown or used sign-in state");
  }
  RowReader reader(rows.front(), "browser_login_flows");
  core::BrowserLoginFlow flow;
  flow.state_hash = reader.Text(0);
  flow.browser_binding_hash = reader.Text(1);
  flow.next_path = reader.Text(2);
  flow.expires_at = core::FromUnixSeconds(reader.Int(3));
  KEYBRIDGE_RETURN_IF_ERROR(reader.status());
  return flow;
}

}  // namespace keybridge::storage
