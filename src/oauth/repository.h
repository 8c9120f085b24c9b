// The provider half of the repository check (GET /api/data/repository): the REST call that
// describes one repository and the reading of its answer into pull/push permissions and
// visibility. GitLab: GET <api>/projects/<url-encoded path>; GitHub: GET <api>/repos/<owner>/<repo>
// (GitLab docs: Projects API, "Get a single project"; GitHub docs: "Get a repository"). Used by
// service/repository_service.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/http_client.h"
#include "core/provider.h"
#include "core/result.h"
#include "core/secret.h"
#include "oauth/provider_profile.h"

namespace keybridge::oauth {

// Gitlab::Access levels that decide permissions (GitLab docs: "Roles and permissions").
inline constexpr int kGitLabReporterAccess = 20;   // reads the code of a private project
inline constexpr int kGitLabDeveloperAccess = 30;  // pushes to unprotected branches

struct RepositoryMetadata {
  std::string git_url;  // HTTP clone URL
  std::string web_url;  // "" when the provider did not say
  bool pull_permission = false;
  // Unset when nothing is known about pushing (a plain git probe).
  std::optional<bool> push_permission;
  bool is_public = false;  // anonymous users can read it ("public" only; GitLab internal is not)
};

enum class RepositoryLookupOutcome {
  kFound,         // 200 with a usable body: `metadata` is set
  kNotModified,   // 304 to our If-None-Match
  kUnauthorized,  // 401: the token is bad or revoked
  kNotFound,      // 404: missing, or invisible to this token (both providers say 404 for private)
  kInvalidBody,   // 200 whose body is not a repository description
  kFailed,        // any other status (403, 429, 5xx...)
};

struct RepositoryLookup {
  RepositoryLookupOutcome outcome = RepositoryLookupOutcome::kFailed;
  RepositoryMetadata metadata;  // meaningful for kFound
  std::string etag;             // the provider's ETag header, "" if it sent none
  int http_status = 0;
};

// GET request for the repository at `repository_path` (the path below the provider's URL, without
// leading or trailing slashes; a ".git" suffix is dropped; percent-escapes are decoded and the
// parts re-encoded) with ApiHeaders(kind), `Authorization: Bearer` when `access_token` is given
// and `If-None-Match` when `if_none_match` is not empty. 10 s timeout.
// kInvalidArgument if the path cannot name a repository of this kind: GitLab needs at least
// namespace/project, GitHub exactly owner/repo; generic_oidc has no repository API.
core::Result<core::HttpRequest> BuildRepositoryRequest(const core::Provider& provider,
                                                       const ProviderEndpoints& endpoints,
                                                       std::string_view repository_path,
                                                       const core::Secret* access_token,
                                                       std::string_view if_none_match);

// Reads the answer to BuildRepositoryRequest. Permissions:
// - GitLab: pull when visibility is public or internal, or when max(project_access,
//   group_access) >= Reporter (20; Renku's Guest 10 cannot read private code); push when that
//   level >= Developer (30). A repository feature that is "disabled" gives neither; one that is
//   "private" (members only) ignores visibility. Public only for visibility "public".
// - GitHub: pull = permissions.pull or public; push = permissions.push; public when visibility
//   is "public" (or, without a visibility field, when private is false).
// Without a permissions object push is false (a lower bound: GitLab omits access through shared
// groups). A 200 without http_url_to_repo/clone_url is kInvalidBody.
RepositoryLookup ParseRepositoryResponse(core::ProviderKind kind,
                                         const core::HttpResponse& response);

}  // namespace keybridge::oauth
