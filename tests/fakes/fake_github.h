// FakeGitHub: a loopback GitHub App (user-to-server tokens) for github.com or, with
// Options::enterprise, GitHub Enterprise Server. It reproduces what GitHub sends on the wire:
// HTTP 200 token errors, form-encoded token responses unless Accept: application/json, ghu_/ghr_
// tokens, strict single-use refresh, S256-only PKCE, the mandatory User-Agent, installations with
// Link pagination and rate-limit headers. In github.com mode the REST API runs on a second server
// (ApiBaseUrl(), standing for api.github.com); in Enterprise mode it lives under /api/v3.
// Repositories are real bare git repositories served over smart HTTP on the web host
// (git http-backend) with GitHub's user-token git rules and messages.
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

struct GitHubInstallation {
  std::int64_t id = 0;  // 0: AddInstallation assigns one
  std::string account_login{};
  std::int64_t account_id = 0;
  std::string account_type = "User";         // "User" | "Organization"
  std::string repository_selection = "all";  // "all" | "selected"
  std::map<std::string, std::string> permissions = {{"contents", "write"}, {"metadata", "read"}};
  // Users who can see the installation in GET /user/installations. A "User" installation is
  // also visible to its account (account_id).
  std::vector<std::int64_t> user_ids{};
  bool suspended = false;  // suspended_at is set when true
};

// The user's role on a repository (GET /repos permissions).
struct GitHubRepoPermissions {
  bool admin = false;
  bool maintain = false;
  bool push = false;
  bool triage = false;
  bool pull = true;
};

struct GitHubRepository {
  std::int64_t id = 0;                 // 0: AddRepository assigns one
  std::string full_name{};             // "owner/repo"
  std::string visibility = "private";  // "public" | "private" | "internal"
  std::string default_branch = "main";
  // The installation of this App that covers the repository; 0: not installed there. Without it
  // a user token sees only public repositories.
  std::int64_t installation_id = 0;
  std::map<std::int64_t, GitHubRepoPermissions> collaborators{};  // user id -> role
  bool archived = false;
  // Branch protection: git pushes to these are refused inside the receive-pack report (HTTP 200)
  // with GH006, for every user.
  std::vector<std::string> protected_branches{};
};

class FakeGitHub final : public FakeOAuthProvider {
 public:
  struct Options : FakeOAuthProvider::Options {
    Options();                // GitHub defaults: 28800 s access tokens, 15897600 s refresh tokens
    bool enterprise = false;  // GHES layout; fixed at construction
    std::string enterprise_version = "3.17.0";  // X-GitHub-Enterprise-Version
    // The App's "expire user authorization tokens" setting; off: no expiry, no refresh token.
    bool expiring_tokens = true;
    // false: an older GHES that ignores code_challenge (and code_verifier) entirely.
    bool pkce_supported = true;
    // true: a redirect_uri that is not registered gets an HTML page (what GitHub Apps show);
    // false: a redirect to the first registered callback with error=redirect_uri_mismatch (the
    // documented OAuth-app behaviour).
    bool redirect_uri_mismatch_page = true;
    // Minting one more user token than this revokes the oldest; 0: unlimited.
    std::size_t max_tokens_per_user = 10;
    std::int64_t app_id = 1;
    std::string app_slug = "keybridge-test";  // GET /apps/<app_slug> finds the App
    std::string app_name = "Keybridge Test";
    std::string app_owner = "keybridge-org";  // an Organization login
  };

  // `clock` must outlive the fake. Starts serving on 127.0.0.1 before returning.
  explicit FakeGitHub(const core::Clock& clock, const Options& options = Options());
  ~FakeGitHub() override;

  std::string BaseUrl() const override;  // the web host (github.com / https://HOST)
  std::string AuthorizationEndpoint() const override;
  std::string TokenEndpoint() const override;
  // api.github.com stand-in (github.com mode) or BaseUrl() + "/api/v3" (Enterprise).
  std::string ApiBaseUrl() const;
  bool IsEnterprise() const { return enterprise_; }

  void SetExpiringTokens(bool expiring);
  // The App's slug: GET <api>/apps/<slug> answers only for it (404 for any other slug).
  void SetAppSlug(std::string slug);
  std::string AppSlug() const;
  // While set, authorize redirects back with error=application_suspended.
  void SuspendApplication(bool suspended = true);
  void SetPkceSupported(bool supported);
  // Primary rate limit exhausted: `status` (403 or 429) with x-ratelimit-remaining: 0.
  void SetRateLimited(bool limited, int status = 403);
  // Secondary rate limit: 403 with a retry-after header.
  void SetSecondaryRateLimited(bool limited, core::Seconds retry_after = core::Seconds(60));
  std::int64_t AddInstallation(GitHubInstallation installation);
  // Registers a repository and creates its bare git repository (empty, HEAD -> default_branch)
  // unless it exists. Throws std::runtime_error if git fails.
  std::int64_t AddRepository(GitHubRepository repository);

