// FakeGitLab: a loopback GitLab (Doorkeeper OAuth server + the REST calls keybridge makes) that
// reproduces what GitLab sends on the wire: exact Doorkeeper error bodies, HTML
// error pages instead of redirects, strict or grace-period refresh rotation, the three 401 bodies,
// project permissions and plain-text 429s. Every route lives under Options::path_prefix.
// Projects are real bare git repositories served over smart HTTP (git http-backend) with GitLab's
// git authentication and error messages (as git prints them after "remote: ").
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fakes/fake_oauth_provider.h"
#include "fakes/git_http_backend.h"
#include "fakes/registry_token.h"
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
  // Branches only Maintainers (and above) may push to; a Developer's push is refused inside the
  // receive-pack report (HTTP 200). Empty: nothing protected (real GitLab protects the default
  // branch unless configured otherwise).
  std::vector<std::string> protected_branches{};
};

class FakeGitLab final : public FakeOAuthProvider {
 public:
  struct Options : FakeOAuthProvider::Options {
    Options();  // GitLab defaults: 7200 s access tokens, refresh tokens without expiry
    // "" or a path such as "/gitlab" (relative URL root). Fixed at construction.
    std::string path_prefix;
    // The scopes registered for the application; authorize rejects anything else.
    // read_registry: the container registry scope the admin UI prefills (GitLab docs, "Scopes").
    std::vector<std::string> allowed_scopes = {
        "api", "read_api", "read_user", "read_repository", "write_repository", "read_registry"};
    std::string default_scope = "api";  // granted when authorize carries no scope
    // Doorkeeper with a previous_refresh_token column: the old refresh (and access) token keep
    // working until the new access token is first used. Default: strict single use.
    bool refresh_grace_until_first_use = false;
    // Git over HTTP: true is the older GitLab that only takes an OAuth token with the Basic
    // username "oauth2"; false accepts any username (GitLab 14+).
    bool require_oauth2_username = true;
    // Container registry token service (GET /jwt/auth): the `iss` of its JWTs, which the
    // registry's `auth.token.issuer` must name.
    std::string registry_issuer = "gitlab-issuer";
    // Whether /jwt/auth takes an OAuth access token as the Basic password. GitLab versions
    // differ; off answers 401 as for a bad password (personal access tokens are not modelled).
    bool registry_accepts_oauth_tokens = false;
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
  void SetRequireOauth2Username(bool require);
  // --- Container registry token service (GET /jwt/auth) ---
  // BaseUrl() + "/jwt/auth": the `auth.token.realm` of a registry that trusts this fake.
  std::string RegistryTokenUrl() const;
  std::string RegistryIssuer() const;
  // A PEM file with the certificate the registry tokens carry in `x5c` (`rootcertbundle`).
  std::string RegistryCertificatePath();
  void SetRegistryAcceptsOAuthTokens(bool accept);
  // Seconds a registry token lives (`expires_in`); GitLab's default is 300.
  void SetRegistryTokenLifetime(core::Seconds lifetime);

  // Registers (or replaces, by path) a project; returns its id. Also creates its bare repository
  // (empty, HEAD -> default_branch) unless it exists, so it can be cloned and pushed to at once.
  // Throws std::runtime_error if git fails.
  std::int64_t AddProject(GitLabProject project);

  // --- Git over smart HTTP ---
  // BaseUrl() + "/" + path_with_namespace + ".git", the project's http_url_to_repo.
  std::string GitUrl(const std::string& path_with_namespace) const;
  // Commits `files` onto the project's default branch; returns the commit id. The project must
  // have been added. Throws std::runtime_error if git fails.
  std::string SeedRepository(const std::string& path_with_namespace, const GitFiles& files,
                             const std::string& message = "Initial commit");
  // `file` as of the project's HEAD (default branch), e.g. to check that a push landed; nullopt
  // if the project, the branch or the file does not exist.
  std::optional<std::string> ReadFileFromHead(const std::string& path_with_namespace,
                                              const std::string& file) const;
  // The repositories themselves; project P lives at P + ".git" (see GitHttpBackend).
  GitHttpBackend& Git() { return *git_; }

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
  // Smart HTTP: GitLab's git authentication and access checks, then git http-backend.
  http::Response GitRequest(const http::Request& request, const GitRoute& route);
  const GitLabProject* FindProjectLocked(std::string_view path_with_namespace) const;
  // The project an image path belongs to: the project itself or a path below it.
  const GitLabProject* FindProjectOfImageLocked(std::string_view image_path) const;
  http::Response RegistryToken(const http::Request& request);

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
  bool require_oauth2_username_ = true;
  bool registry_accepts_oauth_tokens_ = false;
  core::Seconds registry_token_lifetime_{300};
  std::unique_ptr<RegistryTokenIssuer> registry_issuer_;  // thread-safe on its own
  // Declared last: created before the servers start, destroyed after they stopped.
  std::unique_ptr<GitHttpBackend> git_;
};

}  // namespace keybridge::fakes
