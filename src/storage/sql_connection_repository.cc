#include "storage/sql_connection_repository.h"

#include <algorithm>
#include <functional>
#include <random>
#include <thread>
#include <utility>

#include "core/text.h"
#include "storage/sealed_columns.h"
#include "storage/token_codec.h"

namespace keybridge::storage {
namespace {

constexpr std::string_view kColumns =
    "id, user_id, provider_id, status, status_reason, token, token_version, creation_date, "
    "updated_at, ";  // followed by kConnectionBindingColumns

core::Error NotFound() {
  return core::MakeError(core::ErrorCode::kNotFound,
                         "Connection does not exist or you do not have access.");
}

SqlValue OptionalSeconds(const std::optional<core::TimePoint>& t) {
  return t ? SqlValue(core::ToUnixSeconds(*t)) : SqlValue();
}

std::string Select(std::string_view where) {
  return "SELECT " + std::string(kColumns) + std::string(kConnectionBindingColumns)
         + " FROM oauth2_connections " + std::string(where);
}

// ConnectionTokenBinding of the three kConnectionBindingColumns starting at `first`.
std::string BindingAt(RowReader& reader, std::size_t first) {
  const std::optional<std::string> kind = reader.OptionalText(first);
  const std::optional<std::string> url = reader.OptionalText(first + 1);
  const std::optional<std::string> issuer = reader.OptionalText(first + 2);
  return ConnectionTokenBinding(kind.value_or(""), url.value_or(""), issuer.value_or(""));
}

std::string RandomInstanceId() {
  // Not a secret: it only has to differ between replicas.
  std::random_device device;
  std::uniform_int_distribution<std::uint64_t> bits;
  const std::uint64_t value = bits(device);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int shift = 60; shift >= 0; shift -= 4) {
    out.push_back(kHex[(value >> shift) & 0xF]);
  }
  return out;
}

}  // namespace

SqlConnectionRepository::SqlConnectionRepository(Database& database, crypto::KeyRing& keys,
                                                 RefreshLeaseOptions lease)
    : database_(database),
      keys_(keys),
      lease_(std::move(lease)),
      instance_id_(RandomInstanceId()) {}

core::TimePoint SqlConnectionRepository::Now() const {
  return lease_.clock != nullptr ? lease_.clock->Now() : system_clock_.Now();
}

std::string SqlConnectionRepository::NewLeaseOwner() {
  return instance_id_ + "-" + std::to_string(next_attempt_.fetch_add(1));
}

core::Result<core::Connection> SqlConnectionRepository::FromRow(const Row& row) {
  RowReader reader(row, kConnectionToken.table);
  core::Connection c;
  c.id = core::ConnectionId(reader.Text(0));
  c.user_id = core::UserId(reader.Text(1));
  c.provider_id = core::ProviderId(reader.Text(2));
  const std::string status = reader.Text(3);
  c.status_reason = reader.Text(4);
  const std::optional<std::string> sealed = reader.OptionalText(5);
  c.token_version = reader.Int(6);
  c.created_at = core::FromUnixSeconds(reader.Int(7));
  c.updated_at = core::FromUnixSeconds(reader.Int(8));
  const std::string binding = BindingAt(reader, 9);
  KEYBRIDGE_RETURN_IF_ERROR(reader.status());
  KEYBRIDGE_ASSIGN_OR_RETURN(c.status, core::ParseConnectionStatus(status));
  if (sealed) {
    auto opened = keys_.Open(*sealed, ConnectionTokenAssociatedData(c.id.value(), binding));
    if (!opened.ok()) {
      // Written before token sets were bound to their provider's destination: the row-only
      // associated data opens it (nobody without the key can make such a ciphertext now), and
      // the next write or `keybridge keys rotate` seals it bound.
      opened = keys_.Open(*sealed, kConnectionToken.AssociatedData(c.id.value()));
    }
    if (!opened.ok()) {
      return core::MakeError(core::ErrorCode::kDecryptionFailed,
                             "Token decryption failed. Please reconnect the integration.",
                             "connection " + c.id.value() + ": " + opened.error().message);
    }
    KEYBRIDGE_ASSIGN_OR_RETURN(c.token, DecodeTokenSet(*opened));
  }
  return c;
}

