#include "service/provider_service.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace keybridge::service {
namespace {

using core::ErrorCode;
using core::MakeError;

core::Error NotFound(const core::ProviderId& id) {
  return MakeError(ErrorCode::kNotFound, "OAuth2 Client with id '" + id.value()
                                             + "' does not exist or you do not have access to it.");
}

// "" clears an optional URL field; anything else replaces it.
void ApplyOptionalUrl(std::optional<std::string>& field, const std::optional<std::string>& patch) {
  if (!patch) {
    return;
  }
  field = patch->empty() ? std::nullopt : patch;
}

std::string Quoted(const std::optional<std::string>& value) {
  return value ? "'" + *value + "'" : std::string("(none)");
}

// Old and new value of one destination field, for the audit log and the status reason.
struct FieldValues {
  std::string before;
  std::string after;
};

FieldValues ValuesOf(const std::string& field, const core::Provider& before,
                     const core::Provider& after) {
  if (field == "kind") {
    return {std::string(core::ToString(before.kind)), std::string(core::ToString(after.kind))};
  }
  if (field == "url") {
    return {before.url, after.url};
  }
  if (field == "client_id") {
    return {before.client_id, after.client_id};
  }
  if (field == "oidc_issuer_url") {
    return {Quoted(before.oidc_issuer_url), Quoted(after.oidc_issuer_url)};
  }
  return {Quoted(before.image_registry_url), Quoted(after.image_registry_url)};
}

std::string JoinFields(const std::vector<std::string>& fields) {
  std::string out;
  for (const auto& f : fields) {
    out += (out.empty() ? "" : ", ") + f;
  }
  return out;
}

}  // namespace

core::Error ManagedByFileError(const core::ProviderId& id) {
  return MakeError(ErrorCode::kConflict,
                   "Integration '" + id.value()
                       + "' is managed by the integrations file; change it there and run "
                         "`keybridge integrations apply`.");
}

// What the integrations file marks on an integration it creates or changes.
static void MarkFromFile(core::Provider& p, const std::optional<FromIntegrationsFile>& from_file) {
  if (from_file) {
    p.managed_by_file = true;
    p.secret_reference = from_file->secret_reference;
  }
}

bool DefaultPkce(core::ProviderKind kind) {
  // GitLab, OIDC servers, Dropbox and Google support S256 (Dropbox OAuth Guide, "PKCE"; Google
  // "OAuth 2.0 for Mobile & Desktop Apps"); GitHub only since 2025-07 and GHES depends on its
  // version (GitHub docs: "Authorizing OAuth apps", PKCE), so GitHub stays opt-in, and so does
  // Zenodo, whose Invenio OAuth2 server documents the plain code flow only.
  return kind == core::ProviderKind::kGitLab || kind == core::ProviderKind::kGenericOidc
         || kind == core::ProviderKind::kDropbox || kind == core::ProviderKind::kGoogle;
}

std::vector<std::string> ChangedDestinationFields(const core::Provider& before,
                                                  const core::Provider& after) {
  // kind and the URLs choose the host; client_id chooses whose registration the secret and the
  // grants belong to (another client at the same host). The image registry is where sessions
  // send the tokens keybridge hands out (Renku pulls images with them).
  std::vector<std::string> changed;
  if (before.kind != after.kind) {
    changed.emplace_back("kind");
  }
  if (before.url != after.url) {
    changed.emplace_back("url");
  }
  if (before.client_id != after.client_id) {
    changed.emplace_back("client_id");
  }
  if (before.oidc_issuer_url != after.oidc_issuer_url) {
    changed.emplace_back("oidc_issuer_url");
  }
  if (before.image_registry_url != after.image_registry_url) {
    changed.emplace_back("image_registry_url");
  }
  return changed;
}

core::Status RequireUser(const core::Caller& caller) {
  if (!caller.IsAuthenticated()) {
    std::string message = "You have to be authenticated to perform this operation.";
    if (!caller.rejected_reason.empty()) {
      message += " The presented credentials were rejected: " + caller.rejected_reason + ".";
    }
    return MakeError(ErrorCode::kUnauthenticated, std::move(message));
  }
  return core::OkStatus();
}

core::Status RequireAdmin(const core::Caller& caller) {
  if (!caller.IsAuthenticated()) {
    std::string message = "Please provide valid access credentials in the Authorization header.";
    if (!caller.rejected_reason.empty()) {
      message += " The presented credentials were rejected: " + caller.rejected_reason + ".";
    }
    return MakeError(ErrorCode::kUnauthenticated, std::move(message));
  }
  if (!caller.is_admin) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "You do not have the required permissions for this operation.");
  }
  return core::OkStatus();
}

