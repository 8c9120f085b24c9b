// InMemoryIntegrationTrialRepository: the working fake of core::IntegrationTrialRepository behind
// the service unit tests; tests/contract holds it to the same contract as SQLite and PostgreSQL.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/repositories.h"

namespace keybridge::testing {

class InMemoryIntegrationTrialRepository final : public core::IntegrationTrialRepository {
 public:
  core::Status Insert(const core::IntegrationTrial& trial) override {
    std::lock_guard lock(mu_);
    Row row;
    row.trial = trial;
    row.trial.started_at.reset();
    row.trial.finished_at.reset();
    row.trial.stages.clear();
    if (!rows_.emplace(trial.id, std::move(row)).second) {
      return core::MakeError(core::ErrorCode::kConflict, "duplicate trial id");
    }
    return core::OkStatus();
  }
  core::Result<core::IntegrationTrial> Find(const std::string& id) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(id);
    if (it == rows_.end()) {
      return core::MakeError(core::ErrorCode::kNotFound, "This trial does not exist.");
    }
    return it->second.trial;
  }
  core::Result<bool> Start(const std::string& id, const core::TrialFlow& flow,
                           core::TimePoint now) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(id);
    if (it == rows_.end() || it->second.trial.started_at) {
      return false;
    }
    for (const auto& [other_id, other] : rows_) {
      if (other.flow && other.flow->state_hash == flow.state_hash) {
        return core::MakeError(core::ErrorCode::kConflict, "duplicate state");
      }
    }
    it->second.trial.started_at = now;
    it->second.flow = flow;
    return true;
  }
  core::Result<std::pair<core::IntegrationTrial, core::TrialFlow>> TakeFlow(
      const std::string& state_hash) override {
    std::lock_guard lock(mu_);
    for (auto& [id, row] : rows_) {
      if (row.flow && row.flow->state_hash == state_hash) {
        core::TrialFlow flow = std::move(*row.flow);
        row.flow.reset();
        return std::make_pair(row.trial, std::move(flow));
      }
    }
    return core::MakeError(core::ErrorCode::kNotFound, "unknown or used trial state");
  }
  core::Status Finish(const std::string& id, const std::vector<core::TrialStage>& stages,
                      core::TimePoint now) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(id);
    if (it == rows_.end()) {
      return core::MakeError(core::ErrorCode::kNotFound, "This trial does not exist.");
    }
    it->second.trial.stages = stages;
    it->second.trial.finished_at = now;
    return core::OkStatus();
  }
  core::Result<std::int64_t> DeleteCreatedBefore(core::TimePoint before) override {
    std::lock_guard lock(mu_);
    return static_cast<std::int64_t>(
        std::erase_if(rows_, [&](const auto& kv) { return kv.second.trial.created_at < before; }));
  }
  // ON DELETE CASCADE from the trial's provider.
  void DeleteForProvider(const core::ProviderId& provider_id) {
    std::lock_guard lock(mu_);
    std::erase_if(rows_,
                  [&](const auto& kv) { return kv.second.trial.provider_id == provider_id; });
  }

 private:
  struct Row {
    core::IntegrationTrial trial;
    std::optional<core::TrialFlow> flow;
  };
  std::mutex mu_;
  std::map<std::string, Row> rows_;
};

}  // namespace keybridge::testing
