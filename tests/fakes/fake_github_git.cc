// FakeGitHub's git over smart HTTP on the web host: GitHub's user-token rules and messages in
// front of git http-backend, and the helpers tests use to seed and read repositories.
#include <algorithm>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "core/text.h"
#include "crypto/hash.h"
#include "fakes/fake_github.h"
#include "fakes/fake_github_wire.h"

namespace keybridge::fakes {

using namespace github_wire;  // NOLINT(google-build-using-namespace): this fake's own helpers

std::string FakeGitHub::GitUrl(const std::string& full_name) const {
  return BaseUrl() + "/" + full_name + ".git";
}

std::string FakeGitHub::SeedRepository(const std::string& full_name, const GitFiles& files,
                                       const std::string& message) {
  std::string name;
  std::string branch;
  {
    const std::lock_guard lock(mutex_);
    const GitHubRepository* repository = FindRepositoryLocked(full_name);
    if (repository == nullptr) {
      throw std::runtime_error("SeedRepository: no repository " + full_name);
    }
    name = repository->full_name + ".git";
    branch = repository->default_branch;
  }
  return git_->Commit(name, branch, files, message);
}

std::optional<std::string> FakeGitHub::ReadFileFromHead(const std::string& full_name,
                                                        const std::string& file) const {
  std::string name;
  {
    const std::lock_guard lock(mutex_);
    const GitHubRepository* repository = FindRepositoryLocked(full_name);
    if (repository == nullptr) {
      return std::nullopt;
    }
    name = repository->full_name + ".git";
  }
  return git_->ReadFile(name, "HEAD", file);
}

std::vector<std::string> FakeGitHub::GitUsernames() const {
  const std::lock_guard lock(mutex_);
  return git_usernames_;
}

const GitHubRepository* FakeGitHub::FindRepositoryLocked(std::string_view full_name) const {
  const std::string wanted = core::AsciiLower(full_name);
  // The newest registration wins, as AddRepository appends.
  const auto found = std::find_if(repositories_.rbegin(), repositories_.rend(),
                                  [&wanted](const GitHubRepository& repository) {
                                    return core::AsciiLower(repository.full_name) == wanted;
                                  });
  return found == repositories_.rend() ? nullptr : &*found;
}

http::Response FakeGitHub::GitRequest(const http::Request& request, const GitRoute& route) {
  const bool push = route.IsPush();
  const auto unauthorized = [](std::string_view body) {
    return GitTextResponse(401, body).WithHeader("WWW-Authenticate", "Basic realm=\"GitHub\"");
  };
  GitPermission permission;
  std::string name;
  {
    const std::lock_guard lock(mutex_);
    const GitHubRepository* repository = FindRepositoryLocked(route.repository);
    const auto credentials = ParseBasicAuth(request);
    if (!credentials || credentials->second.empty()) {
      // Anonymous: public repositories can be fetched; everything else asks for credentials,
      // whether or not the repository exists.
      if (repository == nullptr || repository->visibility != "public" || push) {
        return unauthorized("");
      }
      name = repository->full_name + ".git";
    } else {
      git_usernames_.push_back(credentials->first);
      // Any non-empty username goes with a user-to-server token [obs]; the password is the token.
      const AccessCheck check = AuthenticateLocked(credentials->second);
      if (credentials->first.empty() || check.state != TokenState::kValid) {
        return unauthorized(kGitBadCredentials);
      }
      const std::int64_t user_id = check.record.user.id;
      if (repository == nullptr || !RepositoryVisibleLocked(*repository, user_id)) {
        return GitTextResponse(404, kGitRepositoryNotFound);
      }
      // What the App may do on this repository: its installation's contents permission.
      std::string contents;
      for (const auto& installation : installations_) {
        if (installation.id == repository->installation_id && !installation.suspended) {
          const auto it = installation.permissions.find("contents");
          contents = it == installation.permissions.end() ? "" : it->second;
        }
      }
      const auto role = repository->collaborators.find(user_id);
      const bool user_can_push =
          role != repository->collaborators.end()
          && (role->second.push || role->second.maintain || role->second.admin);
      if (push) {
        // A user token can do only what both the user and the App may do (GitHub docs:
        // "Authenticating with a GitHub App on behalf of a user"); the App's missing contents:write
        // is reported even when the user could push.
        if (contents != "write") {
          return GitTextResponse(403, kGitWriteNotGranted);
        }
        if (!user_can_push) {
          return GitTextResponse(403, "Permission to " + repository->full_name + ".git denied to "
                                          + check.record.user.username + ".");
        }
        if (repository->archived) {
          return GitTextResponse(403, kGitArchived);
        }
        permission.allow_push = true;
        permission.protected_branches = repository->protected_branches;
        permission.protected_message = std::string(kGitProtectedBranch);
      } else if (repository->visibility != "public" && contents != "read" && contents != "write") {
        // Seen on clones of private repositories outside the App's grant [obs].
        return GitTextResponse(403, kGitWriteNotGranted);
      }
      permission.remote_user = check.record.user.username;
      name = repository->full_name + ".git";
    }
  }
  return git_->Serve(request, name, route, permission);
}

}  // namespace keybridge::fakes
