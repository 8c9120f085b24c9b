#include "storage/sql_audit_repository.h"

#include <string>
#include <utility>

namespace keybridge::storage {
namespace {

// The WHERE clause of a query's filters, with its parameters appended to `params`.
std::string Where(const core::AuditQuery& query, Params& params) {
  std::string where = " WHERE 1 = 1";
  auto add = [&](std::string_view condition, SqlValue value) {
    params.push_back(std::move(value));
    where += " AND ";
    where += condition;
    where += " $" + std::to_string(params.size());
  };
  if (query.user) {
    add("actor =", query.user->value());
  }
  if (query.provider) {
    add("provider_id =", query.provider->value());
  }
  if (query.kind) {
    add("kind =", std::string(core::AuditKindName(*query.kind)));
  }
  if (query.since) {
    add("occurred_at >=", core::ToUnixSeconds(*query.since));
  }
  if (query.until) {
    add("occurred_at <=", core::ToUnixSeconds(*query.until));
  }
  return where;
}

core::Result<core::AuditEvent> Read(const Row& row) {
  RowReader reader(row, "audit_events");
  core::AuditEvent event;
  event.id = reader.Int(0);
  event.time = core::FromUnixSeconds(reader.Int(1));
  const std::string kind = reader.Text(2);
  event.actor = core::UserId(reader.Text(3));
  event.caller_kind = reader.Text(4);
  event.session_token_id = reader.Text(5);
  event.consumer = reader.Text(6);
  event.connection_id = reader.Text(7);
  event.provider_id = reader.Text(8);
  event.target = reader.Text(9);
  event.token_fingerprint = reader.Text(10);
  event.changes = reader.Text(11);
  KEYBRIDGE_RETURN_IF_ERROR(reader.status());
  const auto parsed = core::ParseAuditKind(kind);
  if (!parsed) {
    return core::MakeError(core::ErrorCode::kInternal, "audit_events.kind is unknown: " + kind);
  }
  event.kind = *parsed;
  return event;
}

}  // namespace

core::Status SqlAuditRepository::Append(const std::vector<core::AuditEvent>& events) {
  if (events.empty()) {
    return core::OkStatus();
  }
  return database_.Transaction([&](Database& db) -> core::Status {
    for (const auto& event : events) {
      KEYBRIDGE_ASSIGN_OR_RETURN(
          [[maybe_unused]] auto affected,
          db.Execute("INSERT INTO audit_events (occurred_at, kind, actor, caller_kind, "
                     "session_token_id, consumer, connection_id, provider_id, target, "
                     "token_fingerprint, changes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
                     "$10, $11)",
                     {core::ToUnixSeconds(event.time), std::string(core::AuditKindName(event.kind)),
                      event.actor.value(), event.caller_kind, event.session_token_id,
                      event.consumer, event.connection_id, event.provider_id, event.target,
                      event.token_fingerprint, event.changes}));
    }
    return core::OkStatus();
  });
}

core::Result<core::AuditPage> SqlAuditRepository::List(const core::AuditQuery& query) {
  Params params;
  const std::string where = Where(query, params);
  core::AuditPage page;
  KEYBRIDGE_ASSIGN_OR_RETURN(auto counted,
                             database_.Query("SELECT COUNT(*) FROM audit_events" + where, params));
  if (!counted.empty()) {
    RowReader reader(counted.front(), "audit_events");
    page.total = reader.Int(0);
    KEYBRIDGE_RETURN_IF_ERROR(reader.status());
  }
  params.emplace_back(static_cast<std::int64_t>(query.limit));
  const std::string limit = " LIMIT $" + std::to_string(params.size());
  params.emplace_back(static_cast<std::int64_t>(query.offset));
  const std::string offset = " OFFSET $" + std::to_string(params.size());
  KEYBRIDGE_ASSIGN_OR_RETURN(
      auto rows,
      database_.Query("SELECT id, occurred_at, kind, actor, caller_kind, "
                      "session_token_id, consumer, connection_id, provider_id, target, "
                      "token_fingerprint, changes FROM audit_events"
                          + where + " ORDER BY occurred_at DESC, id DESC" + limit + offset,
                      params));
  for (const Row& row : rows) {
    KEYBRIDGE_ASSIGN_OR_RETURN(core::AuditEvent event, Read(row));
    page.events.push_back(std::move(event));
  }
  return page;
}

core::Result<std::int64_t> SqlAuditRepository::DeleteBefore(core::TimePoint before) {
  return database_.Execute("DELETE FROM audit_events WHERE occurred_at < $1",
                           {core::ToUnixSeconds(before)});
}

}  // namespace keybridge::storage
