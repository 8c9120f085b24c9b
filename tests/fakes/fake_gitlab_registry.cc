// FakeGitLab's container registry token service, GET /jwt/auth (GitLab's JwtController with
// ContainerRegistryAuthenticationService): HTTP Basic with a token as the password, one JWT for
// the requested `scope`s, and actions the token or the user may not have silently left out.
#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/text.h"
#include "fakes/fake_gitlab.h"
#include "fakes/fake_gitlab_wire.h"

namespace keybridge::fakes {

using namespace gitlab_wire;  // NOLINT(google-build-using-namespace): this fake's own helpers

namespace {

constexpr std::string_view kRegistryService = "container_registry";

}  // namespace

const GitLabProject* FakeGitLab::FindProjectOfImageLocked(std::string_view image_path) const {
  // An image lives at the project path or up to three segments below it; the longest project
  // path that is a prefix on a segment boundary wins.
  const GitLabProject* best = nullptr;
  const std::string wanted = core::AsciiLower(image_path);
  for (const auto& project : projects_) {
    const std::string path = core::AsciiLower(project.path_with_namespace);
    const bool within = wanted == path || (wanted.starts_with(path) && wanted[path.size()] == '/');
    if (within && (best == nullptr || path.size() > best->path_with_namespace.size())) {
      best = &project;
    }
  }
  return best;
}

http::Response FakeGitLab::RegistryToken(const http::Request& request) {
  const FormFields params = request.QueryParams();
  if (FindField(params, "service").value_or("") != kRegistryService) {
    return JsonResponse(404, Json{{"message", "404 Not Found"}});
  }
  const auto denied = [this] {
    const std::string message =
        std::string(kGitAccessDenied) + BaseUrl() + std::string(kGitAccessDeniedHelp);
    return JsonResponse(
        401, Json{{"errors", Json::array({Json{{"code", "UNAUTHORIZED"}, {"message", message}}})}});
  };
  std::vector<RegistryAccess> granted;
  std::string subject;
  core::Seconds lifetime{300};
  {
    const std::lock_guard lock(mutex_);
    lifetime = registry_token_lifetime_;
    std::optional<AccessCheck> check;
    if (const auto credentials = ParseBasicAuth(request)) {
      // Any user name goes with a token; only the token decides (GitLab 14+).
      AccessCheck found = AuthenticateLocked(credentials->second);
      if (!registry_accepts_oauth_tokens_ || found.state != TokenState::kValid) {
        return denied();
      }
      check = std::move(found);
      subject = check->record.user.username;
    }
    // ContainerRegistryAuthenticationService: read_registry allows pull, write_registry push,
    // api both (GitLab docs, "Personal access token scopes" / "OAuth 2.0 scopes").
    bool scope_pull = false;
    bool scope_push = false;
    if (check) {
      const std::vector<std::string> scopes = SplitScopes(check->record.scope);
      scope_pull = Contains(scopes, "api") || Contains(scopes, "read_registry");
      scope_push = Contains(scopes, "api") || Contains(scopes, "write_registry");
    }
    for (const auto& [name, value] : params) {
      if (name != "scope") {
        continue;
      }
      const auto scope = ParseRegistryScope(value);
      if (!scope || scope->type != "repository") {
        continue;
      }
      const GitLabProject* project = FindProjectOfImageLocked(scope->name);
      if (project == nullptr) {
        continue;
      }
      const int level = check ? HighestAccess(*project, check->record.user.id) : 0;
      RegistryAccess access;
      access.name = scope->name;
      for (const std::string& action : scope->actions) {
        bool allowed = false;
        if (action == "pull") {
          allowed = project->visibility == "public"
                    || (check && scope_pull
                        && (project->visibility == "internal" || level >= kGitLabReporter));
        } else if (action == "push") {
          allowed = check && scope_push && level >= kGitLabDeveloper && !project->archived;
        }
        if (allowed && !Contains(access.actions, action)) {
          access.actions.push_back(action);
        }
      }
      if (!access.actions.empty()) {
        granted.push_back(std::move(access));
      }
    }
  }
  // A real registry checks nbf/exp against its own clock, not the test's provider clock.
  const std::int64_t now = core::ToUnixSeconds(std::chrono::system_clock::now());
  const std::string token = registry_issuer_->Sign(subject, std::string(kRegistryService), granted,
                                                   now, lifetime.count(), RandomHex(32));
  return JsonResponse(200, Json{{"token", token},
                                {"expires_in", lifetime.count()},
                                {"issued_at", IsoTime(std::chrono::system_clock::now())}});
}

}  // namespace keybridge::fakes
