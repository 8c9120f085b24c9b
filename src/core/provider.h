// Provider: an OAuth2 client registration that an administrator made at GitLab, GitHub, GitHub
// Enterprise or an OIDC platform (Renku calls it an "OAuth2 client" or "integration").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/ids.h"
#include "core/result.h"
#include "core/secret.h"

namespace keybridge::core {

enum class ProviderKind { kGitLab, kGitHub, kGenericOidc };

std::string_view ToString(ProviderKind kind);
// Parses the API/database spelling ("gitlab", "github", "generic_oidc"); kInvalidArgument else.
Result<ProviderKind> ParseProviderKind(std::string_view text);

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
