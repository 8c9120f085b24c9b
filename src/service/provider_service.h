// ProviderService: the administrator's use cases for integrations (Renku "OAuth2 clients"):
// list, get, create, patch, delete, with Renku's admin rules and PATCH semantics
// (api/openapi.json). No HTTP types and no SQL here; routes/ adapts it to the API, storage/
// implements the repository.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/caller.h"
#include "core/clock.h"
#include "core/provider.h"
#include "core/repositories.h"
#include "core/result.h"
#include "service/audit_log.h"

namespace keybridge::service {

// Set only by the integrations file (service/integration_file.h), never by the API: the
// integration becomes file-managed (core::Provider::managed_by_file) with this secret reference.
struct FromIntegrationsFile {
  std::optional<core::SecretReference> secret_reference;
};

// Fields of Renku's ProviderPost. Required ones are plain values; the codec enforces presence.
struct ProviderCreate {
  std::string id;
  core::ProviderKind kind = core::ProviderKind::kGitLab;
  std::string client_id;
  std::string display_name;
  std::string scope;
  std::string url;
  std::string app_slug;
  std::optional<core::Secret> client_secret;
  std::optional<bool> use_pkce;  // absent: on for gitlab and generic_oidc (RFC 9700 2.1.1)
  std::optional<std::string> image_registry_url;
  std::optional<std::string> oidc_issuer_url;
  std::optional<FromIntegrationsFile> from_file;
};

// Fields of Renku's ProviderPatch: absent leaves a field unchanged. For client_secret,
// image_registry_url and oidc_issuer_url an empty string clears the value.
struct ProviderPatch {
  std::optional<core::ProviderKind> kind;
  std::optional<std::string> app_slug;
  std::optional<std::string> client_id;
  std::optional<core::Secret> client_secret;
  std::optional<std::string> display_name;
  std::optional<std::string> scope;
  std::optional<std::string> url;
  std::optional<bool> use_pkce;
  std::optional<std::string> image_registry_url;
  std::optional<std::string> oidc_issuer_url;
  // Only the integrations file sets it; a patch without it may not change a file-managed
  // integration (kConflict).
  std::optional<FromIntegrationsFile> from_file;
};

// Who deletes an integration: the API may not delete one an integrations file manages.
enum class ChangeOrigin { kApi, kIntegrationsFile };

// The kConflict answer to an API edit or delete of a file-managed integration.
core::Error ManagedByFileError(const core::ProviderId& id);

// What an integration's change of destination does to its connections (ConnectionService
// implements it). Called before the changed integration is stored.
class ConnectionInvalidator {
 public:
  virtual ~ConnectionInvalidator() = default;
  // Drops the token set of every connection to `before.id` and marks it for reconnect with
  // `reason`, then revokes the dropped tokens at `before` (the old destination, or the
  // integration about to be deleted), best effort and bounded in time. Returns how many
  // connections were invalidated.
  virtual core::Result<std::int64_t> InvalidateConnections(const core::Provider& before,
                                                           const std::string& reason) = 0;
};

// The fields that decide where keybridge (and the sessions it hands tokens to) send the client
// secret and users' tokens: changing one "retargets" the integration.
std::vector<std::string> ChangedDestinationFields(const core::Provider& before,
                                                  const core::Provider& after);

// use_pkce when the create body has none.
bool DefaultPkce(core::ProviderKind kind);

class ProviderService {
 public:
  // `providers` and `clock` must outlive the service. Thread-safe.
  ProviderService(core::ProviderRepository& providers, const core::Clock& clock);

  core::Result<std::vector<core::Provider>> List();
  // kNotFound with Renku's message if absent.
  core::Result<core::Provider> Get(const core::ProviderId& id);
  // kUnauthenticated (anonymous) / kPermissionDenied (not admin); kInvalidArgument naming the
  // field; kConflict if the slugged id exists.
  core::Result<core::Provider> Create(const core::Caller& caller, ProviderCreate request);
  // As Create, plus kNotFound. A patch that changes where secrets go (kind, url, client_id,
  // oidc_issuer_url, image_registry_url; ChangedDestinationFields) must bring a new
  // client_secret (kInvalidArgument naming the fields otherwise: the stored one would be sent to
  // the new destination), and invalidates every connection through `invalidator` before the
  // change is stored (kInternal if there is none); it is audit-logged without the secret. Any
  // other patch never touches existing connections.
  core::Result<core::Provider> Update(const core::Caller& caller, const core::ProviderId& id,
                                      ProviderPatch patch,
                                      ConnectionInvalidator* invalidator = nullptr);
  // Idempotent like Renku: succeeds whether or not the provider existed. Before the integration
  // and its connections are removed, `invalidator` drops their tokens and revokes them at the
  // provider (best effort, bounded), so deleting an integration does not leave users' grants
  // live there; kInternal without one while the integration exists.
  // kConflict (ManagedByFileError) for a file-managed integration unless `origin` is the file.
  core::Status Delete(const core::Caller& caller, const core::ProviderId& id,
                      ConnectionInvalidator* invalidator = nullptr,
                      ChangeOrigin origin = ChangeOrigin::kApi);
  // Where creations, changes and deletions are recorded (null: log lines only). Set before use.
  void SetAuditLog(AuditLog* audit) { audit_ = audit; }

 private:
  core::ProviderRepository& providers_;
  const core::Clock& clock_;
  AuditLog* audit_ = nullptr;
};

// kUnauthenticated for anonymous callers, kPermissionDenied for non-admins (Renku 2.1).
core::Status RequireAdmin(const core::Caller& caller);
// kUnauthenticated for anonymous callers.
core::Status RequireUser(const core::Caller& caller);

}  // namespace keybridge::service
