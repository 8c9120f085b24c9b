// The pure half of the repository check (GET /api/data/repository): reading the
// repository URL a caller sends and deciding which provider serves it. service/repository_service
// does the I/O around it.
//
// Matching rule (deterministic, unlike "the first provider whose host:port equals"): among the
// providers that have a repository API (GitLab, and GitHub Apps, i.e. GitHub providers without an
// image_registry_url), the one whose URL is the LONGEST prefix of the repository URL wins. A
// provider URL is a prefix when the scheme is the same, the host is the same (case-insensitively),
// the effective port is the same (443/80 when absent) and the provider URL's path, without trailing
// slashes, equals the repository path or is followed in it by '/' (segment boundaries: /groupA
// matches /groupA/x but not /groupAB/x). Paths are compared in the form RepositoryPathKey gives
// them (case-insensitively, without trailing slashes and one ".git" suffix), the same comparison
// SameRepository makes for session scopes: two URLs that name the same repository for a session's
// scope are always served by the same provider. Equal prefixes (the same URL registered twice,
// also in another case) go to the smaller provider id.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/provider.h"
#include "core/url.h"

namespace keybridge::core {

// Why a repository URL is unusable; service/ maps these to Renku's error codes.
enum class RepositoryUrlProblem {
  kNoScheme,           // no "scheme://"               -> no_url_scheme
  kNoHost,             // "https:///x", "https://"     -> no_url_host
  kUnsupportedScheme,  // anything but http and https  -> invalid_url_scheme
  kInvalid,            // anything else (see below)    -> invalid_git_url
};

struct RepositoryUrl {
  // The URL as it is reported and probed: surrounding whitespace and trailing slashes removed.
  std::string text;
  Url url;  // `text`, parsed
};

// Parses what a caller sent as `url`. Besides the three Renku problems, kInvalid is returned for a
// URL that does not parse, is longer than kMaxUrlLength, carries credentials (user:pass@), a query
// or a fragment, or has an empty, "." or ".." path segment (also percent-encoded, and also once a
// ".git" suffix is removed from the last one: "owner/...git"), a segment with an encoded '/' or
// '\\' (%2F, %5C) or an encoded control byte, since such a path could name another repository than
// the one a provider path prefix was matched against.
std::variant<RepositoryUrl, RepositoryUrlProblem> ParseRepositoryUrl(std::string_view text);

// Whether `provider` can be matched at all: gitlab, or github without an image registry (GitHub
// OAuth Apps registered for ghcr.io never serve repositories). generic_oidc has no repository API,
// and the data connectors (dropbox, google, zenodo) serve data, not repositories.
bool ServesRepositories(const Provider& provider);

struct ProviderMatch {
  std::size_t index = 0;  // into the vector passed to MatchProvider
  // The repository path below the provider's URL path, without leading or trailing slashes
  // ("group/project.git" for https://host/gitlab/group/project.git under https://host/gitlab).
  std::string repository_path;
};

// The provider that serves `repository` under the rule in this header's comment, or nullopt.
// Providers whose URL does not parse or has a query or fragment never match. O(providers).
std::optional<ProviderMatch> MatchProvider(const std::vector<Provider>& providers,
                                           const Url& repository);

}  // namespace keybridge::core

namespace keybridge::core {

// The one form in which repository paths are compared, by SameRepository (session scopes) and by
// MatchProvider (which integration serves a URL): without trailing slashes and one ".git" suffix,
// ASCII lower-cased (GitLab and GitHub both resolve repository paths without regard to case).
// Only shortens the end and folds case, so a prefix of the key has the same length in `path`.
std::string RepositoryPathKey(std::string_view path);

// Whether two repository URLs name the same repository: same scheme, host (case-insensitively)
// and effective port, and the same RepositoryPathKey. Used to hold a session token scoped to
// repository A to exactly A.
bool SameRepository(const Url& a, const Url& b);

}  // namespace keybridge::core
