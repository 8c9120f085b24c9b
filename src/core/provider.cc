#include "core/provider.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "core/text.h"
#include "core/url.h"

namespace keybridge::core {
namespace {

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

bool IsSeparator(char c) {
  return c == '-' || c == '.' || c == '_';
}

// UTF-8 sequences of accented Latin letters and the ASCII letter they fold to. Renku uses
// unidecode; this covers the letters admins actually type into ids.
constexpr std::array<std::pair<std::string_view, char>, 30> kFoldings = {{
    {"\xc3\xa0", 'a'}, {"\xc3\xa1", 'a'}, {"\xc3\xa2", 'a'}, {"\xc3\xa3", 'a'}, {"\xc3\xa4", 'a'},
    {"\xc3\xa5", 'a'}, {"\xc3\xa7", 'c'}, {"\xc3\xa8", 'e'}, {"\xc3\xa9", 'e'}, {"\xc3\xaa", 'e'},
    {"\xc3\xab", 'e'}, {"\xc3\xac", 'i'}, {"\xc3\xad", 'i'}, {"\xc3\xae", 'i'}, {"\xc3\xaf", 'i'},
    {"\xc3\xb1", 'n'}, {"\xc3\xb2", 'o'}, {"\xc3\xb3", 'o'}, {"\xc3\xb4", 'o'}, {"\xc3\xb5", 'o'},
    {"\xc3\xb6", 'o'}, {"\xc3\xb8", 'o'}, {"\xc3\xb9", 'u'}, {"\xc3\xba", 'u'}, {"\xc3\xbb", 'u'},
    {"\xc3\xbc", 'u'}, {"\xc3\xbd", 'y'}, {"\xc3\xbf", 'y'}, {"\xc3\x9f", 's'}, {"\xc3\xa6", 'a'},
}};

bool HasControlCharacters(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

Status CheckLength(std::string_view field, std::string_view value, std::size_t max) {
  if (value.size() > max) {
    return Invalid(std::string(field) + " is too long: at most " + std::to_string(max)
                   + " characters");
  }
  return OkStatus();
}

// Provider-facing URLs must be absolute https; plain http is accepted only for loopback hosts
// (local development and tests). Credentials, queries and fragments would be silently mangled
// when keybridge appends paths, so they are rejected.
Status CheckServiceUrl(std::string_view field, std::string_view value) {
  KEYBRIDGE_RETURN_IF_ERROR(CheckLength(field, value, kMaxUrlLength));
  auto parsed = ParseUrl(value);
  if (!parsed.ok()) {
    return Invalid(std::string(field) + " " + parsed.error().message + " (got \""
                   + std::string(value.substr(0, 100)) + "\")");
  }
  const Url& url = *parsed;
  if (url.scheme != "https" && !(url.scheme == "http" && url.IsLoopbackHost())) {
    return Invalid(std::string(field)
                   + " must use https:// (plain http:// is only allowed for localhost)");
  }
  if (!url.userinfo.empty()) {
    return Invalid(std::string(field) + " must not contain a user name or password");
  }
  if (url.has_query || url.has_fragment) {
    return Invalid(std::string(field) + " must not contain a query (?) or fragment (#)");
  }
  return OkStatus();
}

// RFC 6749 section 3.3: scope = scope-token *( SP scope-token ),
// scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
Status CheckScope(std::string_view scope) {
  KEYBRIDGE_RETURN_IF_ERROR(CheckLength("scope", scope, kMaxScopeLength));
  if (scope.empty()) {
    return OkStatus();
  }
  std::size_t start = 0;
  while (start <= scope.size()) {
    const auto end = std::min(scope.find(' ', start), scope.size());
    const std::string_view token = scope.substr(start, end - start);
    if (token.empty()) {
      return Invalid(
          "scope must be scope names separated by single spaces, e.g. \"read_api "
          "read_repository\"");
    }
    for (char c : token) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x21 || u > 0x7e || c == '"' || c == '\\') {
        return Invalid("scope \"" + std::string(token)
                       + "\" contains a character not allowed in OAuth scopes (RFC 6749 3.3)");
      }
    }
    start = end + 1;
  }
  return OkStatus();
}

constexpr std::string_view kDropboxUrl = "https://www.dropbox.com";
constexpr std::string_view kGoogleUrl = "https://accounts.google.com";

// The hosts an administrator may name for a fixed-endpoint kind: the web host, the bare domain
// and the API hosts, with any path (Renku ignores this URL, so its admins typed all of these; the
// endpoints are fixed whatever it says, and the canonical URL is what is stored).
bool IsOwnHost(ProviderKind kind, std::string_view text) {
  std::string url(text);
  if (url.find("://") == std::string::npos) {
    url = "https://" + url;  // "www.dropbox.com" typed without a scheme
  }
  auto parsed = ParseUrl(url);
  if (!parsed.ok() || parsed->scheme != "https" || !parsed->userinfo.empty() || parsed->has_query
      || parsed->has_fragment || parsed->EffectivePort() != 443) {
    return false;
  }
  const std::string& host = parsed->host;
  if (kind == ProviderKind::kDropbox) {
    return host == "www.dropbox.com" || host == "dropbox.com" || host == "api.dropboxapi.com"
           || host == "api.dropbox.com";
  }
  return kind == ProviderKind::kGoogle
         && (host == "accounts.google.com" || host == "google.com" || host == "www.google.com"
             || host == "drive.google.com" || host == "oauth2.googleapis.com"
             || host == "www.googleapis.com");
}

// What a dropbox/google url may be, for the 422 message.
std::string FixedUrlRule(ProviderKind kind) {
  const std::string name = kind == ProviderKind::kDropbox ? "Dropbox" : "Google";
  const std::string canonical(kind == ProviderKind::kDropbox ? kDropboxUrl : kGoogleUrl);
  return "url of a " + std::string(ToString(kind)) + " integration must be empty or " + canonical
         + " (" + name
         + "'s endpoints are fixed), or an http(s) URL on localhost, 127.0.0.1 or [::1] for a "
           "local stand-in";
}

}  // namespace

