// IntegrationTrial: one "Try connecting" round trip an administrator runs for an integration
// (service::IntegrationTrialService): authorize -> provider -> callback with a real code
// exchange, kept in the database so the callback may reach another replica than the authorize.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/secret.h"

namespace keybridge::core {

// One recorded stage of a trial: `status` is "pass" | "fail" | "warn" | "skip" (the checklist's
// values); `detail` and `fix` are sentences for the administrator, never a token or a code.
struct TrialStage {
  std::string id;
  std::string status;
  std::string detail;
  std::string fix;
};

struct IntegrationTrial {
  std::string id;  // ULID
  ProviderId provider_id;
  UserId user_id;              // the administrator who created it; only they may run or read it
  std::string repository_url;  // read with the trial's token when not ""
  bool keep = false;           // store the connection instead of revoking the tokens
  TimePoint created_at{};
  TimePoint expires_at{};  // the authorize link must be opened before this
  // When authorize sent the browser to the provider (the stage "reached_provider").
  std::optional<TimePoint> started_at;
  // When the callback recorded `stages` (came_back, code_exchange, account, repository, kept).
  std::optional<TimePoint> finished_at;
  std::vector<TrialStage> stages;
};

// The pending authorization of a started trial, as AuthorizationFlow for a connect.
struct TrialFlow {
  std::string state_hash;               // hex SHA-256 of the state; never the state
  std::optional<Secret> code_verifier;  // PKCE (RFC 7636), sealed at rest
  std::string browser_binding_hash;     // hex SHA-256 of the flow cookie value
};

}  // namespace keybridge::core
