// Reading an integrations file (service/integration_file.h) from disk, with its secrets from the
// files and environment variables it names: shared by `keybridge integrations apply` and
// `keybridge serve --integrations-file`.
#pragma once

#include <string>

#include "core/caller.h"
#include "core/result.h"
#include "service/integration_file.h"
#include "service/provider_service.h"

namespace keybridge::app {

// Who the integrations file acts as: an administrator named "integrations-file" (created_by).
core::Caller IntegrationsFileCaller();

// Reads and parses `path`, then plans against the stored integrations. A client_secret_file is
// read relative to the directory of `path` (unless absolute), with one trailing newline dropped;
// a client_secret_env must be set. Errors name the file and the entry, never a secret.
core::Result<service::IntegrationPlan> PlanIntegrationsFile(const std::string& path, bool prune,
                                                            service::ProviderService& providers);

}  // namespace keybridge::app