std::string_view ToString(ProviderKind kind) {
  switch (kind) {
    case ProviderKind::kGitLab:
      return "gitlab";
    case ProviderKind::kGitHub:
      return "github";
    case ProviderKind::kGenericOidc:
      return "generic_oidc";
    case ProviderKind::kDropbox:
      return "dropbox";
    case ProviderKind::kGoogle:
      return "google";
    case ProviderKind::kZenodo:
      return "zenodo";
  }
  return "gitlab";
}

Result<ProviderKind> ParseProviderKind(std::string_view text) {
  for (const ProviderKind kind : kAllProviderKinds) {
    if (text == ToString(kind)) {
      return kind;
    }
  }
  return Invalid("kind must be one of gitlab, github, generic_oidc, dropbox, google, zenodo (got \""
                 + std::string(text.substr(0, 50)) + "\")");
}

bool IsDataConnectorKind(ProviderKind kind) {
  return kind == ProviderKind::kDropbox || kind == ProviderKind::kGoogle
         || kind == ProviderKind::kZenodo;
}

std::string_view CanonicalProviderUrl(ProviderKind kind) {
  switch (kind) {
    case ProviderKind::kDropbox:
      return kDropboxUrl;
    case ProviderKind::kGoogle:
      return kGoogleUrl;
    default:
      return "";
  }
}

bool IsLocalStandInUrl(std::string_view url) {
  auto parsed = ParseUrl(url);
  return parsed.ok() && (parsed->scheme == "http" || parsed->scheme == "https")
         && parsed->IsLoopbackHost();
}

Result<std::string> NormalizeProviderUrl(ProviderKind kind, std::string_view url) {
  const std::string_view canonical = CanonicalProviderUrl(kind);
  if (canonical.empty()) {
    return std::string(url);
  }
  if (url.empty() || IsOwnHost(kind, url)) {
    return std::string(canonical);
  }
  if (IsLocalStandInUrl(url)) {
    return std::string(url);
  }
  return Invalid(FixedUrlRule(kind) + " (got \"" + std::string(url.substr(0, 100)) + "\")");
}

bool IsGitHubApp(const Provider& provider) {
  return provider.kind == ProviderKind::kGitHub && !provider.app_slug.empty()
         && (!provider.image_registry_url || provider.image_registry_url->empty());
}

Result<ProviderId> SlugifyProviderId(std::string_view raw) {
  std::string folded;
  for (std::size_t i = 0; i < raw.size();) {
    const auto c = static_cast<unsigned char>(raw[i]);
    if (c < 0x80) {
      folded += AsciiLower(static_cast<char>(c));
      ++i;
      continue;
    }
    bool matched = false;
    for (const auto& [utf8, ascii] : kFoldings) {
      if (raw.substr(i, utf8.size()) == utf8) {
        folded += ascii;
        i += utf8.size();
        matched = true;
        break;
      }
    }
    if (!matched) {
      folded += '-';
      ++i;
    }
  }
  std::string slug;
  for (char c : folded) {
    const bool word = std::isalnum(static_cast<unsigned char>(c)) != 0;
    const char out = word || IsSeparator(c) ? c : '-';
    if (IsSeparator(out) && !slug.empty() && IsSeparator(slug.back())) {
      slug.back() = '-';  // a run of separators collapses to one '-'
      continue;
    }
    slug += out;
  }
  auto trim = [&slug] {
    while (!slug.empty() && IsSeparator(slug.front())) {
      slug.erase(slug.begin());
    }
    while (!slug.empty() && IsSeparator(slug.back())) {
      slug.pop_back();
    }
  };
  trim();
  for (std::string_view suffix : {std::string_view(".git"), std::string_view(".atom")}) {
    if (slug.size() > suffix.size() && slug.ends_with(suffix)) {
      slug.resize(slug.size() - suffix.size());
      trim();
    }
  }
  if (slug.empty() || std::isalnum(static_cast<unsigned char>(slug.front())) == 0) {
    return Invalid("id \"" + std::string(raw.substr(0, 100))
                   + "\" has too many invalid characters; use letters, digits, '.', '_' or '-'");
  }
  if (slug.size() > kMaxProviderIdLength) {
    return Invalid("id is too long: at most " + std::to_string(kMaxProviderIdLength)
                   + " characters");
  }
  return ProviderId(std::move(slug));
}

