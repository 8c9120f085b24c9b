// FakeGitLab: construction, the router (everything under Options::path_prefix), test controls
// and the shared state. OAuth endpoints are in fake_gitlab_oauth.cc, the REST API in
// fake_gitlab_api.cc, git over smart HTTP in fake_gitlab_git.cc.
#include "fakes/fake_gitlab.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "core/text.h"
#include "core/url.h"
#include "crypto/hash.h"
#include "fakes/fake_gitlab_wire.h"

namespace keybridge::fakes {

using namespace gitlab_wire;  // NOLINT(google-build-using-namespace): this fake's own helpers

FakeGitLab::Options::Options() {
  client_id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  client_secret = "gloas-test-only-fake-gitlab-client-secret";  // never a real secret
  redirect_uris = {"http://127.0.0.1/oauth2/callback"};
  access_token_lifetime = core::Seconds(7200);
  refresh_token_lifetime = core::Seconds(0);
}

FakeGitLab::FakeGitLab(const core::Clock& clock, Options options)
    : FakeOAuthProvider(clock, options),
      prefix_(options.path_prefix),
      allowed_scopes_(std::move(options.allowed_scopes)),
      default_scope_(std::move(options.default_scope)),
      grace_(options.refresh_grace_until_first_use),
      require_oauth2_username_(options.require_oauth2_username),
      registry_accepts_oauth_tokens_(options.registry_accepts_oauth_tokens),
      registry_issuer_(std::make_unique<RegistryTokenIssuer>(options.registry_issuer)),
      git_(std::make_unique<GitHttpBackend>()) {
  const std::string& p = prefix_;
  router_.Add("GET", p + "/oauth/authorize", [this](http::Request& request) {
    return Authorize(request, request.QueryParams(), "");
  });
  // Doorkeeper: POST approves, DELETE (or Rails' `_method=delete` override) denies.
  router_.Add("POST", p + "/oauth/authorize", [this](http::Request& request) {
    const FormFields params = ParseFormFields(request.body);
    const bool deny = FindField(params, "_method").value_or("") == "delete";
    return Authorize(request, params, deny ? "deny" : "approve");
  });
  router_.Add("DELETE", p + "/oauth/authorize", [this](http::Request& request) {
    FormFields params = ParseFormFields(request.body);
    if (params.empty()) {
      params = request.QueryParams();
    }
    return Authorize(request, params, "deny");
  });
  router_.Add("POST", p + "/oauth/token",
              [this](http::Request& request) { return Token(request); });
  router_.Add("POST", p + "/oauth/revoke",
              [this](http::Request& request) { return Revoke(request); });
  router_.Add("GET", p + "/oauth/token/info",
              [this](http::Request& request) { return TokenInfo(request); });
  router_.Add("GET", p + "/api/v4/user", [this](http::Request& request) { return User(request); });
  router_.Add("GET", p + "/jwt/auth",
              [this](http::Request& request) { return RegistryToken(request); });
  port_ = AddServer([this](http::Request& request) { return Handle(request); });
  StartServers();
}

FakeGitLab::~FakeGitLab() {
  StopServers();
}

std::string FakeGitLab::BaseUrl() const {
  return "http://127.0.0.1:" + std::to_string(port_) + prefix_;
}

std::string FakeGitLab::AuthorizationEndpoint() const {
  return BaseUrl() + "/oauth/authorize";
}
std::string FakeGitLab::TokenEndpoint() const {
  return BaseUrl() + "/oauth/token";
}
std::string FakeGitLab::RevocationEndpoint() const {
  return BaseUrl() + "/oauth/revoke";
}
std::string FakeGitLab::ApiBaseUrl() const {
  return BaseUrl() + "/api/v4";
}

void FakeGitLab::SetAllowedScopes(std::vector<std::string> scopes) {
  const std::lock_guard lock(mutex_);
  allowed_scopes_ = std::move(scopes);
}

void FakeGitLab::SetRefreshGraceUntilFirstUse(bool grace) {
  const std::lock_guard lock(mutex_);
  grace_ = grace;
}

void FakeGitLab::SetRateLimited(bool limited, core::Seconds retry_after) {
  const std::lock_guard lock(mutex_);
  rate_limited_ = limited;
  retry_after_ = retry_after;
}

std::string FakeGitLab::RegistryTokenUrl() const {
  return BaseUrl() + "/jwt/auth";
}
std::string FakeGitLab::RegistryIssuer() const {
  return registry_issuer_->Issuer();
}
std::string FakeGitLab::RegistryCertificatePath() {
  return registry_issuer_->CertificatePemPath();
}

void FakeGitLab::SetRegistryAcceptsOAuthTokens(bool accept) {
  const std::lock_guard lock(mutex_);
  registry_accepts_oauth_tokens_ = accept;
}

void FakeGitLab::SetRegistryTokenLifetime(core::Seconds lifetime) {
  const std::lock_guard lock(mutex_);
  registry_token_lifetime_ = lifetime;
}

void FakeGitLab::SetRequireOauth2Username(bool require) {
  const std::lock_guard lock(mutex_);
  require_oauth2_username_ = require;
}

std::int64_t FakeGitLab::AddProject(GitLabProject project) {
  const std::string repository = project.path_with_namespace + ".git";
  const std::string default_branch = project.default_branch;
  std::int64_t id = 0;
  {
    const std::lock_guard lock(mutex_);
    const std::string wanted = core::AsciiLower(project.path_with_namespace);
    const auto existing = std::find_if(projects_.begin(), projects_.end(), [&](const auto& known) {
      return core::AsciiLower(known.path_with_namespace) == wanted;
    });
    if (existing != projects_.end()) {
      project.id = project.id == 0 ? existing->id : project.id;
      *existing = std::move(project);
      id = existing->id;
    } else {
      if (project.id == 0) {
        project.id = next_project_id_++;
      }
      projects_.push_back(std::move(project));
      id = projects_.back().id;
    }
  }
  git_->CreateRepository(repository, default_branch);
  return id;
}

http::Response FakeGitLab::Handle(http::Request& request) {
  Record(request);
  if (const auto git = ParseGitRoute(request, prefix_, /*git_suffix_optional=*/false)) {
    return GitRequest(request, *git);
  }
  // GitLab's root sends a signed-out browser to the sign-in page (the integration check's first
  // probe sees this).
  if (request.method == "GET"
      && (request.path == prefix_ || request.path == prefix_ + "/"
          || (prefix_.empty() && request.path.empty()))) {
    return http::Response::Redirect(BaseUrl() + "/users/sign_in");
  }
  const std::string projects_root = prefix_ + "/api/v4/projects/";
  // The router refuses parameters that decode to a '/', but GitLab's project id may be the
  // URL-encoded full path ("group%2Fproject"), so this route is matched by hand.
  if (request.path.starts_with(projects_root)) {
    const std::string_view id = std::string_view(request.path).substr(projects_root.size());
    if (!id.empty() && id.find('/') == std::string_view::npos) {
      if (request.method != "GET") {
        return ApiMessage(405, "405 Method Not Allowed");
      }
      return Project(request, id);
    }
  }
  http::Response response = router_.Dispatch(request);
  if (request.route_pattern.empty()) {
    return NotFound(request);
  }
  return response;
}

http::Response FakeGitLab::NotFound(const http::Request& request) const {
  if (request.path.starts_with(prefix_ + "/api/")) {
    return JsonResponse(404, Json{{"error", "404 Not Found"}});
  }
  return HtmlPage(404, "Page Not Found", "The page you're looking for could not be found.");
}

std::string FakeGitLab::NewAccessToken() {
  return RandomHex(64);
}
std::string FakeGitLab::NewRefreshToken() {
  return RandomHex(64);
}
std::string FakeGitLab::NewCode() {
  return RandomHex(64);
}

http::Response FakeGitLab::InjectedFailure(int status, std::optional<int> retry_after_seconds) {
  if (status != 429) {
    return FakeOAuthProvider::InjectedFailure(status, retry_after_seconds);
  }
  http::Response response;
  response.status = 429;
  response.headers.push_back({"Content-Type", "text/plain"});
  response.body = "Retry later\n";
  response.WithHeader("Retry-After", std::to_string(retry_after_seconds.value_or(60)));
  return response;
}

}  // namespace keybridge::fakes
