#include "routes/audit_routes.h"

#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "routes/json_body.h"

namespace keybridge::routes {
namespace {

using nlohmann::json;

core::Error Invalid(std::string message) {
  return core::MakeError(core::ErrorCode::kInvalidArgument, std::move(message));
}

bool Digits(std::string_view text, std::size_t at, std::size_t count, int& out) {
  if (at + count > text.size()) {
    return false;
  }
  const char* begin = text.data() + at;
  auto [ptr, ec] = std::from_chars(begin, begin + count, out);
  return ec == std::errc() && ptr == begin + count;
}

core::Result<int> PageParam(const http::Request& request, const char* name, int fallback, int max) {
  const auto text = request.Query(name);
  if (!text) {
    return fallback;
  }
  int value = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || ptr != text->data() + text->size() || value < 1 || value > max) {
    return Invalid(std::string("query parameter '") + name + "' must be an integer from 1 to "
                   + std::to_string(max));
  }
  return value;
}

core::Result<std::optional<core::TimePoint>> TimeParam(const http::Request& request,
                                                       const char* name) {
  const auto text = request.Query(name);
  if (!text) {
    return std::optional<core::TimePoint>();
  }
  const auto parsed = ParseRfc3339(*text);
  if (!parsed) {
    return Invalid(std::string("query parameter '") + name
                   + "' must be an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z");
  }
  return parsed;
}

// The filters every audit route shares; `with_user`: the admin route's `user` filter.
core::Result<core::AuditQuery> ParseQuery(const http::Request& request, bool with_user) {
  core::AuditQuery query;
  if (with_user) {
    if (auto user = request.Query("user"); user && !user->empty()) {
      query.user = core::UserId(*user);
    }
  }
  if (auto provider = request.Query("provider"); provider && !provider->empty()) {
    query.provider = core::ProviderId(*provider);
  }
  if (auto kind = request.Query("kind"); kind && !kind->empty()) {
    query.kind = core::ParseAuditKind(*kind);
    if (!query.kind) {
      return Invalid("query parameter 'kind' names no kind of audit event");
    }
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(query.since, TimeParam(request, "since"));
  KEYBRIDGE_ASSIGN_OR_RETURN(query.until, TimeParam(request, "until"));
  KEYBRIDGE_ASSIGN_OR_RETURN(const int page, PageParam(request, "page", 1, 1'000'000));
  KEYBRIDGE_ASSIGN_OR_RETURN(const int per_page, PageParam(request, "per_page", 20, 100));
  query.limit = static_cast<std::size_t>(per_page);
  query.offset = static_cast<std::size_t>(page - 1) * query.limit;
  return query;
}

json EventJson(const core::AuditEvent& event) {
  json out = {{"id", event.id},
              {"time", core::FormatIso8601(event.time)},
              {"kind", std::string(core::AuditKindName(event.kind))},
              {"user", event.actor.value()},
              {"caller_kind", event.caller_kind},
              {"session_token_id", event.session_token_id},
              {"consumer", event.consumer},
              {"connection_id", event.connection_id},
              {"provider_id", event.provider_id},
              {"target", event.target},
              {"token_fingerprint", event.token_fingerprint}};
  // Stored as JSON text by service::ProviderChanges (or a fixed outcome word).
  json changes = json::parse(event.changes, nullptr, false);
  out["changes"] = changes.is_discarded() ? json(nullptr) : std::move(changes);
  return out;
}

http::Response PageResponse(const core::AuditQuery& query, const core::AuditPage& page) {
  json out = json::array();
  for (const auto& event : page.events) {
    out.push_back(EventJson(event));
  }
  const auto per_page = static_cast<std::int64_t>(query.limit);
  const std::int64_t pages = page.total == 0 ? 0 : (page.total + per_page - 1) / per_page;
  return std::move(JsonResponse(200, out)
                       .WithHeader("page", std::to_string(query.offset / query.limit + 1))
                       .WithHeader("per-page", std::to_string(per_page))
                       .WithHeader("total", std::to_string(page.total))
                       .WithHeader("total-pages", std::to_string(pages))
                       .WithHeader("Cache-Control", "no-store"));
}

}  // namespace

std::optional<core::TimePoint> ParseRfc3339(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM) (RFC 3339 section 5.6).
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!Digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-' || !Digits(text, 5, 2, month)
      || text[7] != '-' || !Digits(text, 8, 2, day) || (text[10] != 'T' && text[10] != 't')
      || !Digits(text, 11, 2, hour) || text[13] != ':' || !Digits(text, 14, 2, minute)
      || text[16] != ':' || !Digits(text, 17, 2, second)) {
    return std::nullopt;
  }
  std::size_t at = 19;
  if (text[at] == '.') {
    ++at;
    const std::size_t digits = at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      ++at;
    }
    if (at == digits) {
      return std::nullopt;
    }
  }
  int offset_minutes = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z') && at + 1 == text.size()) {
    offset_minutes = 0;
  } else if (at + 6 == text.size() && (text[at] == '+' || text[at] == '-') && text[at + 3] == ':') {
    int offset_hours = 0;
    int offset_rest = 0;
    if (!Digits(text, at + 1, 2, offset_hours) || !Digits(text, at + 4, 2, offset_rest)
        || offset_hours > 23 || offset_rest > 59) {
      return std::nullopt;
    }
    offset_minutes = (offset_hours * 60 + offset_rest) * (text[at] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  const auto at_utc = std::chrono::sys_days(date).time_since_epoch() + std::chrono::hours(hour)
                      + std::chrono::minutes(minute - offset_minutes)
                      + std::chrono::seconds(std::min(second, 59));
  return core::TimePoint(std::chrono::duration_cast<core::TimePoint::duration>(at_utc));
}

void AddAuditRoutes(RouteTable& routes, service::AuditLog& audit) {
  routes.Add("GET", "/api/data/audit", Access::kAdmin, Compartment::kDatabase,
             [&audit](http::Request& request) -> core::Result<http::Response> {
               KEYBRIDGE_ASSIGN_OR_RETURN(const core::AuditQuery query, ParseQuery(request, true));
               KEYBRIDGE_ASSIGN_OR_RETURN(const core::AuditPage page,
                                          audit.List(request.caller, query));
               return PageResponse(query, page);
             });
  routes.Add("GET", "/api/data/user/audit", Access::kUser, Compartment::kDatabase,
             [&audit](http::Request& request) -> core::Result<http::Response> {
               KEYBRIDGE_ASSIGN_OR_RETURN(const core::AuditQuery query, ParseQuery(request, false));
               KEYBRIDGE_ASSIGN_OR_RETURN(const core::AuditPage page,
                                          audit.ListOwn(request.caller, query));
               return PageResponse(query, page);
             });
}

}  // namespace keybridge::routes
