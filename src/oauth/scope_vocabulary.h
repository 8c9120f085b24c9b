// The scope names each provider kind documents, and the integration check's "scopes" item.
//
// Administrators misspell scopes (`read_repo` for `read_repository`). GitLab shows the error
// ("The requested scope is invalid, unknown, or malformed.") only to a signed-in browser, after
// the client id and secret were accepted, so the other checks pass and the first user meets the
// provider's error page. Comparing the configured scope with the provider's documented names
// catches this before anyone connects. Pure: no I/O (the OIDC issuer's `scopes_supported` comes
// from discovery the caller already did).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/provider.h"
#include "oauth/provider_check.h"

namespace keybridge::oauth {

// The scope names a provider of `kind` documents. For github these are the OAuth App scopes (a
// GitHub App has none); for google the short names are completed with
// https://www.googleapis.com/auth/ except openid, email and profile; for generic_oidc the OIDC
// Core 1.0 §5.4 and §11 ones.
const std::vector<std::string_view>& KnownScopes(core::ProviderKind kind);

// The configured scope split on whitespace (RFC 6749 §3.3: space-delimited), duplicates kept.
std::vector<std::string> SplitScopes(std::string_view scope);

// Levenshtein distance (insertions, deletions, substitutions; ASCII case-sensitive).
std::size_t EditDistance(std::string_view a, std::string_view b);

// The known name an unknown `scope` most likely meant, or "" when none is close: one equal but
// for case (or a Google Drive short name: `drive` for its URL), the shortest known name that
// starts with `scope` (an abbreviation: `read_repo`), else the one at the smallest edit distance
// if it is at most max(2, a third of the longer name). Plain edit distance alone would pick
// `read_api` for `read_repo`.
// `extra` are further known names (an OIDC issuer's scopes_supported).
std::string ClosestScope(core::ProviderKind kind, std::string_view scope,
                         const std::vector<std::string>& extra = {});

// The "scopes" check. Fails for a scope the provider does not document (naming the closest known
// one and the fix); warns for what the scopes cannot do (GitLab: clone, push, image pulls; a
// GitHub OAuth App with an image registry: pulls; Google and Dropbox: read files; generic_oidc
// without openid), for a scope on a GitHub App (ignored: its permissions are set in the App),
// for unknown googleapis.com scopes and, when the issuer publishes no `scopes_supported`
// (`oidc_scopes_supported` empty), unknown generic_oidc scopes.
CheckResult ScopesCheck(const core::Provider& provider,
                        const std::vector<std::string>& oidc_scopes_supported = {});

}  // namespace keybridge::oauth