core::Result<std::string> SqlConnectionRepository::SealToken(Database& db,
                                                             const core::ConnectionId& id,
                                                             const core::TokenSet& token) {
  KEYBRIDGE_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT " + std::string(kConnectionBindingColumns)
                                                     + " FROM oauth2_connections WHERE id = $1",
                                                 {id.value()}));
  if (rows.empty()) {
    return NotFound();
  }
  RowReader reader(rows.front(), kConnectionToken.table);
  const std::string binding = BindingAt(reader, 0);
  KEYBRIDGE_RETURN_IF_ERROR(reader.status());
  return keys_.Seal(EncodeTokenSet(token), ConnectionTokenAssociatedData(id.value(), binding));
}

core::Result<core::Connection> SqlConnectionRepository::FindIn(Database& db,
                                                               const core::ConnectionId& id) {
  KEYBRIDGE_ASSIGN_OR_RETURN(auto rows, db.Query(Select("WHERE id = $1"), {id.value()}));
  if (rows.empty()) {
    return NotFound();
  }
  return FromRow(rows.front());
}

core::Result<std::vector<core::Connection>> SqlConnectionRepository::ListForUser(
    const core::UserId& user_id) {
  KEYBRIDGE_ASSIGN_OR_RETURN(
      auto rows,
      database_.Query(Select("WHERE user_id = $1 ORDER BY provider_id"), {user_id.value()}));
  std::vector<core::Connection> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    KEYBRIDGE_ASSIGN_OR_RETURN(auto c, FromRow(row));
    out.push_back(std::move(c));
  }
  return out;
}

core::Result<core::Connection> SqlConnectionRepository::Find(const core::ConnectionId& id) {
  return FindIn(database_, id);
}

core::Result<core::Connection> SqlConnectionRepository::FindOrInsert(
    const core::Connection& candidate) {
  // ON CONFLICT DO NOTHING (SQLite >= 3.24, PostgreSQL): two concurrent authorize calls both
  // succeed and read the same row; the loser never gets a unique-violation error (a 500).
  KEYBRIDGE_ASSIGN_OR_RETURN(
      [[maybe_unused]] auto inserted,
      database_.Execute(
          "INSERT INTO oauth2_connections (id, user_id, provider_id, status, status_reason, token, "
          "token_version, expires_at, refresh_due_at, creation_date, updated_at) VALUES ($1, $2, "
          "$3, $4, '', NULL, 0, NULL, NULL, $5, $5) ON CONFLICT (user_id, provider_id) DO NOTHING",
          {candidate.id.value(), candidate.user_id.value(), candidate.provider_id.value(),
           std::string(core::ToString(candidate.status)),
           core::ToUnixSeconds(candidate.created_at)}));
  KEYBRIDGE_ASSIGN_OR_RETURN(
      auto rows, database_.Query(Select("WHERE user_id = $1 AND provider_id = $2"),
                                 {candidate.user_id.value(), candidate.provider_id.value()}));
  if (rows.empty()) {
    return NotFound();  // deleted between the two statements
  }
  return FromRow(rows.front());
}