ProviderService::ProviderService(core::ProviderRepository& providers, const core::Clock& clock)
    : providers_(providers), clock_(clock) {}

core::Result<std::vector<core::Provider>> ProviderService::List() {
  return providers_.List();
}

core::Result<core::Provider> ProviderService::Get(const core::ProviderId& id) {
  auto found = providers_.Find(id);
  if (!found.ok() && found.error().code == ErrorCode::kNotFound) {
    return NotFound(id);
  }
  return found;
}

core::Result<core::Provider> ProviderService::Create(const core::Caller& caller,
                                                     ProviderCreate request) {
  KEYBRIDGE_RETURN_IF_ERROR(RequireAdmin(caller));
  KEYBRIDGE_ASSIGN_OR_RETURN(core::ProviderId id, core::SlugifyProviderId(request.id));
  core::Provider p;
  p.id = std::move(id);
  p.kind = request.kind;
  p.app_slug = std::move(request.app_slug);
  p.client_id = std::move(request.client_id);
  if (request.client_secret && !request.client_secret->empty()) {
    p.client_secret = std::move(request.client_secret);
  }
  p.display_name = std::move(request.display_name);
  p.scope = std::move(request.scope);
  KEYBRIDGE_ASSIGN_OR_RETURN(p.url, core::NormalizeProviderUrl(p.kind, request.url));
  p.use_pkce = request.use_pkce.value_or(DefaultPkce(p.kind));
  // Renku rejects "" for image_registry_url on POST; we treat "" as absent, which is what the
  // Renku UI means when it sends an empty field.
  ApplyOptionalUrl(p.image_registry_url, request.image_registry_url);
  ApplyOptionalUrl(p.oidc_issuer_url, request.oidc_issuer_url);
  MarkFromFile(p, request.from_file);
  p.created_by = caller.user_id;
  p.created_at = clock_.Now();
  p.updated_at = p.created_at;
  KEYBRIDGE_RETURN_IF_ERROR(core::ValidateProvider(p));
  auto inserted = providers_.Insert(p);
  if (!inserted.ok()) {
    if (inserted.error().code == ErrorCode::kConflict) {
      return MakeError(ErrorCode::kConflict,
                       "OAuth2 Client with id '" + p.id.value() + "' already exists.");
    }
    return std::move(inserted).TakeError();
  }
  if (audit_ != nullptr) {
    audit_->Changed(core::AuditKind::kIntegrationCreated, caller, p.id.value(), {},
                    ProviderChanges(nullptr, &p));
  }
  return p;
}

