#include "oauth/scope_vocabulary.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "core/text.h"
#include "oauth/provider_check_text.h"

namespace keybridge::oauth {
namespace {

constexpr std::string_view kGooglePrefix = "https://www.googleapis.com/auth/";

// GitLab docs, "OAuth 2.0 identity provider API" and "Personal access tokens" (the scope table
// both refer to), plus the OpenID Connect scopes GitLab's provider accepts ("GitLab as an OpenID
// Connect identity provider").
const std::vector<std::string_view> kGitLabScopes = {
    "api",
    "read_api",
    "read_user",
    "create_runner",
    "manage_runner",
    "k8s_proxy",
    "self_rotate",
    "read_repository",
    "write_repository",
    "read_registry",
    "write_registry",
    "read_virtual_registry",
    "write_virtual_registry",
    "read_observability",
    "write_observability",
    "sudo",
    "admin_mode",
    "read_service_ping",
    "ai_features",
    "ai_workflows",
    "openid",
    "profile",
    "email",
};

// GitHub docs, "Scopes for OAuth apps" (GitHub.com and GitHub Enterprise Server).
const std::vector<std::string_view> kGitHubScopes = {
    "repo",
    "repo:status",
    "repo_deployment",
    "public_repo",
    "repo:invite",
    "security_events",
    "admin:repo_hook",
    "write:repo_hook",
    "read:repo_hook",
    "admin:org",
    "write:org",
    "read:org",
    "admin:public_key",
    "write:public_key",
    "read:public_key",
    "admin:org_hook",
    "gist",
    "notifications",
    "user",
    "read:user",
    "user:email",
    "user:follow",
    "project",
    "read:project",
    "delete_repo",
    "write:packages",
    "read:packages",
    "delete:packages",
    "admin:gpg_key",
    "write:gpg_key",
    "read:gpg_key",
    "admin:ssh_signing_key",
    "write:ssh_signing_key",
    "read:ssh_signing_key",
    "codespace",
    "workflow",
    "admin:enterprise",
    "manage_runners:enterprise",
    "manage_billing:enterprise",
    "read:enterprise",
    "audit_log",
    "read:audit_log",
    "copilot",
    "manage_billing:copilot",
    "site_admin",
};

// Dropbox developer docs, "OAuth Guide" (scopes) and the scopes tab of the App Console.
const std::vector<std::string_view> kDropboxScopes = {
    "account_info.read",
    "account_info.write",
    "files.metadata.read",
    "files.metadata.write",
    "files.content.read",
    "files.content.write",
    "files.permanent_delete",
    "sharing.read",
    "sharing.write",
    "file_requests.read",
    "file_requests.write",
    "contacts.read",
    "contacts.write",
    "openid",
    "email",
    "profile",
};

// Google Identity docs, "OAuth 2.0 Scopes for Google APIs" (Drive API v3 and Google Sign-In).
const std::vector<std::string_view> kGoogleScopes = {
    "openid",
    "email",
    "profile",
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/drive.file",
    "https://www.googleapis.com/auth/drive.readonly",
    "https://www.googleapis.com/auth/drive.metadata.readonly",
    "https://www.googleapis.com/auth/drive.metadata",
    "https://www.googleapis.com/auth/drive.appdata",
    "https://www.googleapis.com/auth/drive.photos.readonly",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/userinfo.profile",
};

// Zenodo developer docs, "Authentication" (OAuth 2.0 scopes).
const std::vector<std::string_view> kZenodoScopes = {"deposit:write", "deposit:actions",
                                                     "user:email"};

// OpenID Connect Core 1.0 §5.4 (claims scopes) and §11 (offline_access).
const std::vector<std::string_view> kOidcScopes = {"openid",  "profile",        "email",
                                                   "address", "offline_access", "phone"};

bool Has(const std::vector<std::string>& scopes, std::string_view name) {
  return std::find(scopes.begin(), scopes.end(), name) != scopes.end();
}

bool HasAny(const std::vector<std::string>& scopes, std::initializer_list<std::string_view> names) {
  return std::any_of(names.begin(), names.end(),
                     [&](std::string_view name) { return Has(scopes, name); });
}

bool IsKnown(core::ProviderKind kind, std::string_view scope,
             const std::vector<std::string>& extra) {
  const auto& known = KnownScopes(kind);
  return std::find(known.begin(), known.end(), scope) != known.end()
         || std::find(extra.begin(), extra.end(), scope) != extra.end();
}

std::string Code(std::string_view text) {
  return "`" + Printable(text) + "`";
}

// What the "scopes" check found, sentence by sentence.
struct Findings {
  std::vector<std::string> failures;
  std::vector<std::string> warnings;
  std::vector<std::string> fixes;

