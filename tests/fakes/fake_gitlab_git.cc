// FakeGitLab's git over smart HTTP: GitLab's git authentication and error messages in front
// of git http-backend, and the helpers tests use to seed and read repositories.
#include <algorithm>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "core/text.h"
#include "core/url.h"
#include "crypto/hash.h"
#include "fakes/fake_gitlab.h"
#include "fakes/fake_gitlab_wire.h"

namespace keybridge::fakes {

using namespace gitlab_wire;  // NOLINT(google-build-using-namespace): this fake's own helpers

std::string FakeGitLab::GitUrl(const std::string& path_with_namespace) const {
  return BaseUrl() + "/" + path_with_namespace + ".git";
}

std::string FakeGitLab::SeedRepository(const std::string& path_with_namespace,
                                       const GitFiles& files, const std::string& message) {
  std::string repository;
  std::string branch;
  {
    const std::lock_guard lock(mutex_);
    const GitLabProject* project = FindProjectLocked(path_with_namespace);
    if (project == nullptr) {
      throw std::runtime_error("SeedRepository: no project " + path_with_namespace);
    }
    repository = project->path_with_namespace + ".git";
    branch = project->default_branch;
  }
  return git_->Commit(repository, branch, files, message);
}

std::optional<std::string> FakeGitLab::ReadFileFromHead(const std::string& path_with_namespace,
                                                        const std::string& file) const {
  std::string repository;
  {
    const std::lock_guard lock(mutex_);
    const GitLabProject* project = FindProjectLocked(path_with_namespace);
    if (project == nullptr) {
      return std::nullopt;
    }
    repository = project->path_with_namespace + ".git";
  }
  return git_->ReadFile(repository, "HEAD", file);
}

const GitLabProject* FakeGitLab::FindProjectLocked(std::string_view path_with_namespace) const {
  const std::string wanted = core::AsciiLower(path_with_namespace);
  for (const auto& project : projects_) {
    if (core::AsciiLower(project.path_with_namespace) == wanted) {
      return &project;
    }
  }
  return nullptr;
}

http::Response FakeGitLab::GitRequest(const http::Request& request, const GitRoute& route) {
  const bool push = route.IsPush();
  const auto unauthorized = [](std::string_view body) {
    return GitTextResponse(401, body).WithHeader("WWW-Authenticate", "Basic realm=\"GitLab\"");
  };
  GitPermission permission;
  std::string repository;
  {
    const std::lock_guard lock(mutex_);
    const GitLabProject* project = FindProjectLocked(route.repository);
    const auto credentials = ParseBasicAuth(request);
    if (!credentials) {
      // The same challenge for private and missing projects, so existence does not leak; git then
      // asks its credential helpers and retries.
      if (project == nullptr || project->visibility != "public" || push) {
        return unauthorized("HTTP Basic: Access denied");
      }
      repository = project->path_with_namespace + ".git";
    } else {
      const std::string denied =
          std::string(kGitAccessDenied) + BaseUrl() + std::string(kGitAccessDeniedHelp);
      // Older GitLab looks at OAuth tokens only for the login "oauth2"
      // (Gitlab::Auth#oauth_access_token_check); anything else is a failed password login.
      if (require_oauth2_username_ && credentials->first != "oauth2") {
        return unauthorized(denied);
      }
      const AccessCheck check = AuthenticateLocked(credentials->second);
      if (check.state != TokenState::kValid) {
        return unauthorized(denied);
      }
      // Gitlab::Auth#abilities_for_scopes: a token without any git ability is rejected outright.
      const std::vector<std::string> scopes = SplitScopes(check.record.scope);
      const auto has = [&](std::string_view scope) {
        return Contains(scopes, scope);
      };
      const bool can_push_scope = has("api") || has("write_repository");
      const bool can_download_scope = can_push_scope || has("read_api") || has("read_repository");
      if (!can_download_scope) {
        return unauthorized(denied);
      }
      // GitAccess#check_authentication_abilities! runs before the project checks.
      if (push && !can_push_scope) {
        return GitTextResponse(403, kGitUploadDenied);
      }
      const std::int64_t user_id = check.record.user.id;
      const int level = project == nullptr ? 0 : HighestAccess(*project, user_id);
      const bool visible = project != nullptr
                           && (project->visibility == "public" || project->visibility == "internal"
                               || level >= kGitLabGuest);
      if (!visible) {
        return GitTextResponse(404, kGitProjectNotFound);
      }
      if (push) {
        if (project->archived) {
          return GitTextResponse(403, kGitArchived);
        }
        if (level < kGitLabDeveloper) {
          return GitTextResponse(403, kGitPushDenied);
        }
        permission.allow_push = true;
        if (level < kGitLabMaintainer) {
          permission.protected_branches = project->protected_branches;
          permission.protected_message = std::string(kGitProtectedBranch);
        }
      } else if (project->visibility == "private" && level < kGitLabReporter) {
        return GitTextResponse(403, kGitDownloadDenied);  // a Guest sees the project, not the code
      }
      permission.remote_user = check.record.user.username;
      repository = project->path_with_namespace + ".git";
    }
  }
  return git_->Serve(request, repository, route, permission);
}

}  // namespace keybridge::fakes