core::Result<std::int64_t> SqlConnectionRepository::Persist(Database& db,
                                                            const core::Connection& current,
                                                            const core::RefreshOutcome& outcome,
                                                            const std::string& owner) {
  // Every write is a compare-and-set on token_version AND the lease owner: a holder whose lease
  // expired (and was taken over) cannot overwrite what the next holder stored.
  if (const auto* fresh = std::get_if<core::RefreshNewToken>(&outcome)) {
    KEYBRIDGE_ASSIGN_OR_RETURN(std::string sealed, SealToken(db, current.id, fresh->token));
    return db.Execute(
        "UPDATE oauth2_connections SET status = 'connected', status_reason = '', token = $3, "
        "token_version = token_version + 1, expires_at = $4, refresh_due_at = $5, updated_at = $6, "
        "refresh_lease_owner = NULL, refresh_lease_until = NULL "
        "WHERE id = $1 AND token_version = $2 AND refresh_lease_owner = $7",
        {current.id.value(), current.token_version, std::move(sealed),
         OptionalSeconds(fresh->token.expires_at),
         OptionalSeconds(core::RefreshDueAt(fresh->token)),
         std::max(core::ToUnixSeconds(fresh->token.obtained_at),
                  core::ToUnixSeconds(current.updated_at)),
         owner});
  }
  if (const auto* invalid = std::get_if<core::RefreshMarkInvalid>(&outcome)) {
    return db.Execute(
        "UPDATE oauth2_connections SET status = 'invalid_credentials', status_reason = $3, "
        "token_version = token_version + 1, refresh_due_at = NULL, "
        "refresh_lease_owner = NULL, refresh_lease_until = NULL "
        "WHERE id = $1 AND token_version = $2 AND refresh_lease_owner = $4",
        {current.id.value(), current.token_version, core::TruncateUtf8(invalid->reason, 500),
         owner});
  }
  if (const auto* note = std::get_if<core::RefreshNoteReason>(&outcome)) {
    // The token stays as it is (no version change): only the reason support reads is updated.
    return db.Execute(
        "UPDATE oauth2_connections SET status_reason = $3, refresh_lease_owner = NULL, "
        "refresh_lease_until = NULL "
        "WHERE id = $1 AND token_version = $2 AND refresh_lease_owner = $4",
        {current.id.value(), current.token_version, core::TruncateUtf8(note->reason, 500), owner});
  }
  return std::int64_t{1};
}

core::Result<core::Connection> SqlConnectionRepository::StoreToken(const core::ConnectionId& id,
                                                                   const core::TokenSet& token,
                                                                   core::TimePoint now) {
  KEYBRIDGE_ASSIGN_OR_RETURN(std::string sealed, SealToken(database_, id, token));
  KEYBRIDGE_ASSIGN_OR_RETURN(
      auto affected,
      database_.Execute(
          "UPDATE oauth2_connections SET status = 'connected', status_reason = '', token = $2, "
          "token_version = token_version + 1, expires_at = $3, refresh_due_at = $4, "
          "updated_at = $5 WHERE id = $1",
          {id.value(), std::move(sealed), OptionalSeconds(token.expires_at),
           OptionalSeconds(core::RefreshDueAt(token)), core::ToUnixSeconds(now)}));
  if (affected == 0) {
    return NotFound();
  }
  return Find(id);
}

core::Status SqlConnectionRepository::TakeLease(const core::ConnectionId& id,
                                                const std::string& owner) {
  std::chrono::milliseconds poll = lease_.first_poll;
  std::chrono::milliseconds waited{0};
  for (;;) {
    const core::TimePoint now = Now();
    // One statement, so one short transaction: taken only if nobody holds an unexpired lease.
    KEYBRIDGE_ASSIGN_OR_RETURN(
        auto taken,
        database_.Execute(
            "UPDATE oauth2_connections SET refresh_lease_owner = $2, refresh_lease_until = $3 "
            "WHERE id = $1 AND (refresh_lease_until IS NULL OR refresh_lease_until <= $4)",
            {id.value(), owner, core::ToUnixSeconds(now + lease_.lease_length),
             core::ToUnixSeconds(now)}));
    if (taken == 1) {
      return core::OkStatus();
    }
    KEYBRIDGE_ASSIGN_OR_RETURN(
        auto rows,
        database_.Query("SELECT refresh_lease_until FROM oauth2_connections WHERE id = $1",
                        {id.value()}));
    if (rows.empty()) {
      return NotFound();
    }
    RowReader reader(rows.front(), kConnectionToken.table);
    const std::optional<std::int64_t> until = reader.OptionalInt(0);
    KEYBRIDGE_RETURN_IF_ERROR(reader.status());
    if (!until) {
      continue;  // released between the two statements: try again at once
    }
    if (waited >= lease_.max_wait) {
      const auto left = std::max<std::int64_t>(1, *until - core::ToUnixSeconds(now));
      return core::MakeError(core::ErrorCode::kUnavailable,
                             "Another refresh of this connection is in progress; retry shortly.",
                             "retry_after=" + std::to_string(left))
          .WithRetryAfter(std::chrono::seconds(left));
    }
    // Wait for the holder without a connection, never past its lease's expiry (then it is ours
    // to take, whatever happened to the holder).
    const auto to_expiry =
        std::chrono::duration_cast<std::chrono::milliseconds>(core::FromUnixSeconds(*until) - now);
    const auto wait = std::clamp(to_expiry, std::chrono::milliseconds(1), poll);
    if (lease_.sleep) {
      lease_.sleep(wait);
    } else {
      std::this_thread::sleep_for(wait);
    }
    waited += wait;
    poll = std::min(poll * 2, lease_.max_poll);
  }
}

