#include "storage/sql_provider_repository.h"

#include <utility>

#include "storage/sealed_columns.h"

namespace keybridge::storage {
namespace {

// Column order shared by every statement below, ToParams() and FromRow().
constexpr std::string_view kSelect =
    "SELECT id, kind, app_slug, client_id, client_secret, display_name, scope, url, use_pkce, "
    "image_registry_url, oidc_issuer_url, created_by_id, creation_date, updated_at, "
    "managed_by_file, client_secret_file, client_secret_env "
    "FROM oauth2_clients";
constexpr std::string_view kInsert =
    "INSERT INTO oauth2_clients (id, kind, app_slug, client_id, client_secret, display_name, "
    "scope, url, use_pkce, image_registry_url, oidc_issuer_url, created_by_id, creation_date, "
    "updated_at, managed_by_file, client_secret_file, client_secret_env) VALUES ($1, $2, $3, $4, "
    "$5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";
constexpr std::string_view kUpdate =
    "UPDATE oauth2_clients SET kind = $2, app_slug = $3, client_id = $4, client_secret = $5, "
    "display_name = $6, scope = $7, url = $8, use_pkce = $9, image_registry_url = $10, "
    "oidc_issuer_url = $11, created_by_id = $12, creation_date = $13, updated_at = $14, "
    "managed_by_file = $15, client_secret_file = $16, client_secret_env = $17 WHERE id = $1";

SqlValue Nullable(const std::optional<std::string>& value) {
  return value ? SqlValue(*value) : SqlValue();
}

// The secret reference of the integrations file, one column per source.
std::optional<std::string> ReferenceOf(const core::Provider& provider,
                                       core::SecretReference::Source source) {
  if (!provider.secret_reference || provider.secret_reference->source != source) {
    return std::nullopt;
  }
  return provider.secret_reference->value;
}

core::Error NotFound(const core::ProviderId& id) {
  return core::MakeError(
      core::ErrorCode::kNotFound,
      "OAuth2 Client with id '" + id.value() + "' does not exist or you do not have access to it.");
}

}  // namespace

core::Result<Params> SqlProviderRepository::ToParams(const core::Provider& provider) {
  SqlValue secret;
  if (provider.client_secret) {
    KEYBRIDGE_ASSIGN_OR_RETURN(
        secret, keys_.Seal(provider.client_secret->Reveal(),
                           kProviderClientSecret.AssociatedData(provider.id.value())));
  }
  return Params{provider.id.value(),
                std::string(core::ToString(provider.kind)),
                provider.app_slug,
                provider.client_id,
                std::move(secret),
                provider.display_name,
                provider.scope,
                provider.url,
                std::int64_t{provider.use_pkce ? 1 : 0},
                Nullable(provider.image_registry_url),
                Nullable(provider.oidc_issuer_url),
                provider.created_by.value(),
                core::ToUnixSeconds(provider.created_at),
                core::ToUnixSeconds(provider.updated_at),
                std::int64_t{provider.managed_by_file ? 1 : 0},
                Nullable(ReferenceOf(provider, core::SecretReference::Source::kFile)),
                Nullable(ReferenceOf(provider, core::SecretReference::Source::kEnv))};
}

core::Result<core::Provider> SqlProviderRepository::FromRow(const Row& row) {
  RowReader reader(row, kProviderClientSecret.table);
  core::Provider provider;
  provider.id = core::ProviderId(reader.Text(0));
  const std::string kind = reader.Text(1);
  provider.app_slug = reader.Text(2);
  provider.client_id = reader.Text(3);
  const std::optional<std::string> sealed_secret = reader.OptionalText(4);
  provider.display_name = reader.Text(5);
  provider.scope = reader.Text(6);
  provider.url = reader.Text(7);
  provider.use_pkce = reader.Bool(8);
  provider.image_registry_url = reader.OptionalText(9);
  provider.oidc_issuer_url = reader.OptionalText(10);
  provider.created_by = core::UserId(reader.Text(11));
  provider.created_at = core::FromUnixSeconds(reader.Int(12));
  provider.updated_at = core::FromUnixSeconds(reader.Int(13));
  provider.managed_by_file = reader.Bool(14);
  if (auto file = reader.OptionalText(15)) {
    provider.secret_reference = core::SecretReference{core::SecretReference::Source::kFile, *file};
  } else if (auto env = reader.OptionalText(16)) {
    provider.secret_reference = core::SecretReference{core::SecretReference::Source::kEnv, *env};
  }
  KEYBRIDGE_RETURN_IF_ERROR(reader.status());

  core::Result<core::ProviderKind> parsed_kind = core::ParseProviderKind(kind);
  if (!parsed_kind.ok()) {
    return core::MakeError(
        core::ErrorCode::kInternal, "unexpected data in the database",
        "provider '" + provider.id.value() + "' has unknown kind '" + kind + "'");
  }
  provider.kind = *parsed_kind;

  if (sealed_secret) {
    core::Result<std::string> secret =
        keys_.Open(*sealed_secret, kProviderClientSecret.AssociatedData(provider.id.value()));
    if (!secret.ok()) {
      return core::MakeError(
          core::ErrorCode::kDecryptionFailed,
          "The client secret of OAuth2 Client '" + provider.id.value() + "' cannot be decrypted.",
          "sealed with key id '" + crypto::KeyRing::KeyIdOf(*sealed_secret)
              + "': " + secret.error().message);
    }
    provider.client_secret = core::Secret(std::move(secret).value());
  }
  return provider;
}

core::Result<std::vector<core::Provider>> SqlProviderRepository::List() {
  KEYBRIDGE_ASSIGN_OR_RETURN(std::vector<Row> rows,
                             database_.Query(std::string(kSelect) + " ORDER BY id", {}));
  std::vector<core::Provider> providers;
  providers.reserve(rows.size());
  for (const Row& row : rows) {
    KEYBRIDGE_ASSIGN_OR_RETURN(core::Provider provider, FromRow(row));
    providers.push_back(std::move(provider));
  }
  return providers;
}

core::Result<core::Provider> SqlProviderRepository::Find(const core::ProviderId& id) {
  KEYBRIDGE_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      database_.Query(std::string(kSelect) + " WHERE id = $1", {id.value()}));
  if (rows.empty()) {
    return NotFound(id);
  }
  return FromRow(rows.front());
}

core::Status SqlProviderRepository::Insert(const core::Provider& provider) {
  KEYBRIDGE_ASSIGN_OR_RETURN(Params params, ToParams(provider));
  core::Result<std::int64_t> inserted = database_.Execute(kInsert, params);
  if (!inserted.ok()) {
    core::Error error = std::move(inserted).TakeError();
    if (error.code == core::ErrorCode::kConflict) {
      error.message = "OAuth2 Client with id '" + provider.id.value() + "' already exists.";
    }
    return error;
  }
  return core::OkStatus();
}

core::Status SqlProviderRepository::Update(const core::Provider& provider) {
  KEYBRIDGE_ASSIGN_OR_RETURN(Params params, ToParams(provider));
  KEYBRIDGE_ASSIGN_OR_RETURN(std::int64_t updated, database_.Execute(kUpdate, params));
  if (updated == 0) {
    return NotFound(provider.id);
  }
  return core::OkStatus();
}

core::Result<bool> SqlProviderRepository::Delete(const core::ProviderId& id) {
  KEYBRIDGE_ASSIGN_OR_RETURN(
      std::int64_t deleted,
      database_.Execute("DELETE FROM oauth2_clients WHERE id = $1", {id.value()}));
  return deleted > 0;
}

}  // namespace keybridge::storage