  // --- Git over smart HTTP on the web host ---
  // BaseUrl() + "/" + full_name + ".git", the repository's clone_url.
  std::string GitUrl(const std::string& full_name) const;
  // Commits `files` onto the repository's default branch; returns the commit id. Throws
  // std::runtime_error if the repository was not added or git fails.
  std::string SeedRepository(const std::string& full_name, const GitFiles& files,
                             const std::string& message = "Initial commit");
  // `file` as of HEAD (the default branch); nullopt if the repository or file does not exist.
  std::optional<std::string> ReadFileFromHead(const std::string& full_name,
                                              const std::string& file) const;
  // Basic-auth usernames of git requests that carried credentials, oldest first (GitHub accepts
  // any username with a user token; keybridge should send "x-access-token").
  std::vector<std::string> GitUsernames() const;
  // The repositories themselves; repository O/R lives at "O/R.git" (see GitHttpBackend).
  GitHttpBackend& Git() { return *git_; }

  TokenPair IssueTokenPair(const FakeUser& user, const std::string& scope) override;
  // A token as an OAuth App (not a GitHub App) issues it: "gho_…", no expiry, no refresh token,
  // with classic scopes such as "read:packages". The API and git accept it like any user token.
  std::string IssueOAuthAppToken(const FakeUser& user, const std::string& scope);

  // --- ghcr.io-like registry token service (GET /token on the web host) ---
  // BaseUrl() + "/token": the `auth.token.realm` of a registry that trusts this fake.
  std::string RegistryTokenUrl() const;
  std::string RegistryIssuer() const;     // "ghcr-fake"
  std::string RegistryCertificatePath();  // PEM of the certificate in the tokens' `x5c`
  // Packages ("owner/image") anyone may pull; everything else needs a token with read:packages.
  void SetPublicPackages(std::vector<std::string> packages);

 private:
  http::Response HandleWeb(http::Request& request);
  http::Response HandleApi(http::Request& request);
  http::Response Authorize(const FormFields& params, std::string_view decision);
  http::Response Token(http::Request& request);
  http::Response TokenFromCode(const FormFields& params, const std::string& client_id);
  http::Response TokenFromRefresh(const FormFields& params, const std::string& client_id);
  http::Response User(const http::Request& request, const TokenRecord& token);
  http::Response Installations(const http::Request& request, const TokenRecord& token);
  http::Response InstallationRepositories(const http::Request& request, const TokenRecord& token);
  http::Response Repository(const http::Request& request, const TokenRecord* token);
  http::Response ApplicationToken(http::Request& request);
  std::string AuthorizeErrorRedirect(const std::string& callback, std::string_view error,
                                     std::string_view description, std::string_view anchor,
                                     const std::optional<std::string>& state) const;
  bool InstallationVisibleLocked(const GitHubInstallation& installation,
                                 std::int64_t user_id) const;
  // Whether `user_id` (0: anonymous) can see the repository through this App.
  bool RepositoryVisibleLocked(const GitHubRepository& repository, std::int64_t user_id) const;
  void AddApiHeaders(http::Response& response);
  // Smart HTTP: GitHub's user-token git checks, then git http-backend.
  http::Response GitRequest(const http::Request& request, const GitRoute& route);
  const GitHubRepository* FindRepositoryLocked(std::string_view full_name) const;
  // The REST representation of the App (GET /apps/{app_slug}), serialised.
  std::string AppJsonLocked() const;
  http::Response RegistryToken(const http::Request& request);

  std::string NewAccessToken() override;
  std::string NewRefreshToken() override;
  std::string NewCode() override;

  const bool enterprise_;
  const std::string enterprise_version_;
  const std::string api_prefix_;  // "" or "/api/v3"
  http::Router web_router_;
  http::Router api_router_;
  std::uint16_t web_port_ = 0;
  std::uint16_t api_port_ = 0;
  // Guarded by mutex_.
  bool expiring_tokens_ = true;
  bool pkce_supported_ = true;
  bool mismatch_page_ = true;
  std::size_t max_tokens_per_user_ = 10;
  std::int64_t app_id_ = 1;
  std::string app_slug_;
  const std::string app_name_;
  const std::string app_owner_;
  bool suspended_ = false;
  bool rate_limited_ = false;
  int rate_limit_status_ = 403;
  bool secondary_limited_ = false;
  core::Seconds secondary_retry_after_{60};
  std::vector<GitHubInstallation> installations_;
  std::vector<GitHubRepository> repositories_;
  std::int64_t next_id_ = 100;
  std::int64_t rate_window_ = 0;  // hour of the current rate-limit window
  int rate_used_ = 0;
  std::vector<std::string> git_usernames_;
  std::vector<std::string> public_packages_;
  std::unique_ptr<RegistryTokenIssuer> registry_issuer_;  // thread-safe on its own
  // Declared last: created before the servers start, destroyed after they stopped.
  std::unique_ptr<GitHttpBackend> git_;
};

}  // namespace keybridge::fakes
