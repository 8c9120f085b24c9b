#include "fakes/fake_github.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "core/text.h"
#include "crypto/hash.h"

namespace keybridge::fakes {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kTokenErrorDocs =
    "https://docs.github.com/apps/managing-oauth-apps/"
    "troubleshooting-oauth-app-access-token-request-errors/";
constexpr std::string_view kAuthorizeErrorDocs =
    "https://docs.github.com/apps/managing-oauth-apps/"
    "troubleshooting-authorization-request-errors/";
constexpr std::string_view kRestDocs = "https://docs.github.com/rest";
constexpr std::string_view kUserAgentRequired =
    "Request forbidden by administrative rules. Please make sure your request has a User-Agent "
    "header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-"
    "required). Check https://developer.github.com for other possible causes.\n";
constexpr int kRateLimit = 5000;  // a user's primary REST budget per hour
constexpr int kDefaultPerPage = 30;
constexpr int kMaxPerPage = 100;

// What git prints after "remote: " on github.com (as git reports a refused push or clone).
constexpr std::string_view kGitBadCredentials =
    "Invalid username or token. Password authentication is not supported for Git operations.";
constexpr std::string_view kGitRepositoryNotFound = "Repository not found.";
constexpr std::string_view kGitWriteNotGranted = "Write access to repository not granted.";
constexpr std::string_view kGitArchived = "This repository was archived so it is read-only.";
constexpr std::string_view kGitProtectedBranch =
    "error: GH006: Protected branch update failed for %s.";

http::Response JsonResponse(int status, const Json& body) {
  http::Response response;
  response.status = status;
  response.headers.push_back({"Content-Type", "application/json; charset=utf-8"});
  response.body = body.dump();
  return response;
}

// GitHub's REST error shape; newer responses repeat the status as a string.
http::Response RestError(int status, std::string_view message,
                         std::string_view documentation_url = kRestDocs) {
  Json body;
  body["message"] = message;
  body["documentation_url"] = documentation_url;
  body["status"] = std::to_string(status);
  return JsonResponse(status, body);
}

// The token endpoint answers in the format the client asked for: JSON only with
// Accept: application/json, form-encoded otherwise (GitHub docs: "Authorizing OAuth apps"). Values keep their order.
http::Response TokenEndpointResponse(const FormFields& fields, const Json& json, bool as_json) {
  http::Response response;
  response.status = 200;  // also for errors
  response.headers.push_back({"Cache-Control", "no-store"});
  if (as_json) {
    response.headers.push_back({"Content-Type", "application/json; charset=utf-8"});
    response.body = json.dump();
  } else {
    response.headers.push_back(
        {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"});
    response.body = EncodeFormFields(fields);
  }
  return response;
}

http::Response TokenError(std::string_view error, std::string_view description,
                          std::string_view anchor, bool as_json) {
  const std::string uri = std::string(kTokenErrorDocs) + "#" + std::string(anchor);
  const FormFields fields = {{"error", std::string(error)},
                             {"error_description", std::string(description)},
                             {"error_uri", uri}};
  Json json;
  for (const auto& [name, value] : fields) {
    json[name] = value;
  }
  return TokenEndpointResponse(fields, json, as_json);
}

http::Response BadVerificationCode(bool as_json) {
  return TokenError("bad_verification_code", "The code passed is incorrect or expired.",
                    "bad-verification-code", as_json);
}

http::Response BadRefreshToken(bool as_json) {
  return TokenError("bad_refresh_token", "The refresh token passed is incorrect or expired.",
                    "bad-refresh-token", as_json);
}

FormFields RequestParams(const http::Request& request) {
  FormFields params;
  if (request.Header("content-type").find("json") != std::string::npos) {
    const Json body = Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_object()) {
      for (const auto& [key, value] : body.items()) {
        params.emplace_back(key, value.is_string() ? value.get<std::string>() : value.dump());
      }
    }
  } else {
    params = ParseFormFields(request.body);
  }
  // Query parameters are accepted too; body fields win because they come first.
  for (auto& pair : request.QueryParams()) {
    params.push_back(std::move(pair));
  }
  return params;
}

std::string IsoTime(core::TimePoint t) {
  const std::time_t seconds = static_cast<std::time_t>(core::ToUnixSeconds(t));
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char buffer[64];
  const std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return std::string(buffer, n);
}

int QueryInt(const http::Request& request, std::string_view name, int fallback) {
  const auto value = request.Query(name);
  if (!value || value->empty() || value->size() > 9
      || !std::all_of(value->begin(), value->end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return fallback;
  }
  return std::stoi(*value);
}

struct Page {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string link;  // "" when everything fits on one page
};

// GitHub's pagination: per_page defaults to 30 and is capped at 100; the Link header lists
// prev, next, last and first as they apply, with per_page kept if the client sent it.
Page Paginate(const http::Request& request, std::size_t total, const std::string& url) {
  const bool explicit_per_page = request.Query("per_page").has_value();
  const int per_page = std::clamp(QueryInt(request, "per_page", kDefaultPerPage), 1, kMaxPerPage);
  const int page = std::max(QueryInt(request, "page", 1), 1);
  const auto size = static_cast<std::size_t>(per_page);
  const int last = std::max(1, static_cast<int>((total + size - 1) / size));
  Page result;
  result.begin = std::min(total, static_cast<std::size_t>(page - 1) * size);
  result.end = std::min(total, result.begin + size);
  const auto link_to = [&](int target, std::string_view rel) {
    std::string query = explicit_per_page ? "per_page=" + std::to_string(per_page) + "&" : "";
    return "<" + url + "?" + query + "page=" + std::to_string(target) + ">; rel=\""
           + std::string(rel) + "\"";
  };
  std::vector<std::string> links;
  if (page > 1) {
    links.push_back(link_to(std::min(page - 1, last), "prev"));
  }
  if (page < last) {
    links.push_back(link_to(page + 1, "next"));
    links.push_back(link_to(last, "last"));
  }
  if (page > 1) {
    links.push_back(link_to(1, "first"));
  }
  for (const auto& link : links) {
    result.link += result.link.empty() ? link : ", " + link;
  }
  return result;
}

}  // namespace

FakeGitHub::Options::Options() {
  client_id = "Iv23liFakeClient0001";
  client_secret = "test-only-fake-github-client-secret00000";  // never a real secret
  redirect_uris = {"http://127.0.0.1/oauth2/callback"};
  access_token_lifetime = core::Seconds(28800);
  refresh_token_lifetime = core::Seconds(15897600);
}

FakeGitHub::FakeGitHub(const core::Clock& clock, Options options)
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
      git_(std::make_unique<GitHttpBackend>()) {
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
  // unknown, expired or revoked is the same 401 "Bad credentials" (GitHub docs: "Troubleshooting the REST API").
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
  for (auto it = repositories_.rbegin(); it != repositories_.rend(); ++it) {
    if (core::AsciiLower(it->full_name) == wanted) {
      return &*it;
    }
  }
  return nullptr;
}

TokenPair FakeGitHub::IssueTokenPair(const FakeUser& user, std::string scope) {
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

std::string FakeGitHub::AuthorizeErrorRedirect(const std::string& callback, std::string_view error,
                                               std::string_view description,
                                               std::string_view anchor,
                                               const std::optional<std::string>& state) const {
  FormFields fields = {{"error", std::string(error)},
                       {"error_description", std::string(description)},
                       {"error_uri", std::string(kAuthorizeErrorDocs) + "#" + std::string(anchor)}};
  if (state) {
    fields.emplace_back("state", *state);
  }
  return AppendQuery(callback, fields);
}

http::Response FakeGitHub::Authorize(const FormFields& params, std::string_view decision) {
  const auto param = [&](std::string_view name) {
    return FindField(params, name);
  };
  const std::lock_guard lock(mutex_);
  if (options_.client_id.empty() || param("client_id").value_or("") != options_.client_id) {
    return HtmlPage(404, "Page not found", "This is not the web page you are looking for.");
  }
  const auto state = param("state");
  const auto redirect_uri = param("redirect_uri");
  if (options_.redirect_uris.empty()) {
    return HtmlPage(400, "Be careful!",
                    "The redirect_uri is not associated with this application.");
  }
  // Without redirect_uri GitHub uses the first registered callback URL.
  const std::string& first_callback = options_.redirect_uris.front();
  if (redirect_uri
      && std::find(options_.redirect_uris.begin(), options_.redirect_uris.end(), *redirect_uri)
             == options_.redirect_uris.end()) {
    if (mismatch_page_) {
      return HtmlPage(400, "Be careful!",
                      "The redirect_uri is not associated with this application. The application "
                      "might be misconfigured or could be trying to redirect you to a website "
                      "you weren't expecting.");
    }
    // Sent to the registered callback, never to the unregistered URI.
    return http::Response::Redirect(AuthorizeErrorRedirect(
        first_callback, "redirect_uri_mismatch",
        "The redirect_uri MUST match the registered callback URL for this application.",
        "redirect-uri-mismatch", state));
  }
  const std::string callback = redirect_uri.value_or(first_callback);
  if (suspended_) {
    return http::Response::Redirect(
        AuthorizeErrorRedirect(callback, "application_suspended",
                               "Your application has been suspended. Contact support@github.com.",
                               "application-suspended", state));
  }
  std::string challenge;
  std::string method;
  if (pkce_supported_ && param("code_challenge")) {
    challenge = *param("code_challenge");
    // RFC 7636 §4.3 defaults the method to "plain", which GitHub does not support.
    method = param("code_challenge_method").value_or("plain");
    if (method != "S256") {
      return http::Response::Redirect(AuthorizeErrorRedirect(callback, "invalid_request",
                                                             "code_challenge_method must be S256.",
                                                             "invalid-request", state));
    }
  }
  if (decision == "deny" || (decision.empty() && deny_consent_)) {
    return http::Response::Redirect(AuthorizeErrorRedirect(
        callback, "access_denied", "The user has denied your application access.", "access-denied",
        state));
  }
  if (decision.empty() && !options_.auto_approve) {
    std::string hidden;
    for (const auto& [name, value] : params) {
      hidden += "<input type=\"hidden\" name=\"" + HtmlEscape(name) + "\" value=\""
                + HtmlEscape(value) + "\">";
    }
    const std::string action = HtmlEscape(BaseUrl() + "/login/oauth/authorize");
    http::Response page =
        HtmlPage(200, "Authorize application", "An application would like to access your account.");
    page.body += "<form method=\"post\" action=\"" + action + "\">" + hidden
                 + "<button type=\"submit\" name=\"authorize\" value=\"1\">Authorize</button>"
                   "<button type=\"submit\" name=\"authorize\" value=\"0\">Cancel</button>"
                   "</form>\n";
    return page;
  }
  CodeRecord record;
  record.client_id = options_.client_id;
  record.redirect_uri = callback;
  record.code_challenge = challenge;
  record.code_challenge_method = method;
  record.user = current_user_;
  FormFields back = {{"code", IssueCodeLocked(std::move(record))}};
  if (state) {
    back.emplace_back("state", *state);
  }
  return http::Response::Redirect(AppendQuery(callback, back));
}

http::Response FakeGitHub::Token(http::Request& request) {
  const FormFields params = RequestParams(request);
  const std::string grant_type = FindField(params, "grant_type").value_or("");
  if (auto failure =
          EnterTokenEndpoint(grant_type.empty() ? std::string("authorization_code") : grant_type)) {
    return std::move(*failure);
  }
  const bool as_json = ContainsIgnoreCase(request.Header("accept"), "application/json");
  // Only body (or query) credentials count here; HTTP Basic is not read by this endpoint.
  std::string client_id = FindField(params, "client_id").value_or("");
  const std::string client_secret = FindField(params, "client_secret").value_or("");
  http::Response response;
  bool authenticated = false;
  {
    const std::lock_guard lock(mutex_);
    authenticated = !client_id.empty() && client_id == options_.client_id
                    && crypto::ConstantTimeEquals(client_secret, options_.client_secret);
  }
  if (!authenticated) {
    response = TokenError("incorrect_client_credentials",
                          "The client_id and/or client_secret passed are incorrect.",
                          "incorrect-client-credentials", as_json);
  } else if (grant_type.empty() || grant_type == "authorization_code") {
    response = TokenFromCode(params, client_id);
  } else if (grant_type == "refresh_token") {
    response = TokenFromRefresh(params, client_id);
  } else {
    response = TokenError("unsupported_grant_type", "The grant type is not supported.",
                          "unsupported-grant-type", as_json);
  }
  if (!as_json && response.body.starts_with("{")) {
    // TokenFrom* build JSON; re-encode for clients that did not ask for it.
    FormFields fields;
    const Json json = Json::parse(response.body);
    for (const auto& [key, value] : json.items()) {
      fields.emplace_back(key, value.is_string() ? value.get<std::string>() : value.dump());
    }
    response = TokenEndpointResponse(fields, json, false);
  }
  LeaveTokenEndpoint();
  return response;
}

http::Response FakeGitHub::TokenFromCode(const FormFields& params, const std::string& client_id) {
  const std::string code = FindField(params, "code").value_or("");
  const auto redirect_uri = FindField(params, "redirect_uri");
  const auto verifier = FindField(params, "code_verifier");
  const std::lock_guard lock(mutex_);
  // A redirect_uri that is none of the App's callback URLs is rejected before the code is looked
  // at, so even an invalid code reveals a wrong callback (troubleshooting-oauth-app-access-token-
  // request-errors: "Incorrect or expired redirect URI").
  if (redirect_uri
      && std::find(options_.redirect_uris.begin(), options_.redirect_uris.end(), *redirect_uri)
             == options_.redirect_uris.end()) {
    return TokenError("redirect_uri_mismatch",
                      "The redirect_uri MUST match the registered callback URL for this "
                      "application.",
                      "redirect-uri-mismatch2", true);
  }
  CodeRecord* grant = FindCodeLocked(code);
  if (grant == nullptr || grant->used || grant->client_id != client_id
      || Now() >= grant->expires_at) {
    return BadVerificationCode(true);
  }
  if (redirect_uri && *redirect_uri != grant->redirect_uri) {
    return TokenError("redirect_uri_mismatch",
                      "The redirect_uri MUST match the registered callback URL for this "
                      "application.",
                      "redirect-uri-mismatch2", true);
  }
  // Which error a wrong or missing verifier gives is undocumented; bad_verification_code is the
  // closest documented one (GitHub docs: "Troubleshooting OAuth App access token request errors").
  if (!grant->code_challenge.empty()
      && (!verifier
          || !VerifyPkce(grant->code_challenge_method, grant->code_challenge, *verifier))) {
    return BadVerificationCode(true);
  }
  grant->used = true;
  TokenRecord& issued = IssueTokensLocked(client_id, grant->user, "", expiring_tokens_);
  Json body;
  body["access_token"] = issued.access_token;
  if (expiring_tokens_) {
    body["expires_in"] = options_.access_token_lifetime.count();
    body["refresh_token"] = issued.refresh_token;
    body["refresh_token_expires_in"] = options_.refresh_token_lifetime.count();
  } else {
    issued.access_expires_at.reset();
  }
  body["scope"] = "";
  body["token_type"] = "bearer";
  const FakeUser user = issued.user;
  if (max_tokens_per_user_ > 0) {
    EnforceTokenLimitLocked(client_id, user.id, max_tokens_per_user_);
  }
  return JsonResponse(200, body);
}

http::Response FakeGitHub::TokenFromRefresh(const FormFields& params,
                                            const std::string& client_id) {
  const std::string refresh_token = FindField(params, "refresh_token").value_or("");
  const std::lock_guard lock(mutex_);
  // Strict single use, no grace window: the old refresh and access token die at once.
  const RefreshResult result = RotateLocked(client_id, refresh_token, std::nullopt, false);
  if (result.outcome != RefreshOutcome::kIssued) {
    return BadRefreshToken(true);
  }
  Json body;
  body["access_token"] = result.issued.access_token;
  body["expires_in"] = options_.access_token_lifetime.count();
  body["refresh_token"] = result.issued.refresh_token;
  body["refresh_token_expires_in"] = options_.refresh_token_lifetime.count();
  body["scope"] = "";
  body["token_type"] = "bearer";
  return JsonResponse(200, body);
}

http::Response FakeGitHub::User(const http::Request& /*request*/, const TokenRecord& token) {
  const FakeUser& user = token.user;
  Json body;
  body["login"] = user.username;
  body["id"] = user.id;
  body["node_id"] = "U_kgDO" + std::to_string(user.id);
  body["avatar_url"] = "https://avatars.githubusercontent.com/u/" + std::to_string(user.id);
  body["gravatar_id"] = "";
  body["url"] = ApiBaseUrl() + "/users/" + user.username;
  body["html_url"] = user.web_url.empty() ? BaseUrl() + "/" + user.username : user.web_url;
  body["type"] = "User";
  body["site_admin"] = false;
  body["name"] = user.name;
  body["company"] = nullptr;
  body["blog"] = "";
  body["location"] = nullptr;
  body["email"] = user.email.empty() ? Json(nullptr) : Json(user.email);
  body["hireable"] = nullptr;
  body["bio"] = nullptr;
  body["public_repos"] = 0;
  body["followers"] = 0;
  body["following"] = 0;
  body["created_at"] = "2020-01-01T00:00:00Z";
  body["updated_at"] = "2020-01-01T00:00:00Z";
  return JsonResponse(200, body);
}

bool FakeGitHub::InstallationVisibleLocked(const GitHubInstallation& installation,
                                           std::int64_t user_id) const {
  if (installation.account_type == "User" && installation.account_id == user_id) {
    return true;
  }
  return std::find(installation.user_ids.begin(), installation.user_ids.end(), user_id)
         != installation.user_ids.end();
}

bool FakeGitHub::RepositoryVisibleLocked(const GitHubRepository& repository,
                                         std::int64_t user_id) const {
  if (repository.visibility == "public") {
    return true;
  }
  if (user_id == 0 || repository.installation_id == 0
      || !repository.collaborators.contains(user_id)) {
    return false;
  }
  // A user token reaches a private repository only through an installation of this App.
  return std::any_of(installations_.begin(), installations_.end(), [&](const auto& installation) {
    return installation.id == repository.installation_id && !installation.suspended;
  });
}

namespace {

Json InstallationJson(const GitHubInstallation& installation, const std::string& web,
                      const std::string& api, std::int64_t app_id, const std::string& app_slug) {
  Json account;
  account["login"] = installation.account_login;
  account["id"] = installation.account_id;
  account["type"] = installation.account_type;
  account["site_admin"] = false;
  account["html_url"] = web + "/" + installation.account_login;
  Json permissions = Json::object();
  for (const auto& [name, level] : installation.permissions) {
    permissions[name] = level;
  }
  const std::string id = std::to_string(installation.id);
  Json body;
  body["id"] = installation.id;
  body["account"] = account;
  body["repository_selection"] = installation.repository_selection;
  body["access_tokens_url"] = api + "/app/installations/" + id + "/access_tokens";
  body["repositories_url"] = api + "/installation/repositories";
  body["html_url"] =
      installation.account_type == "Organization"
          ? web + "/organizations/" + installation.account_login + "/settings/installations/" + id
          : web + "/settings/installations/" + id;
  body["app_id"] = app_id;
  body["app_slug"] = app_slug;
  body["target_id"] = installation.account_id;
  body["target_type"] = installation.account_type;
  body["permissions"] = permissions;
  body["events"] = Json::array();
  body["created_at"] = "2024-01-01T00:00:00Z";
  body["updated_at"] = "2024-01-01T00:00:00Z";
  body["single_file_name"] = nullptr;
  body["suspended_by"] =
      installation.suspended ? Json{{"login", installation.account_login}} : Json(nullptr);
  body["suspended_at"] = installation.suspended ? Json("2024-06-01T00:00:00Z") : Json(nullptr);
  return body;
}

}  // namespace

http::Response FakeGitHub::Installations(const http::Request& request, const TokenRecord& token) {
  std::vector<const GitHubInstallation*> visible;
  for (const auto& installation : installations_) {
    if (InstallationVisibleLocked(installation, token.user.id)) {
      visible.push_back(&installation);
    }
  }
  const Page page = Paginate(request, visible.size(), ApiBaseUrl() + "/user/installations");
  Json list = Json::array();
  for (std::size_t i = page.begin; i < page.end; ++i) {
    list.push_back(InstallationJson(*visible[i], BaseUrl(), ApiBaseUrl(), app_id_, app_slug_));
  }
  Json body;
  body["total_count"] = visible.size();
  body["installations"] = list;
  http::Response response = JsonResponse(200, body);
  if (!page.link.empty()) {
    response.WithHeader("Link", page.link);
  }
  return response;
}

namespace {

Json RepositoryJson(const GitHubRepository& repository, const std::string& web,
                    const std::string& api, const GitHubRepoPermissions* permissions) {
  const std::string& full_name = repository.full_name;
  const std::size_t slash = full_name.find('/');
  const std::string owner = full_name.substr(0, slash);
  const std::string name = slash == std::string::npos ? full_name : full_name.substr(slash + 1);
  Json body;
  body["id"] = repository.id;
  body["node_id"] = "R_kgDO" + std::to_string(repository.id);
  body["name"] = name;
  body["full_name"] = full_name;
  body["private"] = repository.visibility != "public";
  body["owner"] = Json{{"login", owner}, {"html_url", web + "/" + owner}};
  body["html_url"] = web + "/" + full_name;
  body["description"] = nullptr;
  body["fork"] = false;
  body["url"] = api + "/repos/" + full_name;
  body["clone_url"] = web + "/" + full_name + ".git";
  body["visibility"] = repository.visibility;
  body["default_branch"] = repository.default_branch;
  body["archived"] = repository.archived;
  body["disabled"] = false;
  if (permissions != nullptr) {
    body["permissions"] = Json{{"admin", permissions->admin},
                               {"maintain", permissions->maintain},
                               {"push", permissions->push},
                               {"triage", permissions->triage},
                               {"pull", permissions->pull}};
  }
  return body;
}

}  // namespace

http::Response FakeGitHub::InstallationRepositories(const http::Request& request,
                                                    const TokenRecord& token) {
  const std::string id = request.PathParam("installation_id");
  const GitHubInstallation* installation = nullptr;
  for (const auto& candidate : installations_) {
    if (std::to_string(candidate.id) == id && InstallationVisibleLocked(candidate, token.user.id)) {
      installation = &candidate;
    }
  }
  if (installation == nullptr) {
    return RestError(404, "Not Found");
  }
  std::vector<const GitHubRepository*> visible;
  for (const auto& repository : repositories_) {
    if (repository.installation_id == installation->id
        && RepositoryVisibleLocked(repository, token.user.id)) {
      visible.push_back(&repository);
    }
  }
  const Page page = Paginate(request, visible.size(),
                             ApiBaseUrl() + "/user/installations/" + id + "/repositories");
  static const GitHubRepoPermissions kReader;
  Json list = Json::array();
  for (std::size_t i = page.begin; i < page.end; ++i) {
    const auto it = visible[i]->collaborators.find(token.user.id);
    list.push_back(RepositoryJson(*visible[i], BaseUrl(), ApiBaseUrl(),
                                  it == visible[i]->collaborators.end() ? &kReader : &it->second));
  }
  Json body;
  body["total_count"] = visible.size();
  body["repository_selection"] = installation->repository_selection;
  body["repositories"] = list;
  http::Response response = JsonResponse(200, body);
  if (!page.link.empty()) {
    response.WithHeader("Link", page.link);
  }
  return response;
}

http::Response FakeGitHub::Repository(const http::Request& request, const TokenRecord* token) {
  const std::string full_name = request.PathParam("owner") + "/" + request.PathParam("repo");
  const std::int64_t user_id = token == nullptr ? 0 : token->user.id;
  for (const auto& repository : repositories_) {
    if (repository.full_name != full_name || !RepositoryVisibleLocked(repository, user_id)) {
      continue;
    }
    static const GitHubRepoPermissions kReader;
    const GitHubRepoPermissions* permissions = nullptr;
    if (token != nullptr) {
      const auto it = repository.collaborators.find(user_id);
      permissions = it == repository.collaborators.end() ? &kReader : &it->second;
    }
    return JsonResponse(200, RepositoryJson(repository, BaseUrl(), ApiBaseUrl(), permissions));
  }
  // Private repositories the token cannot reach are indistinguishable from missing ones.
  return RestError(404, "Not Found", "https://docs.github.com/rest/repos/repos#get-a-repository");
}

http::Response FakeGitHub::ApplicationToken(http::Request& request) {
  const bool is_delete = request.method == "DELETE";
  const bool whole_grant = request.route_pattern.ends_with("/grant");
  if (is_delete) {
    CountRevocation();
  }
  const auto basic = ParseBasicAuth(request);
  if (!basic) {
    return RestError(401, "Requires authentication");
  }
  const Json body = Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  const std::lock_guard lock(mutex_);
  // A wrong secret, or another app's client id, looks like a missing resource.
  if (request.PathParam("client_id") != options_.client_id || basic->first != options_.client_id
      || !crypto::ConstantTimeEquals(basic->second, options_.client_secret)) {
    return RestError(404, "Not Found");
  }
  if (!body.is_object() || !body.contains("access_token") || !body["access_token"].is_string()) {
    return RestError(422, "Invalid request.\n\n\"access_token\" wasn't supplied.");
  }
  const std::string access_token = body["access_token"].get<std::string>();
  TokenRecord* record = FindByAccessTokenLocked(access_token);
  if (record == nullptr || record->client_id != options_.client_id
      || AccessStateLocked(*record) != TokenState::kValid) {
    return RestError(404, "Not Found");
  }
  if (is_delete) {
    if (whole_grant) {
      // De-authorizes the App for this user: every token of theirs dies.
      const std::int64_t user_id = record->user.id;
      for (auto& other : TokensLocked()) {
        if (other.client_id == options_.client_id && other.user.id == user_id) {
          other.revoked = true;
        }
      }
    } else {
      record->revoked = true;  // its refresh token goes with it [inf]
    }
    return http::Response::NoContent();
  }
  const std::string last_eight =
      access_token.size() >= 8 ? access_token.substr(access_token.size() - 8) : access_token;
  Json check;
  check["id"] = 1;
  check["url"] = ApiBaseUrl() + "/authorizations/1";
  check["app"] = Json{{"name", app_slug_},
                      {"url", BaseUrl() + "/apps/" + app_slug_},
                      {"client_id", options_.client_id}};
  check["token"] = access_token;
  check["hashed_token"] = crypto::Sha256Hex(access_token);
  check["token_last_eight"] = last_eight;
  check["note"] = nullptr;
  check["note_url"] = nullptr;
  check["created_at"] = IsoTime(record->created_at);
  check["updated_at"] = IsoTime(record->created_at);
  check["expires_at"] =
      record->access_expires_at ? Json(IsoTime(*record->access_expires_at)) : Json(nullptr);
  check["scopes"] = Json::array();
  check["fingerprint"] = nullptr;
  check["user"] = Json{{"login", record->user.username}, {"id", record->user.id}, {"type", "User"}};
  return JsonResponse(200, check);
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
        // A user token can do only what both the user and the App may do (GitHub docs: "Authenticating with a GitHub App on
        // behalf of a user"); the App's
        // missing contents:write is reported even when the user could push.
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
