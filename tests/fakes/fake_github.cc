// FakeGitHub: construction, the two routers (web host and REST API host), test controls and
// the shared state. OAuth endpoints are in fake_github_oauth.cc, the REST API in
// fake_github_api.cc, git over smart HTTP in fake_github_git.cc.
#include "fakes/fake_github.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "core/text.h"
#include "crypto/hash.h"
#include "fakes/fake_github_wire.h"

namespace keybridge::fakes {

using namespace github_wire;  // NOLINT(google-build-using-namespace): this fake's own helpers

FakeGitHub::Options::Options() {
  client_id = "Iv23liFakeClient0001";
  client_secret = "test-only-fake-github-client-secret00000";  // never a real secret
  redirect_uris = {"http://127.0.0.1/oauth2/callback"};
  access_token_lifetime = core::Seconds(28800);
  refresh_token_lifetime = core::Seconds(15897600);
}

FakeGitHub::FakeGitHub(const core::Clock& clock, const Options& options)
    : FakeOAuthProvider(clock, options),
      enterprise_(options.enterprise),
      enterprise_version_(options.enterprise_version),
      api_prefix_(options.enterprise ? "/api/v3" : ""),
      expiring_tokens_(options.expiring_tokens),
      pkce_supported_(options.pkce_supported),
      mismatch_page_(options.redirect_uri_mismatch_page),
      max_tokens_per_user_(options.max_tokens_per_user),
      app_id_(options.app_id),
      app_slug_(options.app_slug),
      app_name_(options.app_name),
      app_owner_(options.app_owner),
      registry_issuer_(std::make_unique<RegistryTokenIssuer>("ghcr-fake")),
      git_(std::make_unique<GitHttpBackend>()) {
  web_router_.Add("GET", "/token",
                  [this](http::Request& request) { return RegistryToken(request); });
  web_router_.Add("GET", "/login/oauth/authorize",
                  [this](http::Request& request) { return Authorize(request.QueryParams(), ""); });
  web_router_.Add("POST", "/login/oauth/authorize", [this](http::Request& request) {
    const FormFields params = ParseFormFields(request.body);
    return Authorize(params,
                     FindField(params, "authorize").value_or("") == "1" ? "approve" : "deny");
  });
  web_router_.Add("POST", "/login/oauth/access_token",
                  [this](http::Request& request) { return Token(request); });

  const std::string& p = api_prefix_;
  // Authenticated routes: a missing token is 401 "Requires authentication"; any token that is
  // unknown, expired or revoked is the same 401 "Bad credentials" (GitHub docs: "Troubleshooting
  // the REST API").
  const auto authed = [this](auto member) {
    return [this, member](http::Request& request) -> http::Response {
      const std::string token = BearerToken(request, true);
      const std::lock_guard lock(mutex_);
      if (token.empty()) {
        return RestError(401, "Requires authentication");
      }
      const AccessCheck check = AuthenticateLocked(token);
      if (check.state != TokenState::kValid) {
        return RestError(401, "Bad credentials");
      }
      return (this->*member)(request, check.record);
    };
  };
  api_router_.Add("GET", p + "/user", authed(&FakeGitHub::User));
  api_router_.Add("GET", p + "/user/installations", authed(&FakeGitHub::Installations));
  api_router_.Add("GET", p + "/user/installations/{installation_id}/repositories",
                  authed(&FakeGitHub::InstallationRepositories));
  api_router_.Add("GET", p + "/repos/{owner}/{repo}", [this](http::Request& request) {
    const std::string token = BearerToken(request, true);
    const std::lock_guard lock(mutex_);
    if (token.empty()) {
      return Repository(request, nullptr);
    }
    const AccessCheck check = AuthenticateLocked(token);
    if (check.state != TokenState::kValid) {
      return RestError(401, "Bad credentials");
    }
    return Repository(request, &check.record);
  });
  for (const std::string_view what : {"token", "grant"}) {
    api_router_.Add("DELETE", p + "/applications/{client_id}/" + std::string(what),
                    [this](http::Request& request) { return ApplicationToken(request); });
  }
  api_router_.Add("POST", p + "/applications/{client_id}/token",
                  [this](http::Request& request) { return ApplicationToken(request); });
  // GET /apps/{app_slug}: public, no authentication (REST "Get an app"). Only this fake's App
  // exists; any other slug is GitHub's 404.
  api_router_.Add("GET", p + "/apps/{app_slug}", [this](http::Request& request) {
    const std::lock_guard lock(mutex_);
    if (request.PathParam("app_slug") != app_slug_) {
      return RestError(404, "Not Found", "https://docs.github.com/rest/apps/apps#get-an-app");
    }
    http::Response response;
    response.status = 200;
    response.headers.push_back({"Content-Type", "application/json; charset=utf-8"});
    response.body = AppJsonLocked();
    return response;
  });
  api_router_.Add("GET", p + "/meta", [this](http::Request&) {
    Json body;
    body["verifiable_password_authentication"] = false;
    if (enterprise_) {
      body["installed_version"] = enterprise_version_;
    }
    return JsonResponse(200, body);
  });

  web_port_ = AddServer([this](http::Request& request) { return HandleWeb(request); });
  api_port_ = enterprise_ ? web_port_ : AddServer([this](http::Request& request) {
    Record(request);
    return HandleApi(request);
  });
  StartServers();
}

FakeGitHub::~FakeGitHub() {
  StopServers();
}

std::string FakeGitHub::BaseUrl() const {
  return "http://127.0.0.1:" + std::to_string(web_port_);
}

std::string FakeGitHub::AuthorizationEndpoint() const {
  return BaseUrl() + "/login/oauth/authorize";
}

std::string FakeGitHub::TokenEndpoint() const {
  return BaseUrl() + "/login/oauth/access_token";
}

std::string FakeGitHub::ApiBaseUrl() const {
  return enterprise_ ? BaseUrl() + api_prefix_ : "http://127.0.0.1:" + std::to_string(api_port_);
}

void FakeGitHub::SetExpiringTokens(bool expiring) {
  const std::lock_guard lock(mutex_);
  expiring_tokens_ = expiring;
}

void FakeGitHub::SuspendApplication(bool suspended) {
  const std::lock_guard lock(mutex_);
  suspended_ = suspended;
}

void FakeGitHub::SetPkceSupported(bool supported) {
  const std::lock_guard lock(mutex_);
  pkce_supported_ = supported;
}

void FakeGitHub::SetRateLimited(bool limited, int status) {
  const std::lock_guard lock(mutex_);
  rate_limited_ = limited;
  rate_limit_status_ = status;
}

void FakeGitHub::SetSecondaryRateLimited(bool limited, core::Seconds retry_after) {
  const std::lock_guard lock(mutex_);
  secondary_limited_ = limited;
  secondary_retry_after_ = retry_after;
}

std::int64_t FakeGitHub::AddInstallation(GitHubInstallation installation) {
  const std::lock_guard lock(mutex_);
  if (installation.id == 0) {
    installation.id = next_id_++;
  }
  installations_.push_back(std::move(installation));
  return installations_.back().id;
}

std::int64_t FakeGitHub::AddRepository(GitHubRepository repository) {
  const std::string name = repository.full_name + ".git";
  const std::string default_branch = repository.default_branch;
  std::int64_t id = 0;
  {
    const std::lock_guard lock(mutex_);
    if (repository.id == 0) {
      repository.id = next_id_++;
    }
    repositories_.push_back(std::move(repository));
    id = repositories_.back().id;
  }
  git_->CreateRepository(name, default_branch);
  return id;
}

TokenPair FakeGitHub::IssueTokenPair(const FakeUser& user, const std::string& scope) {
  const std::lock_guard lock(mutex_);
  TokenRecord& record = IssueTokensLocked(options_.client_id, user, scope, expiring_tokens_);
  if (!expiring_tokens_) {
    record.access_expires_at.reset();
  }
  return TokenPair{record.access_token, record.refresh_token};
}

http::Response FakeGitHub::HandleWeb(http::Request& request) {
  Record(request);
  if (enterprise_ && (request.path == api_prefix_ || request.path.starts_with(api_prefix_ + "/"))) {
    return HandleApi(request);
  }
  if (request.method == "GET" && (request.path.empty() || request.path == "/")) {
    // The home page a signed-out browser sees (the integration check's first probe).
    return HtmlPage(200, enterprise_ ? "GitHub Enterprise" : "GitHub", "Let's build from here.");
  }
  if (const auto git = ParseGitRoute(request, "", /*git_suffix_optional=*/true)) {
    return GitRequest(request, *git);
  }
  http::Response response = web_router_.Dispatch(request);
  if (request.route_pattern.empty()) {
    return HtmlPage(404, "Page not found", "This is not the web page you are looking for.");
  }
  return response;
}

http::Response FakeGitHub::HandleApi(http::Request& request) {
  http::Response response;
  if (request.Header("user-agent").empty()) {
    // Enforced in front of every REST endpoint (GitHub docs: "Rate limits for the REST API").
    response.status = 403;
    response.headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
    response.body = std::string(kUserAgentRequired);
    return response;
  }
  bool limited = false;
  {
    const std::lock_guard lock(mutex_);
    if (secondary_limited_) {
      response = RestError(403,
                           "You have exceeded a secondary rate limit. Please wait a few minutes "
                           "before you try again.",
                           "https://docs.github.com/rest/overview/"
                           "rate-limits-for-the-rest-api#about-secondary-rate-limits");
      response.WithHeader("retry-after", std::to_string(secondary_retry_after_.count()));
      limited = true;
    } else if (rate_limited_) {
      response = RestError(rate_limit_status_, "API rate limit exceeded for user.",
                           "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api");
      limited = true;
    }
  }
  if (!limited) {
    response = api_router_.Dispatch(request);
    if (request.route_pattern.empty()) {
      response = RestError(404, "Not Found");
    }
  }
  AddApiHeaders(response);
  return response;
}

void FakeGitHub::AddApiHeaders(http::Response& response) {
  const std::lock_guard lock(mutex_);
  response.WithHeader("X-GitHub-Media-Type", "github.v3; format=json");
  if (enterprise_) {
    response.WithHeader("X-GitHub-Enterprise-Version", enterprise_version_);
  }
  // Rate limits are off by default on GHES, so it sends no x-ratelimit-* headers unless limited.
  if (enterprise_ && !rate_limited_) {
    return;
  }
  const std::int64_t now = core::ToUnixSeconds(Now());
  const std::int64_t window = now / 3600;
  if (window != rate_window_) {
    rate_window_ = window;
    rate_used_ = 0;
  }
  rate_used_ = rate_limited_ ? kRateLimit : std::min(rate_used_ + 1, kRateLimit);
  response.WithHeader("x-ratelimit-limit", std::to_string(kRateLimit))
      .WithHeader("x-ratelimit-remaining", std::to_string(kRateLimit - rate_used_))
      .WithHeader("x-ratelimit-reset", std::to_string((window + 1) * 3600))
      .WithHeader("x-ratelimit-used", std::to_string(rate_used_))
      .WithHeader("x-ratelimit-resource", "core");
}

void FakeGitHub::SetAppSlug(std::string slug) {
  const std::lock_guard lock(mutex_);
  app_slug_ = std::move(slug);
}

std::string FakeGitHub::AppSlug() const {
  const std::lock_guard lock(mutex_);
  return app_slug_;
}

// The REST "Get an app" shape (apps/apps#get-an-app), trimmed to what clients read. GHES serves
// App pages under /github-apps/ (GitHub Enterprise Server docs: "Installing your own GitHub App").
std::string FakeGitHub::AppJsonLocked() const {
  Json owner;
  owner["login"] = app_owner_;
  owner["id"] = 9000;
  owner["type"] = "Organization";
  owner["site_admin"] = false;
  owner["html_url"] = BaseUrl() + "/" + app_owner_;
  Json body;
  body["id"] = app_id_;
  body["slug"] = app_slug_;
  body["node_id"] = "A_kwHOFake" + std::to_string(app_id_);
  body["client_id"] = options_.client_id;
  body["owner"] = owner;
  body["name"] = app_name_;
  body["description"] = "";
  body["external_url"] = "https://keybridge.example.org";
  body["html_url"] = BaseUrl() + (enterprise_ ? "/github-apps/" : "/apps/") + app_slug_;
  body["created_at"] = "2024-01-01T00:00:00Z";
  body["updated_at"] = "2024-01-01T00:00:00Z";
  body["permissions"] = Json{{"contents", "write"}, {"metadata", "read"}};
  body["events"] = Json::array();
  body["installations_count"] = installations_.size();
  return body.dump();
}

std::string FakeGitHub::NewAccessToken() {
  return "ghu_" + RandomAlnum(36);
}
std::string FakeGitHub::NewRefreshToken() {
  return "ghr_" + RandomAlnum(76);
}
std::string FakeGitHub::NewCode() {
  return RandomHex(20);
}

}  // namespace keybridge::fakes