void SqlConnectionRepository::ReleaseLease(const core::ConnectionId& id, const std::string& owner) {
  // A failure leaves the lease to expire on its own: slower, never wrong.
  static_cast<void>(database_.Execute(
      "UPDATE oauth2_connections SET refresh_lease_owner = NULL, refresh_lease_until = NULL "
      "WHERE id = $1 AND refresh_lease_owner = $2",
      {id.value(), owner}));
}

core::Result<core::Connection> SqlConnectionRepository::WithRefreshLock(
    const core::ConnectionId& id,
    const std::function<core::Result<core::RefreshOutcome>(const core::Connection&)>& refresh) {
  // A lease instead of a row lock: the provider call (seconds, when the provider is slow) runs
  // while this process holds no database connection and no transaction, so a slow provider can
  // neither use up the pool nor make readers queue behind a lock. A second replica waits for the
  // lease by polling, then re-reads the row and sees the winner's token; a killed replica's lease
  // expires after lease_length.
  const std::string owner = NewLeaseOwner();
  KEYBRIDGE_RETURN_IF_ERROR(TakeLease(id, owner));
  struct Release {
    SqlConnectionRepository* self;
    const core::ConnectionId& id;
    const std::string& owner;
    bool done = false;
    ~Release() {
      if (!done) {
        self->ReleaseLease(id, owner);  // also when `refresh` throws
      }
    }
  } release{this, id, owner};
  // Re-read AFTER the lease was taken: a waiter sees the token another replica just stored.
  KEYBRIDGE_ASSIGN_OR_RETURN(core::Connection current, Find(id));
  KEYBRIDGE_ASSIGN_OR_RETURN(core::RefreshOutcome outcome, refresh(current));
  if (std::holds_alternative<core::RefreshNoChange>(outcome)) {
    return current;  // the lease is released on the way out
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(auto affected, Persist(database_, current, outcome, owner));
  release.done = affected == 1;
  // affected == 0: our lease expired and someone else wrote meanwhile; return what is stored.
  return Find(id);
}

core::Result<std::optional<core::Connection>> SqlConnectionRepository::Delete(
    const core::ConnectionId& id) {
  // Read, then delete only that version: a refresh that stored a new token set in between moves
  // token_version, and the next attempt reads (and returns, to be revoked) that one.
  constexpr int kMaxAttempts = 5;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    KEYBRIDGE_ASSIGN_OR_RETURN(auto rows, database_.Query(Select("WHERE id = $1"), {id.value()}));
    if (rows.empty()) {
      return std::optional<core::Connection>();
    }
    RowReader reader(rows.front(), kConnectionToken.table);
    const std::int64_t version = reader.Int(6);
    KEYBRIDGE_RETURN_IF_ERROR(reader.status());
    auto connection = FromRow(rows.front());
    if (!connection.ok()) {
      // A token set that cannot be opened cannot be revoked; the row goes all the same.
      core::Connection bare;
      bare.id = id;
      connection = std::move(bare);
    }
    KEYBRIDGE_ASSIGN_OR_RETURN(
        auto affected,
        database_.Execute("DELETE FROM oauth2_connections WHERE id = $1 AND token_version = $2",
                          {id.value(), version}));
    if (affected > 0) {
      return std::optional<core::Connection>(*std::move(connection));
    }
  }
  return core::MakeError(core::ErrorCode::kUnavailable,
                         "The connection kept changing while it was being removed; try again.");
}

core::Result<std::vector<core::ConnectionId>> SqlConnectionRepository::ClaimDueRefreshes(
    core::TimePoint now, core::Seconds claim_for, std::size_t limit) {
  std::vector<core::ConnectionId> claimed;
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
        claimed.emplace_back(id);
      }
    }
    return core::OkStatus();
  }));
  return claimed;
}

