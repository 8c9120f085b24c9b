#include "storage/sql_session_token_repository.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

namespace keybridge::storage {
namespace {

constexpr std::string_view kSelect =
    "SELECT id, user_id, session_name, token_hash, connection_ids, repository_urls, created_at, "
    "expires_at, revoked_at, image_repositories FROM session_tokens";

std::string EncodeList(const std::vector<std::string>& items) {
  return nlohmann::json(items).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string EncodeList(const std::vector<core::ConnectionId>& ids) {
  std::vector<std::string> items;
  items.reserve(ids.size());
  for (const core::ConnectionId& id : ids) {
    items.push_back(id.value());
  }
  return EncodeList(items);
}

// nullopt unless `text` is a JSON array of strings.
std::optional<std::vector<std::string>> DecodeList(const std::string& text) {
  const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_array()) {
    return std::nullopt;
  }
  std::vector<std::string> items;
  for (const auto& item : parsed) {
    if (!item.is_string()) {
      return std::nullopt;
    }
    items.push_back(item.get<std::string>());
  }
  return items;
}

core::Result<core::SessionToken> FromRow(const Row& row) {
  RowReader reader(row, "session_tokens");
  core::SessionToken token;
  token.id = reader.Text(0);
  token.user_id = core::UserId(reader.Text(1));
  token.session_name = reader.Text(2);
  token.token_hash = reader.Text(3);
  const std::string connection_ids = reader.Text(4);
  const std::string repository_urls = reader.Text(5);
  token.created_at = core::FromUnixSeconds(reader.Int(6));
  token.expires_at = core::FromUnixSeconds(reader.Int(7));
  if (auto revoked = reader.OptionalInt(8)) {
    token.revoked_at = core::FromUnixSeconds(*revoked);
  }
  const std::string image_repositories = reader.Text(9);
  KEYBRIDGE_RETURN_IF_ERROR(reader.status());
  auto connections = DecodeList(connection_ids);
  auto repositories = DecodeList(repository_urls);
  auto images = DecodeList(image_repositories);
  if (!connections || !repositories || !images) {
    // A scope that cannot be read must never widen into "no restriction": refuse the row.
    return core::MakeError(core::ErrorCode::kInternal, "stored session token scope is malformed",
                           "session_tokens row " + token.id);
  }
  for (std::string& id : *connections) {
    token.connection_ids.emplace_back(std::move(id));
  }
  token.repository_urls = std::move(*repositories);
  token.image_repositories = std::move(*images);
  return token;
}

}  // namespace

core::Status SqlSessionTokenRepository::Insert(const core::SessionToken& token) {
  const SqlValue revoked_at =
      token.revoked_at ? SqlValue(core::ToUnixSeconds(*token.revoked_at)) : SqlValue();
  core::Result<std::int64_t> inserted = database_.Execute(
      "INSERT INTO session_tokens (id, user_id, session_name, token_hash, connection_ids, "
      "repository_urls, created_at, expires_at, revoked_at, image_repositories) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
      {token.id, token.user_id.value(), token.session_name, token.token_hash,
       EncodeList(token.connection_ids), EncodeList(token.repository_urls),
       core::ToUnixSeconds(token.created_at), core::ToUnixSeconds(token.expires_at), revoked_at,
       EncodeList(token.image_repositories)});
  if (!inserted.ok()) {
    core::Error error = std::move(inserted).TakeError();
    if (error.code == core::ErrorCode::kConflict) {
      error.message = "A session token with id '" + token.id + "' or the same hash already exists.";
    }
    return error;
  }
  return core::OkStatus();
}

core::Result<core::SessionToken> SqlSessionTokenRepository::FindByHash(
    const std::string& token_hash) {
  KEYBRIDGE_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      database_.Query(std::string(kSelect) + " WHERE token_hash = $1", {token_hash}));
  if (rows.empty()) {
    return core::MakeError(core::ErrorCode::kNotFound, "Unknown session token.");
  }
  return FromRow(rows.front());
}

core::Result<std::vector<core::SessionToken>> SqlSessionTokenRepository::ListForUser(
    const core::UserId& user_id) {
  KEYBRIDGE_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      database_.Query(std::string(kSelect) + " WHERE user_id = $1 ORDER BY created_at, id",
                      {user_id.value()}));
  std::vector<core::SessionToken> tokens;
  tokens.reserve(rows.size());
  for (const Row& row : rows) {
    KEYBRIDGE_ASSIGN_OR_RETURN(core::SessionToken token, FromRow(row));
    tokens.push_back(std::move(token));
  }
  return tokens;
}

core::Result<bool> SqlSessionTokenRepository::Revoke(const std::string& id,
                                                     const core::UserId& user_id,
                                                     core::TimePoint now) {
  // COALESCE keeps the first revocation time; the row still counts as matched.
  KEYBRIDGE_ASSIGN_OR_RETURN(
      std::int64_t matched,
      database_.Execute("UPDATE session_tokens SET revoked_at = COALESCE(revoked_at, $3) "
                        "WHERE id = $1 AND user_id = $2",
                        {id, user_id.value(), core::ToUnixSeconds(now)}));
  return matched > 0;
}

}  // namespace keybridge::storage
