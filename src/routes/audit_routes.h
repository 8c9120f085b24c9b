// Audit trail routes: GET /api/data/audit (administrators: every event, filtered) and
// GET /api/data/user/audit (the caller's own events), newest first, paginated like the
// installations route (page, per_page; page, per-page, total, total-pages headers).
#pragma once

#include <optional>
#include <string_view>

#include "core/clock.h"
#include "routes/route_table.h"
#include "service/audit_log.h"

namespace keybridge::routes {

// RFC 3339 date-time ("2026-12-05T08:15:00Z", fractions and offsets allowed); nullopt otherwise.
std::optional<core::TimePoint> ParseRfc3339(std::string_view text);

// `audit` must outlive the route table.
void AddAuditRoutes(RouteTable& routes, service::AuditLog& audit);

}  // namespace keybridge::routes
