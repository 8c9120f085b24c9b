// FakeGitLab: a loopback GitLab (Doorkeeper OAuth server + the REST calls keybridge makes) that
// reproduces the provider wire facts (§1, GitLab): exact Doorkeeper error bodies, HTML
// error pages instead of redirects, strict or grace-period refresh rotation, the three 401 bodies,
// project permissions and plain-text 429s. Every route lives under Options::path_prefix.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fakes/fake_oauth_provider.h"
#include "http/router.h"

namespace keybridge::fakes {

// Gitlab::Access levels.
inline constexpr int kGitLabGuest = 10;
inline constexpr int kGitLabReporter = 20;
inline constexpr int kGitLabDeveloper = 30;
inline constexpr int kGitLabMaintainer = 40;
inline constexpr int kGitLabOwner = 50;

struct GitLabProject {
  std::int64_t id = 0;                 // 0: AddProject assigns one
  std::string path_with_namespace{};   // "group/sub/project"
  std::string visibility = "private";  // "private" | "internal" | "public"
  std::string default_branch = "main";
  bool archived = false;
  // Direct project membership (user id -> access level): permissions.project_access.
  std::map<std::int64_t, int> members{};
  // Highest membership in the project's group or its ancestors: permissions.group_access.
  std::map<std::int64_t, int> group_members{};
  // Access through a group the project is shared with. It makes the project visible but shows in
  // neither permissions field (both null), as on real GitLab.
  std::map<std::int64_t, int> shared_group_members{};
};

class FakeGitLab final : public FakeOAuthProvider {
 public:
  struct Options : FakeOAuthProvider::Options {
    Options();  // GitLab defaults: 7200 s access tokens, refresh tokens without expiry
    // "" or a path such as "/gitlab" (relative URL root). Fixed at construction.
    std::string path_prefix;
    // The scopes registered for the application; authorize rejects anything else.
    std::vector<std::string> allowed_scopes = {"api", "read_api", "read_user", "read_repository",
                                               "write_repository"};
    std::string default_scope = "api";  // granted when authorize carries no scope
    // Doorkeeper with a previous_refresh_token column: the old refresh (and access) token keep
    // working until the new access token is first used. Default: strict single use.
    bool refresh_grace_until_first_use = false;
  };

  // `clock` must outlive the fake. Starts serving on 127.0.0.1 before returning.
  explicit FakeGitLab(const core::Clock& clock, Options options = Options());
  ~FakeGitLab() override;

  std::string BaseUrl() const override;  // http://127.0.0.1:<port><path_prefix>
  std::string AuthorizationEndpoint() const override;
  std::string TokenEndpoint() const override;
  std::string RevocationEndpoint() const;
  std::string ApiBaseUrl() const;  // BaseUrl() + "/api/v4"

  void SetAllowedScopes(std::vector<std::string> scopes);
  void SetRefreshGraceUntilFirstUse(bool grace);
  // While set, every /api/v4 call answers 429 "Retry later" (text/plain) with Retry-After.
  void SetRateLimited(bool limited, core::Seconds retry_after = core::Seconds(60));
  // Registers (or replaces, by path) a project; returns its id.
  std::int64_t AddProject(GitLabProject project);

 private:
  http::Response Handle(http::Request& request);
  http::Response Authorize(http::Request& request, const FormFields& params,
                           std::string_view decision);
  http::Response Token(http::Request& request);
  http::Response TokenFromCode(const FormFields& params, const std::string& client_id);
  http::Response TokenFromRefresh(const FormFields& params, const std::string& client_id);
  http::Response Revoke(http::Request& request);
  http::Response TokenInfo(http::Request& request);
  http::Response User(http::Request& request);
  http::Response Project(http::Request& request, std::string_view encoded_id);
  http::Response NotFound(const http::Request& request) const;
  // Rate limiting, then Bearer authentication and the scope check of the GitLab API. Returns a
  // response to send instead, or nullopt with `check` filled in.
  std::optional<http::Response> AuthenticateApi(const http::Request& request,
                                                const std::vector<std::string>& any_of_scopes,
                                                bool allow_anonymous, AccessCheck& check);
  void AddRateLimitHeaders(http::Response& response);

  std::string NewAccessToken() override;
  std::string NewRefreshToken() override;
  std::string NewCode() override;
  http::Response InjectedFailure(int status, std::optional<int> retry_after_seconds) override;

  const std::string prefix_;
  http::Router router_;
  std::uint16_t port_ = 0;
  // Guarded by mutex_.
  std::vector<std::string> allowed_scopes_;
  std::string default_scope_;
  bool grace_ = false;
  bool rate_limited_ = false;
  core::Seconds retry_after_{60};
  std::vector<GitLabProject> projects_;
  std::int64_t next_project_id_ = 1000;
  std::int64_t api_window_ = 0;  // minute of the current rate-limit window
  int api_calls_in_window_ = 0;
};

}  // namespace keybridge::fakes
