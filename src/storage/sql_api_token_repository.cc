#include "storage/sql_api_token_repository.h"

#include <utility>

namespace keybridge::storage {
namespace {

constexpr std::string_view kSelect =
    "SELECT id, user_id, name, is_admin, token_hash, created_at, expires_at, revoked_at "
    "FROM api_tokens";

SqlValue NullableTime(const std::optional<core::TimePoint>& time) {
  return time ? SqlValue(core::ToUnixSeconds(*time)) : SqlValue();
}

std::optional<core::TimePoint> OptionalTime(const std::optional<std::int64_t>& seconds) {
  if (!seconds) {
    return std::nullopt;
  }
  return core::FromUnixSeconds(*seconds);
}

core::Result<core::ApiToken> FromRow(const Row& row) {
  RowReader reader(row, "api_tokens");
  core::ApiToken token;
  token.id = reader.Text(0);
  token.user_id = core::UserId(reader.Text(1));
  token.name = reader.Text(2);
  token.is_admin = reader.Bool(3);
  token.token_hash = reader.Text(4);
  token.created_at = core::FromUnixSeconds(reader.Int(5));
  token.expires_at = OptionalTime(reader.OptionalInt(6));
  token.revoked_at = OptionalTime(reader.OptionalInt(7));
  KEYBRIDGE_RETURN_IF_ERROR(reader.status());
  return token;
}

}  // namespace

core::Status SqlApiTokenRepository::Insert(const core::ApiToken& token) {
  core::Result<std::int64_t> inserted = database_.Execute(
      "INSERT INTO api_tokens (id, user_id, name, is_admin, token_hash, created_at, expires_at, "
      "revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      {token.id, token.user_id.value(), token.name, std::int64_t{token.is_admin ? 1 : 0},
       token.token_hash, core::ToUnixSeconds(token.created_at), NullableTime(token.expires_at),
       NullableTime(token.revoked_at)});
  if (!inserted.ok()) {
    core::Error error = std::move(inserted).TakeError();
    if (error.code == core::ErrorCode::kConflict) {
      error.message = "An API token with id '" + token.id + "' or the same hash already exists.";
    }
    return error;
  }
  return core::OkStatus();
}

core::Result<core::ApiToken> SqlApiTokenRepository::FindByHash(const std::string& token_hash) {
  KEYBRIDGE_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      database_.Query(std::string(kSelect) + " WHERE token_hash = $1", {token_hash}));
  if (rows.empty()) {
    return core::MakeError(core::ErrorCode::kNotFound, "Unknown API token.");
  }
  return FromRow(rows.front());
}

core::Result<std::vector<core::ApiToken>> SqlApiTokenRepository::List() {
  KEYBRIDGE_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      database_.Query(std::string(kSelect) + " ORDER BY created_at, id", {}));
  std::vector<core::ApiToken> tokens;
  tokens.reserve(rows.size());
  for (const Row& row : rows) {
    KEYBRIDGE_ASSIGN_OR_RETURN(core::ApiToken token, FromRow(row));
    tokens.push_back(std::move(token));
  }
  return tokens;
}

core::Result<bool> SqlApiTokenRepository::Revoke(const std::string& id, core::TimePoint now) {
  // COALESCE keeps the first revocation time; the row still counts as matched.
  KEYBRIDGE_ASSIGN_OR_RETURN(
      std::int64_t matched,
      database_.Execute("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
                        {id, core::ToUnixSeconds(now)}));
  return matched > 0;
}

}  // namespace keybridge::storage
