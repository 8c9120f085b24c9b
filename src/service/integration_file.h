// Integrations as code: the integrations file that operators keep in git, and the plan that makes
// the stored integrations match it (`keybridge integrations apply`, `keybridge serve
// --integrations-file`). The file is JSON rather than YAML: JSON needs no extra dependency and is
// what the API speaks, so an entry is the API's create body (api/openapi.json, ProviderPost)
// except the client secret, which is never in the file, only a reference to it:
//
//   {"integrations": [{"id": "gitlab-example", "kind": "gitlab", "display_name": "Our GitLab",
//                      "url": "https://gitlab.example.org", "client_id": "...",
//                      "client_secret_file": "secrets/gitlab" | "client_secret_env": "VAR",
//                      "scope": "read_api", "app_slug": "", "use_pkce": true,
//                      "image_registry_url": "...", "oidc_issuer_url": "..."}]}
//
// Reading the file and the secrets is the caller's (app/): this module parses text, plans and
// applies through ProviderService, so every entry meets the API's rules.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/caller.h"
#include "core/provider.h"
#include "core/result.h"
#include "core/secret.h"
#include "service/provider_service.h"

namespace keybridge::service {

struct IntegrationFileEntry {
  ProviderCreate fields;  // client_secret and from_file unset
  std::optional<core::SecretReference> secret_reference;
};

struct IntegrationFile {
  std::vector<IntegrationFileEntry> entries;
};

// Strict: unknown fields, wrong types, missing required fields (as the API's create), both
// secret references in one entry, duplicate ids and an id that is not already its own slug are
// kInvalidArgument naming the entry (number and id) and the field. Each entry is validated as
// ProviderService::Create would (core::ValidateProvider), without its secret.
core::Result<IntegrationFile> ParseIntegrationFile(std::string_view text);

// The secret a reference names (app/ reads the file or the environment). Errors name the
// reference, never a secret.
using SecretResolver = std::function<core::Result<core::Secret>(const core::SecretReference&)>;

struct FieldChange {
  std::string field;
  std::string before;  // "" when not shown (the secret)
  std::string after;
};

struct PlannedChange {
  enum class Action { kCreate, kUpdate, kDelete };
  Action action = Action::kCreate;
  core::ProviderId id;
  std::vector<FieldChange> changes;  // kUpdate: what differs (the secret as "client_secret")
  // kCreate/kUpdate: the entry, and its resolved secret.
  std::optional<IntegrationFileEntry> entry;
  std::optional<core::Secret> secret;
};

struct IntegrationPlan {
  std::vector<PlannedChange> changes;  // creates and updates in file order, then deletes by id
  bool empty() const { return changes.empty(); }
};

// What it takes to make `stored` match `file`: creates, updates (a changed secret, compared with
// the stored one, counts) and, with `prune`, deletes of integrations the file does not list.
// Errors: a reference `resolve` cannot read, and an entry whose stored integration would be
// retargeted without a secret (ProviderService::Update's rule), both naming the entry.
core::Result<IntegrationPlan> PlanIntegrations(const IntegrationFile& file,
                                               const std::vector<core::Provider>& stored,
                                               const SecretResolver& resolve, bool prune);

// One line per change: "create ID", "update ID: field: before -> after; client_secret: changed",
// "delete ID"; "no changes" for an empty plan. Never a secret.
std::string DescribePlan(const IntegrationPlan& plan);

// Carries out `plan` through `providers` as `caller` (an administrator), in order; stops at the
// first error, which names the integration. Deletes and retargets revoke through `invalidator`
// as the API's do.
core::Status ApplyPlan(const IntegrationPlan& plan, ProviderService& providers,
                       const core::Caller& caller, ConnectionInvalidator& invalidator);

// Makes a plan with `plan` and carries it out with ApplyPlan. Replicas of one deployment start
// together and apply the same file: when another one created (kConflict) or deleted (kNotFound)
// an integration between this plan and its change, the plan is made again against what that
// replica wrote (which has the change done), at most `attempts` plans in all. Returns the plan
// carried out; any other error at once.
core::Result<IntegrationPlan> ApplyConverging(
    const std::function<core::Result<IntegrationPlan>()>& plan, ProviderService& providers,
    const core::Caller& caller, ConnectionInvalidator& invalidator, int attempts = 3);

// The stored integrations in the file format (2-space indented JSON). An integration that was
// never applied from a file but has a secret gets "client_secret_env": "KEYBRIDGE_SECRET_<ID>"
// (SecretPlaceholder); their ids are appended to `placeholders`.
std::string FormatIntegrationFile(const std::vector<core::Provider>& providers,
                                  std::vector<std::string>& placeholders);

// "KEYBRIDGE_SECRET_" + the id upper-cased, every other character than A-Z and 0-9 as '_'.
std::string SecretPlaceholder(const core::ProviderId& id);

}  // namespace keybridge::service