  void Fail(std::string detail, std::string fix) {
    failures.push_back(std::move(detail));
    fixes.push_back(std::move(fix));
  }
  void Warn(std::string detail, std::string fix) {
    warnings.push_back(std::move(detail));
    fixes.push_back(std::move(fix));
  }
};

std::string Sentences(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& part : parts) {
    out += (out.empty() ? "" : " ") + part;
  }
  return out;
}

// Where the kind's application registration lists its scopes, for "enable it there too".
std::string WhereScopesAreEnabled(core::ProviderKind kind) {
  switch (kind) {
    case core::ProviderKind::kGitLab:
      return " and tick the same scopes in the GitLab application (Admin area → Applications, or "
             "the group's or user's Applications)";
    case core::ProviderKind::kDropbox:
      return " and tick the same scopes on the Permissions tab of the Dropbox App Console";
    case core::ProviderKind::kGoogle:
      return " and add the same scopes to the OAuth consent screen in the Google Cloud Console";
    default:
      return "";
  }
}

void UnknownScope(const core::Provider& provider, const std::string& scope,
                  const std::vector<std::string>& oidc_supported, Findings& findings) {
  const std::string kind = KindName(provider.kind);
  const std::string closest = ClosestScope(provider.kind, scope, oidc_supported);
  const std::string guess = closest.empty() ? "." : "; did you mean " + Code(closest) + "?";
  const std::string replace =
      closest.empty()
          ? "In Scope, remove " + Code(scope) + " or replace it with a scope " + kind + " documents"
          : "In Scope, replace " + Code(scope) + " with " + Code(closest);
  const std::string fix = replace + WhereScopesAreEnabled(provider.kind) + ".";
  // Google publishes scopes for hundreds of APIs; keybridge knows Drive's. An unknown
  // googleapis.com scope may be right, so it only warns.
  if (provider.kind == core::ProviderKind::kGoogle
      && std::string_view(scope).substr(0, kGooglePrefix.size()) == kGooglePrefix) {
    findings.Warn(Code(scope) + " is not a Google Drive or sign-in scope keybridge knows" + guess
                      + " Google will refuse it if no enabled API defines it.",
                  fix);
    return;
  }
  // Without scopes_supported an OIDC issuer may define any scope (OIDC Core 1.0 §5.4 lists only
  // the standard ones).
  if (provider.kind == core::ProviderKind::kGenericOidc && oidc_supported.empty()) {
    findings.Warn(Code(scope) + " is not a standard OpenID Connect scope and the issuer publishes "
                      "no scopes_supported, so keybridge cannot tell whether it knows it" + guess,
                  fix);
    return;
  }
  const std::string where = provider.kind == core::ProviderKind::kGenericOidc
                                ? "in the issuer's scopes_supported"
                                : "a " + kind + " scope";
  findings.Fail(Code(scope) + " is not " + where + guess, fix);
}

void CapabilityWarnings(const core::Provider& provider, const std::vector<std::string>& scopes,
                        Findings& findings) {
  const bool registry = provider.image_registry_url && !provider.image_registry_url->empty();
  switch (provider.kind) {
    case core::ProviderKind::kGitLab:
      // GitLab docs, "Personal access tokens" scope table: `api` includes repository and
      // registry access; read_repository/write_repository allow git over HTTP.
      if (!HasAny(scopes, {"api", "read_repository", "write_repository"})) {
        findings.Warn(
            "Without api, read_repository or write_repository, sessions cannot clone "
            "(nor push).",
            "Add read_repository write_repository to Scope (or api).");
      } else if (!HasAny(scopes, {"api", "write_repository"})) {
        findings.Warn("Without write_repository or api, sessions cannot git push.",
                      "Add write_repository to Scope if sessions should push.");
      }
      if (registry && !HasAny(scopes, {"api", "read_registry", "write_registry"})) {
        findings.Warn(
            "The integration has an Image Registry URL but no read_registry scope, so "
            "sessions cannot pull images with its tokens.",
            "Add read_registry to Scope.");
      }
      break;
    case core::ProviderKind::kGitHub:
      if (core::IsGitHubApp(provider)) {
        break;
      }
      // GitHub docs, "Working with the Container registry": pulling needs read:packages, which
      // write:packages includes ("Scopes for OAuth apps").
      if (registry && !HasAny(scopes, {"read:packages", "write:packages", "delete:packages"})) {
        findings.Warn(
            "The integration has an Image Registry URL but no read:packages scope, so "
            "sessions cannot pull images with its tokens.",
            "Add read:packages to Scope.");
      }
      break;
    case core::ProviderKind::kGenericOidc:
      if (!Has(scopes, "openid")) {
        findings.Warn(
            "Without openid the issuer answers as a plain OAuth 2.0 server: no ID "
            "token, and many issuers refuse the userinfo request keybridge reads the "
            "account from (OIDC Core 1.0 §3.1.2.1).",
            "Add openid to Scope.");
      }
      break;
    case core::ProviderKind::kGoogle: {
      const std::string drive(kGooglePrefix);
      if (!HasAny(scopes, {drive + "drive", drive + "drive.readonly", drive + "drive.file"})) {
        findings.Warn("None of the scopes lets sessions read files in Google Drive.",
                      "Add " + drive + "drive (or drive.readonly) to Scope.");
      }
      break;
    }
    case core::ProviderKind::kDropbox:
      if (!Has(scopes, "files.content.read")) {
        findings.Warn("Without files.content.read sessions cannot read files in Dropbox.",
                      "Add files.content.read to Scope.");
      }
      break;
    case core::ProviderKind::kZenodo:
      break;
  }
}

}  // namespace