core::Result<std::int64_t> SqlConnectionRepository::CountForProvider(
    const core::ProviderId& provider_id) {
  KEYBRIDGE_ASSIGN_OR_RETURN(
      auto rows, database_.Query("SELECT COUNT(*) FROM oauth2_connections WHERE provider_id = $1",
                                 {provider_id.value()}));
  RowReader reader(rows.at(0), kConnectionToken.table);
  const std::int64_t count = reader.Int(0);
  KEYBRIDGE_RETURN_IF_ERROR(reader.status());
  return count;
}

core::Result<std::vector<core::Connection>> SqlConnectionRepository::InvalidateForProvider(
    const core::ProviderId& provider_id, const std::string& reason, core::TimePoint now) {
  constexpr std::string_view kAffected =
      "WHERE provider_id = $1 AND (token IS NOT NULL OR status <> 'pending')";
  std::vector<core::Connection> before;
  KEYBRIDGE_RETURN_IF_ERROR(database_.Transaction([&](Database& tx) -> core::Status {
    before.clear();  // a retried transaction starts over
    KEYBRIDGE_ASSIGN_OR_RETURN(auto rows, tx.Query(Select(std::string(kAffected) + " ORDER BY id"),
                                                   {provider_id.value()}));
    for (const auto& row : rows) {
      auto c = FromRow(row);
      if (c.ok()) {
        before.push_back(*std::move(c));
        continue;
      }
      // A token set that cannot be opened cannot be revoked either; the row is still invalidated.
      RowReader reader(row, kConnectionToken.table);
      core::Connection bare;
      bare.id = core::ConnectionId(reader.Text(0));
      bare.user_id = core::UserId(reader.Text(1));
      bare.provider_id = provider_id;
      KEYBRIDGE_RETURN_IF_ERROR(reader.status());
      before.push_back(std::move(bare));
    }
    KEYBRIDGE_ASSIGN_OR_RETURN(
        [[maybe_unused]] auto updated,
        tx.Execute(
            "UPDATE oauth2_connections SET status = 'invalid_credentials', "
            "status_reason = $2, token = NULL, token_version = token_version + 1, "
            "expires_at = NULL, refresh_due_at = NULL, refresh_lease_owner = NULL, "
            "refresh_lease_until = NULL, updated_at = $3 "
                + std::string(kAffected),
            {provider_id.value(), core::TruncateUtf8(reason, 500), core::ToUnixSeconds(now)}));
    KEYBRIDGE_ASSIGN_OR_RETURN(
        [[maybe_unused]] auto flows,
        tx.Execute("DELETE FROM oauth2_flows WHERE provider_id = $1", {provider_id.value()}));
    return core::OkStatus();
  }));
  return before;
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
          "INSERT INTO oauth2_flows (state_hash, user_id, provider_id, connection_id, "
          "code_verifier, next_url, browser_binding_hash, creation_date, expires_at) VALUES ($1, "
          "$2, $3, $4, $5, $6, $7, $8, $9)",
          {flow.state_hash, flow.user_id.value(), flow.provider_id.value(),
           flow.connection_id.value(), std::move(verifier), flow.next_url,
           flow.browser_binding_hash, core::ToUnixSeconds(flow.created_at),
           core::ToUnixSeconds(flow.expires_at)}));
  return core::OkStatus();
}

core::Result<core::AuthorizationFlow> SqlAuthorizationFlowRepository::Take(
    const std::string& state_hash) {
  // DELETE ... RETURNING (SQLite >= 3.35, PostgreSQL) makes the single use atomic.
  KEYBRIDGE_ASSIGN_OR_RETURN(
      auto rows,
      database_.Query("DELETE FROM oauth2_flows WHERE state_hash = $1 RETURNING state_hash, "
                      "user_id, provider_id, connection_id, code_verifier, next_url, "
                      "browser_binding_hash, creation_date, expires_at",
                      {state_hash}));
  if (rows.empty()) {
    return core::MakeError(core::ErrorCode::kNotFound, "unknown or used authorization state");
  }
  RowReader reader(rows.front(), kFlowCodeVerifier.table);
  core::AuthorizationFlow flow;
  flow.state_hash = reader.Text(0);
  flow.user_id = core::UserId(reader.Text(1));
  flow.provider_id = core::ProviderId(reader.Text(2));
  flow.connection_id = core::ConnectionId(reader.Text(3));
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