Status ValidateProvider(const Provider& p) {
  if (p.id.empty()) {
    return Invalid("id must not be empty");
  }
  KEYBRIDGE_RETURN_IF_ERROR(CheckLength("id", p.id.value(), kMaxProviderIdLength));
  if (p.display_name.empty() || HasControlCharacters(p.display_name)) {
    return Invalid("display_name must be a non-empty name without control characters");
  }
  KEYBRIDGE_RETURN_IF_ERROR(CheckLength("display_name", p.display_name, kMaxDisplayNameLength));
  if (p.client_id.empty() || HasControlCharacters(p.client_id)
      || p.client_id.find(' ') != std::string::npos) {
    return Invalid(
        "client_id must be the non-empty client/application id the provider showed "
        "you, without spaces");
  }
  KEYBRIDGE_RETURN_IF_ERROR(CheckLength("client_id", p.client_id, kMaxClientIdLength));
  if (p.client_secret) {
    KEYBRIDGE_RETURN_IF_ERROR(
        CheckLength("client_secret", p.client_secret->Reveal(), kMaxClientSecretLength));
    if (HasControlCharacters(p.client_secret->Reveal())) {
      return Invalid(
          "client_secret must not contain control characters (check for a pasted "
          "line break)");
    }
  }
  KEYBRIDGE_RETURN_IF_ERROR(CheckScope(p.scope));
  KEYBRIDGE_RETURN_IF_ERROR(CheckServiceUrl("url", p.url));
  if (const std::string_view canonical = CanonicalProviderUrl(p.kind);
      !canonical.empty() && p.url != canonical && !IsLocalStandInUrl(p.url)) {
    return Invalid(FixedUrlRule(p.kind) + " (got \"" + p.url.substr(0, 100) + "\")");
  }
  if (IsDataConnectorKind(p.kind)) {
    // Both only mean something for GitHub/GitLab; accepting them would suggest the integration
    // installs an App or serves container images.
    const std::string kind(ToString(p.kind));
    if (!p.app_slug.empty()) {
      return Invalid("app_slug is only for GitHub Apps; leave it empty for kind " + kind);
    }
    if (p.image_registry_url) {
      return Invalid("image_registry_url is only for GitLab and GitHub; a " + kind
                     + " integration serves no container images, leave it empty");
    }
  }
  KEYBRIDGE_RETURN_IF_ERROR(CheckLength("app_slug", p.app_slug, kMaxAppSlugLength));
  if (!std::all_of(p.app_slug.begin(), p.app_slug.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
      })) {
    return Invalid(
        "app_slug may contain only letters, digits, '-' and '_' (it is the last part "
        "of https://github.com/apps/<slug>)");
  }
  if (p.image_registry_url) {
    KEYBRIDGE_RETURN_IF_ERROR(CheckServiceUrl("image_registry_url", *p.image_registry_url));
  }
  if (p.kind == ProviderKind::kGenericOidc) {
    if (!p.oidc_issuer_url) {
      return Invalid("oidc_issuer_url is required for kind generic_oidc");
    }
    KEYBRIDGE_RETURN_IF_ERROR(CheckServiceUrl("oidc_issuer_url", *p.oidc_issuer_url));
  } else if (p.oidc_issuer_url) {
    return Invalid("oidc_issuer_url is only allowed for kind generic_oidc");
  }
  // GitHub App client ids start with "Iv" (Iv1., Iv23); OAuth Apps' with "Ov23" or are 20 hex
  // digits. Without a slug a GitHub App would be taken for an OAuth App and its users would never
  // be sent to install it.
  if (p.kind == ProviderKind::kGitHub && p.app_slug.empty()
      && (!p.image_registry_url || p.image_registry_url->empty())
      && p.client_id.starts_with("Iv")) {
    return Invalid(
        "app_slug is required for a GitHub App (client_id " + p.client_id.substr(0, 40)
        + " is a GitHub App's): it is the last part of the App's public page URL, "
          "https://github.com/apps/<slug>. For a GitHub OAuth App use that app's client id.");
  }
  return OkStatus();
}

}  // namespace keybridge::core