core::Result<core::Provider> ProviderService::Update(const core::Caller& caller,
                                                     const core::ProviderId& id,
                                                     ProviderPatch patch,
                                                     ConnectionInvalidator* invalidator) {
  KEYBRIDGE_RETURN_IF_ERROR(RequireAdmin(caller));
  KEYBRIDGE_ASSIGN_OR_RETURN(core::Provider p, Get(id));
  if (p.managed_by_file && !patch.from_file) {
    return ManagedByFileError(id);
  }
  MarkFromFile(p, patch.from_file);
  const core::Provider before = p;
  const bool new_secret = patch.client_secret && !patch.client_secret->empty();
  if (patch.kind) {
    // Renku 2.2: switching to generic_oidc must bring its issuer in the same patch, so a stale
    // issuer from an earlier configuration is never silently reused.
    if (*patch.kind == core::ProviderKind::kGenericOidc && p.kind != *patch.kind
        && (!patch.oidc_issuer_url || patch.oidc_issuer_url->empty())) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "oidc_issuer_url is required when changing kind to generic_oidc");
    }
    if (core::IsDataConnectorKind(*patch.kind) && p.kind != *patch.kind) {
      // Like oidc_issuer_url below: what only meant something for the old kind goes, unless the
      // patch names it (then validation says why it is refused).
      if (!patch.app_slug) {
        p.app_slug.clear();
      }
      if (!patch.image_registry_url) {
        p.image_registry_url.reset();
      }
    }
    p.kind = *patch.kind;
  }
  if (patch.app_slug) {
    p.app_slug = std::move(*patch.app_slug);
  }
  if (patch.client_id) {
    p.client_id = std::move(*patch.client_id);
  }
  if (patch.client_secret) {
    if (patch.client_secret->empty()) {
      p.client_secret.reset();
    } else {
      p.client_secret = std::move(patch.client_secret);
    }
  }
  if (patch.display_name) {
    p.display_name = std::move(*patch.display_name);
  }
  if (patch.scope) {
    p.scope = std::move(*patch.scope);
  }
  if (patch.url) {
    p.url = std::move(*patch.url);
  }
  if (patch.use_pkce) {
    p.use_pkce = *patch.use_pkce;
  }
  ApplyOptionalUrl(p.image_registry_url, patch.image_registry_url);
  ApplyOptionalUrl(p.oidc_issuer_url, patch.oidc_issuer_url);
  if (p.kind != core::ProviderKind::kGenericOidc) {
    p.oidc_issuer_url.reset();
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(p.url, core::NormalizeProviderUrl(p.kind, p.url));
  p.updated_at = clock_.Now();
  KEYBRIDGE_RETURN_IF_ERROR(core::ValidateProvider(p));
  const std::vector<std::string> retargeted = ChangedDestinationFields(before, p);
  std::int64_t invalidated = 0;
  if (!retargeted.empty()) {
    // The stored secret and every grant belong to the old destination: keeping them would send
    // the client secret, and users' refresh and access tokens, to whatever host the new values
    // name (issue #12: an admin could harvest them). The admin must prove they hold the new
    // registration's secret, and users reconnect there.
    if (!new_secret) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "Changing " + JoinFields(retargeted)
                           + " requires a new client_secret in the same request: the stored one "
                             "would otherwise be sent to the new destination. Every user "
                             "connected to this integration will have to reconnect.");
    }
    if (invalidator == nullptr) {
      return MakeError(ErrorCode::kInternal, "The integration's destination cannot be changed.",
                       "ProviderService::Update without a ConnectionInvalidator");
    }
    std::string reason = "The integration's ";
    for (std::size_t i = 0; i < retargeted.size(); ++i) {
      const FieldValues values = ValuesOf(retargeted[i], before, p);
      reason += (i == 0 ? "" : ", ") + retargeted[i] + " changed from " + values.before + " to "
                + values.after;
    }
    reason += "; reconnect.";
    KEYBRIDGE_ASSIGN_OR_RETURN(invalidated, invalidator->InvalidateConnections(before, reason));
  }
  auto updated = providers_.Update(p);
  if (!updated.ok()) {
    if (updated.error().code == ErrorCode::kNotFound) {
      return NotFound(id);
    }
    return std::move(updated).TakeError();
  }
  if (!retargeted.empty()) {
    std::string changes;
    for (const auto& field : retargeted) {
      const FieldValues values = ValuesOf(field, before, p);
      changes +=
          (changes.empty() ? "" : "; ") + field + ": " + values.before + " -> " + values.after;
    }
    spdlog::warn(
        "audit: admin {} changed the destination of integration {} ({}); a new client secret was "
        "set; {} connections invalidated",
        caller.user_id.value(), id.value(), changes, invalidated);
  }
  if (audit_ != nullptr) {
    audit_->Changed(core::AuditKind::kIntegrationUpdated, caller, id.value(), {},
                    ProviderChanges(&before, &p));
  }
  return p;
}

core::Status ProviderService::Delete(const core::Caller& caller, const core::ProviderId& id,
                                     ConnectionInvalidator* invalidator, ChangeOrigin origin) {
  KEYBRIDGE_RETURN_IF_ERROR(RequireAdmin(caller));
  auto before = providers_.Find(id);
  if (!before.ok()) {
    if (before.error().code == ErrorCode::kNotFound) {
      return core::OkStatus();  // idempotent, like Renku
    }
    return std::move(before).TakeError();
  }
  if (before->managed_by_file && origin != ChangeOrigin::kIntegrationsFile) {
    return ManagedByFileError(id);
  }
  if (invalidator == nullptr) {
    return MakeError(ErrorCode::kInternal, "The integration cannot be deleted.",
                     "ProviderService::Delete without a ConnectionInvalidator");
  }
  // The rows would go with the integration (ON DELETE CASCADE), but the grants would stay live
  // at the provider: revoke them there first, while the integration still says where.
  KEYBRIDGE_ASSIGN_OR_RETURN(
      const std::int64_t invalidated,
      invalidator->InvalidateConnections(*before, "The integration was deleted."));
  KEYBRIDGE_ASSIGN_OR_RETURN([[maybe_unused]] bool deleted, providers_.Delete(id));
  spdlog::warn("audit: admin {} deleted integration {} ({}); {} connections revoked and removed",
               caller.user_id.value(), id.value(), before->url, invalidated);
  if (audit_ != nullptr) {
    audit_->Changed(core::AuditKind::kIntegrationDeleted, caller, id.value(), {},
                    ProviderChanges(&*before, nullptr));
  }
  return core::OkStatus();
}

}  // namespace keybridge::service
