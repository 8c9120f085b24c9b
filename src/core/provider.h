// Provider: an OAuth2 client registration that an administrator made at GitLab, GitHub, GitHub
// Enterprise, an OIDC platform, or a data service (Dropbox, Google Drive, Zenodo) (Renku calls it
// an "OAuth2 client" or "integration").
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/ids.h"
#include "core/result.h"
#include "core/secret.h"

namespace keybridge::core {

// dropbox, google and zenodo are Renku's data connectors: sessions mount data or publish with
// their tokens; they serve no repositories and no container images.
enum class ProviderKind { kGitLab, kGitHub, kGenericOidc, kDropbox, kGoogle, kZenodo };

// Every kind, in the order the API documents them (api/openapi.json).
inline constexpr std::array<ProviderKind, 6> kAllProviderKinds = {
    ProviderKind::kGitLab,  ProviderKind::kGitHub, ProviderKind::kGenericOidc,
    ProviderKind::kDropbox, ProviderKind::kGoogle, ProviderKind::kZenodo};

std::string_view ToString(ProviderKind kind);
// Parses the API/database spelling ("gitlab", "github", "generic_oidc", "dropbox", "google",
// "zenodo"); kInvalidArgument else.
Result<ProviderKind> ParseProviderKind(std::string_view text);

// dropbox, google and zenodo: the data connector kinds.
bool IsDataConnectorKind(ProviderKind kind);

// The one production URL a dropbox ("https://www.dropbox.com") or google
// ("https://accounts.google.com") integration may have; "" for other kinds, whose URL is the
// administrator's choice.
std::string_view CanonicalProviderUrl(ProviderKind kind);

// The URL to store for `kind` given what the administrator typed. dropbox and google have fixed
// endpoints, so their URL only says "production" or "local stand-in": "" or the provider's own
// host (www.dropbox.com / dropbox.com; accounts.google.com / google.com, with or without
// https:// and a trailing slash) becomes CanonicalProviderUrl(kind); an http(s) URL whose host
// is loopback (a local stand-in for tests) is kept; anything else is kInvalidArgument naming what
// is accepted, so no configuration can send a Dropbox or Google token anywhere but to them or
// to this machine. Other kinds get `url` back unchanged (ValidateProvider checks it).
Result<std::string> NormalizeProviderUrl(ProviderKind kind, std::string_view url);

// Whether `url` is an http(s) URL on a loopback host (core::IsLoopbackHost).
bool IsLocalStandInUrl(std::string_view url);

// Where an integrations file (`keybridge integrations apply`) says the client secret is: the file
// never holds the secret itself.
struct SecretReference {
  enum class Source { kFile, kEnv };
  Source source = Source::kFile;
  // kFile: the path as written in the integrations file (relative to that file's directory
  // unless absolute); kEnv: the environment variable's name.
  std::string value;
  bool operator==(const SecretReference&) const = default;
};

struct Provider {
  ProviderId id;  // slug, primary key
  ProviderKind kind = ProviderKind::kGitLab;
  std::string app_slug;
  std::string client_id;
  std::optional<Secret> client_secret;  // plaintext in memory only; storage encrypts it
  std::string display_name;
  std::string scope;  // space-separated, passed to the provider unchanged
  std::string url;    // base URL of the provider (may include a path for GitLab)
  bool use_pkce = false;
  std::optional<std::string> image_registry_url;
  std::optional<std::string> oidc_issuer_url;
  UserId created_by;  // the creating admin
  TimePoint created_at{};
  TimePoint updated_at{};
  // Applied from an integrations file: the API and the web UI refuse to edit or delete it
  // (ProviderService), so the file stays the one source of truth.
  bool managed_by_file = false;
  // Where the file said the secret is (only with managed_by_file; absent: no secret).
  std::optional<SecretReference> secret_reference;
};

// Bounds shared by validation and the schema (Renku's DB limits, enforced before the database).
inline constexpr std::size_t kMaxProviderIdLength = 99;
inline constexpr std::size_t kMaxDisplayNameLength = 99;
inline constexpr std::size_t kMaxClientIdLength = 500;
inline constexpr std::size_t kMaxClientSecretLength = 1000;
inline constexpr std::size_t kMaxUrlLength = 2000;
inline constexpr std::size_t kMaxScopeLength = 1000;
inline constexpr std::size_t kMaxAppSlugLength = 500;

// Renku's id slug rules (api/openapi.json, Provider.id): lower-case, whitespace and other
// characters become '-', common accented Latin letters lose their accent, separator runs collapse,
// leading/trailing separators and a trailing ".git"/".atom" are dropped. kInvalidArgument if
// nothing usable is left.
Result<ProviderId> SlugifyProviderId(std::string_view raw);

// Checks every field of a provider about to be stored. Returns kInvalidArgument whose message
// names the field and says what is wrong, so an administrator can fix it without reading code.
Status ValidateProvider(const Provider& provider);

// A `github` provider with an app_slug and without an image registry is a GitHub App
// (user-to-server tokens, installations). Without an app_slug it is a GitHub OAuth App (scopes
// such as `repo read:packages`, no installations), which serves repositories too; with an image
// registry URL it is the OAuth App for that registry (ghcr.io accepts no GitHub App token) and
// serves images only, as Renku infers it.
bool IsGitHubApp(const Provider& provider);

}  // namespace keybridge::core
