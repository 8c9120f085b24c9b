#include "storage/sql_integration_trial_repository.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "storage/sealed_columns.h"

namespace keybridge::storage {
namespace {

constexpr std::string_view kSelect =
    "SELECT id, provider_id, user_id, repository_url, keep, creation_date, expires_at, "
    "started_at, finished_at, stages, state_hash, code_verifier, browser_binding_hash "
    "FROM integration_trials ";

core::Error NotFound() {
  return core::MakeError(core::ErrorCode::kNotFound, "This trial does not exist.");
}

std::string EncodeStages(const std::vector<core::TrialStage>& stages) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& stage : stages) {
    out.push_back(
        {{"id", stage.id}, {"status", stage.status}, {"detail", stage.detail}, {"fix", stage.fix}});
  }
  return out.dump();
}

core::Result<std::vector<core::TrialStage>> DecodeStages(const std::string& text) {
  const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_array()) {
    return core::MakeError(core::ErrorCode::kInternal, "integration_trials.stages is not a list");
  }
  std::vector<core::TrialStage> stages;
  for (const auto& item : parsed) {
    if (!item.is_object()) {
      continue;
    }
    core::TrialStage stage;
    stage.id = item.value("id", "");
    stage.status = item.value("status", "");
    stage.detail = item.value("detail", "");
    stage.fix = item.value("fix", "");
    stages.push_back(std::move(stage));
  }
  return stages;
}

struct ReadRow {
  core::IntegrationTrial trial;
  core::TrialFlow flow;
  std::optional<std::string> sealed_verifier;
};

core::Result<ReadRow> Read(const Row& row) {
  RowReader reader(row, kTrialCodeVerifier.table);
  ReadRow out;
  out.trial.id = reader.Text(0);
  out.trial.provider_id = core::ProviderId(reader.Text(1));
  out.trial.user_id = core::UserId(reader.Text(2));
  out.trial.repository_url = reader.Text(3);
  out.trial.keep = reader.Bool(4);
  out.trial.created_at = core::FromUnixSeconds(reader.Int(5));
  out.trial.expires_at = core::FromUnixSeconds(reader.Int(6));
  if (auto started = reader.OptionalInt(7)) {
    out.trial.started_at = core::FromUnixSeconds(*started);
  }
  if (auto finished = reader.OptionalInt(8)) {
    out.trial.finished_at = core::FromUnixSeconds(*finished);
  }
  const std::string stages = reader.Text(9);
  out.flow.state_hash = reader.OptionalText(10).value_or("");
  out.sealed_verifier = reader.OptionalText(11);
  out.flow.browser_binding_hash = reader.OptionalText(12).value_or("");
  KEYBRIDGE_RETURN_IF_ERROR(reader.status());
  KEYBRIDGE_ASSIGN_OR_RETURN(out.trial.stages, DecodeStages(stages));
  return out;
}

}  // namespace

core::Status SqlIntegrationTrialRepository::Insert(const core::IntegrationTrial& trial) {
  KEYBRIDGE_ASSIGN_OR_RETURN(
      [[maybe_unused]] auto affected,
      database_.Execute(
          "INSERT INTO integration_trials (id, provider_id, user_id, repository_url, keep, "
          "creation_date, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
          {trial.id, trial.provider_id.value(), trial.user_id.value(), trial.repository_url,
           std::int64_t{trial.keep ? 1 : 0}, core::ToUnixSeconds(trial.created_at),
           core::ToUnixSeconds(trial.expires_at)}));
  return core::OkStatus();
}

core::Result<core::IntegrationTrial> SqlIntegrationTrialRepository::Find(const std::string& id) {
  KEYBRIDGE_ASSIGN_OR_RETURN(auto rows,
                             database_.Query(std::string(kSelect) + "WHERE id = $1", {id}));
  if (rows.empty()) {
    return NotFound();
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(ReadRow read, Read(rows.front()));
  return std::move(read.trial);
}

core::Result<bool> SqlIntegrationTrialRepository::Start(const std::string& id,
                                                        const core::TrialFlow& flow,
                                                        core::TimePoint now) {
  SqlValue verifier;
  if (flow.code_verifier) {
    KEYBRIDGE_ASSIGN_OR_RETURN(
        verifier, keys_.Seal(flow.code_verifier->Reveal(), kTrialCodeVerifier.AssociatedData(id)));
  }
  // The compare-and-set on started_at makes the authorize link single use, across replicas.
  KEYBRIDGE_ASSIGN_OR_RETURN(
      const std::int64_t affected,
      database_.Execute("UPDATE integration_trials SET state_hash = $2, code_verifier = $3, "
                        "browser_binding_hash = $4, started_at = $5 WHERE id = $1 AND "
                        "started_at IS NULL",
                        {id, flow.state_hash, std::move(verifier), flow.browser_binding_hash,
                         core::ToUnixSeconds(now)}));
  return affected == 1;
}

core::Result<std::pair<core::IntegrationTrial, core::TrialFlow>>
SqlIntegrationTrialRepository::TakeFlow(const std::string& state_hash) {
  KEYBRIDGE_ASSIGN_OR_RETURN(
      auto rows, database_.Query(std::string(kSelect) + "WHERE state_hash = $1", {state_hash}));
  if (rows.empty()) {
    return core::MakeError(core::ErrorCode::kNotFound, "unknown or used trial state");
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(ReadRow read, Read(rows.front()));
  // Whoever clears the state first owns the callback; a replayed state finds nothing.
  KEYBRIDGE_ASSIGN_OR_RETURN(
      const std::int64_t cleared,
      database_.Execute("UPDATE integration_trials SET state_hash = NULL, code_verifier = NULL "
                        "WHERE id = $1 AND state_hash = $2",
                        {read.trial.id, state_hash}));
  if (cleared != 1) {
    return core::MakeError(core::ErrorCode::kNotFound, "unknown or used trial state");
  }
  if (read.sealed_verifier) {
    KEYBRIDGE_ASSIGN_OR_RETURN(
        std::string verifier,
        keys_.Open(*read.sealed_verifier, kTrialCodeVerifier.AssociatedData(read.trial.id)));
    read.flow.code_verifier = core::Secret(std::move(verifier));
  }
  return std::make_pair(std::move(read.trial), std::move(read.flow));
}

core::Status SqlIntegrationTrialRepository::Finish(const std::string& id,
                                                   const std::vector<core::TrialStage>& stages,
                                                   core::TimePoint now) {
  KEYBRIDGE_ASSIGN_OR_RETURN(
      const std::int64_t affected,
      database_.Execute("UPDATE integration_trials SET stages = $2, finished_at = $3 WHERE id = $1",
                        {id, EncodeStages(stages), core::ToUnixSeconds(now)}));
  if (affected != 1) {
    return NotFound();
  }
  return core::OkStatus();
}

core::Result<std::int64_t> SqlIntegrationTrialRepository::DeleteCreatedBefore(
    core::TimePoint before) {
  return database_.Execute("DELETE FROM integration_trials WHERE creation_date < $1",
                           {core::ToUnixSeconds(before)});
}

}  // namespace keybridge::storage