const std::vector<std::string_view>& KnownScopes(core::ProviderKind kind) {
  switch (kind) {
    case core::ProviderKind::kGitLab:
      return kGitLabScopes;
    case core::ProviderKind::kGitHub:
      return kGitHubScopes;
    case core::ProviderKind::kGenericOidc:
      return kOidcScopes;
    case core::ProviderKind::kDropbox:
      return kDropboxScopes;
    case core::ProviderKind::kGoogle:
      return kGoogleScopes;
    case core::ProviderKind::kZenodo:
      return kZenodoScopes;
  }
  return kOidcScopes;
}

std::vector<std::string> SplitScopes(std::string_view scope) {
  std::vector<std::string> out;
  std::string current;
  for (const char c : scope) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      if (!current.empty()) {
        out.push_back(std::move(current));
        current.clear();
      }
    } else {
      current += c;
    }
  }
  if (!current.empty()) {
    out.push_back(std::move(current));
  }
  return out;
}

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string ClosestScope(core::ProviderKind kind, std::string_view scope,
                         const std::vector<std::string>& extra) {
  std::vector<std::string> candidates(KnownScopes(kind).begin(), KnownScopes(kind).end());
  candidates.insert(candidates.end(), extra.begin(), extra.end());
  const std::string lower = core::AsciiLower(scope);
  // Google's short names ("drive.readonly") are compared without the URL prefix.
  std::string_view wanted = scope;
  if (kind == core::ProviderKind::kGoogle
      && wanted.substr(0, kGooglePrefix.size()) == kGooglePrefix) {
    wanted.remove_prefix(kGooglePrefix.size());
  }
  const auto short_name = [&](std::string_view name) {
    return kind == core::ProviderKind::kGoogle
                   && name.substr(0, kGooglePrefix.size()) == kGooglePrefix
               ? name.substr(kGooglePrefix.size())
               : name;
  };
  // A case slip, or a Google short name for its URL.
  for (const auto& candidate : candidates) {
    if (core::AsciiLower(candidate) == lower || core::AsciiLower(short_name(candidate)) == lower) {
      return candidate;
    }
  }
  std::string best;
  // An abbreviation: the shortest known name it starts.
  for (const auto& candidate : candidates) {
    const std::string_view name = short_name(candidate);
    if (wanted.size() >= 3 && name.size() > wanted.size() && name.substr(0, wanted.size()) == wanted
        && (best.empty() || candidate.size() < best.size())) {
      best = candidate;
    }
  }
  if (!best.empty()) {
    return best;
  }
  std::size_t best_distance = 0;
  for (const auto& candidate : candidates) {
    const std::size_t distance = EditDistance(wanted, short_name(candidate));
    if (best.empty() || distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  const std::size_t longer = std::max(wanted.size(), best.empty() ? 0 : short_name(best).size());
  return !best.empty() && best_distance <= std::max<std::size_t>(2, longer / 3) ? best : "";
}

CheckResult ScopesCheck(const core::Provider& provider,
                        const std::vector<std::string>& oidc_scopes_supported) {
  const std::vector<std::string> scopes = SplitScopes(provider.scope);
  Findings findings;
  if (provider.kind == core::ProviderKind::kGitHub && core::IsGitHubApp(provider)) {
    // GitHub docs, "Differences between GitHub Apps and OAuth apps": a GitHub App's access is
    // its permissions, set in the App's settings; a scope in the authorize request is ignored.
    if (scopes.empty()) {
      return SkippedCheck(kCheckScopes,
                          "a GitHub App has no OAuth scopes: its permissions are set in the "
                          "App's settings on GitHub");
    }
    return MakeCheck(kCheckScopes, CheckStatus::kWarn,
                     "a GitHub App has no OAuth scopes, so GitHub ignores " + Code(provider.scope)
                         + ": the App's permissions decide what its tokens can do",
                     "Clear Scope, and set the permissions in the GitHub App's settings.");
  }
  for (const auto& scope : scopes) {
    if (!IsKnown(provider.kind, scope, oidc_scopes_supported)) {
      UnknownScope(provider, scope, oidc_scopes_supported, findings);
    }
  }
  CapabilityWarnings(provider, scopes, findings);
  if (findings.failures.empty() && findings.warnings.empty()) {
    return MakeCheck(kCheckScopes, CheckStatus::kPass,
                     scopes.empty()
                         ? "no scopes are requested"
                         : "every scope is one " + KindName(provider.kind) + " documents");
  }
  std::vector<std::string> details = findings.failures;
  details.insert(details.end(), findings.warnings.begin(), findings.warnings.end());
  return MakeCheck(kCheckScopes,
                   findings.failures.empty() ? CheckStatus::kWarn : CheckStatus::kFail,
                   Sentences(details), Sentences(findings.fixes));
}

}  // namespace keybridge::oauth
