// InMemoryAuditRepository: the working fake of core::AuditRepository behind the service unit
// tests; tests/contract holds it to the same contract as SQLite and PostgreSQL.
#pragma once

#include <algorithm>
#include <mutex>
#include <vector>

#include "core/audit.h"

namespace keybridge::testing {

class InMemoryAuditRepository final : public core::AuditRepository {
 public:
  core::Status Append(const std::vector<core::AuditEvent>& events) override {
    std::lock_guard lock(mu_);
    for (core::AuditEvent event : events) {
      event.id = ++last_id_;
      rows_.push_back(std::move(event));
    }
    return core::OkStatus();
  }
  core::Result<core::AuditPage> List(const core::AuditQuery& query) override {
    std::lock_guard lock(mu_);
    std::vector<core::AuditEvent> matching;
    for (const auto& event : rows_) {
      const auto seconds = core::ToUnixSeconds(event.time);
      if ((query.user && event.actor != *query.user)
          || (query.provider && event.provider_id != query.provider->value())
          || (query.kind && event.kind != *query.kind)
          || (query.since && seconds < core::ToUnixSeconds(*query.since))
          || (query.until && seconds > core::ToUnixSeconds(*query.until))) {
        continue;
      }
      matching.push_back(event);
    }
    // The database stores whole seconds; so does the fake.
    for (auto& event : matching) {
      event.time = core::FromUnixSeconds(core::ToUnixSeconds(event.time));
    }
    std::sort(matching.begin(), matching.end(), [](const auto& a, const auto& b) {
      return a.time != b.time ? a.time > b.time : a.id > b.id;
    });
    core::AuditPage page;
    page.total = static_cast<std::int64_t>(matching.size());
    for (std::size_t i = query.offset; i < matching.size() && i < query.offset + query.limit; ++i) {
      page.events.push_back(matching[i]);
    }
    return page;
  }
  core::Result<std::int64_t> DeleteBefore(core::TimePoint before) override {
    std::lock_guard lock(mu_);
    const auto limit = core::ToUnixSeconds(before);
    const auto removed = std::erase_if(
        rows_, [&](const auto& event) { return core::ToUnixSeconds(event.time) < limit; });
    return static_cast<std::int64_t>(removed);
  }

 private:
  std::mutex mu_;
  std::int64_t last_id_ = 0;
  std::vector<core::AuditEvent> rows_;
};

}  // namespace keybridge::testing
