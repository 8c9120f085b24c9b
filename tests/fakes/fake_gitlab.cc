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

namespace keybridge::fakes {
namespace {

using Json = nlohmann::ordered_json;

// Doorkeeper's descriptions (GitLab's config/locales/doorkeeper.en.yml).
constexpr std::string_view kInvalidClient =
    "Client authentication failed due to unknown client, no client authentication included, or "
    "unsupported authentication method.";
constexpr std::string_view kInvalidGrant =
    "The provided authorization grant is invalid, expired, revoked, does not match the redirection "
    "URI used in the authorization request, or was issued to another client.";
constexpr std::string_view kInvalidRedirectUri = "The redirect URI included is not valid.";
constexpr std::string_view kInvalidScope = "The requested scope is invalid, unknown, or malformed.";
constexpr std::string_view kUnsupportedResponseType =
    "The authorization server does not support this response type.";
constexpr std::string_view kUnsupportedGrantType =
    "The authorization grant type is not supported by the authorization server.";
constexpr std::string_view kInvalidCodeChallengeMethod =
    "The code challenge method must be plain or S256.";
constexpr std::string_view kAccessDenied =
    "The resource owner or authorization server denied the request.";
constexpr std::string_view kRevokeUnauthorized = "You are not authorized to revoke this token";
constexpr std::string_view kErrorPageTitle = "An error has occurred";

constexpr int kApiRateLimit = 2000;  // gitlab.com: authenticated API requests per minute

// Gitlab::GitAccess and Repositories::GitHttpClientController messages (GitLab source, lib/gitlab/git_access.rb).
constexpr std::string_view kGitAccessDenied =
    "HTTP Basic: Access denied. If a password was provided for Git authentication, the password "
    "was incorrect or you're required to use a token instead of a password. If a token was "
    "provided, it was either incorrect, expired, or improperly scoped. See ";
constexpr std::string_view kGitAccessDeniedHelp =
    "/help/topics/git/troubleshooting_git.md#error-on-git-fetch-http-basic-access-denied";
constexpr std::string_view kGitProjectNotFound =
    "The project you were looking for could not be found or you don't have permission to view it.";
constexpr std::string_view kGitPushDenied = "You are not allowed to push code to this project.";
constexpr std::string_view kGitUploadDenied = "You are not allowed to upload code.";
constexpr std::string_view kGitDownloadDenied =
    "You are not allowed to download code from this project.";
constexpr std::string_view kGitArchived =
    "You are not allowed to push code to an archived project.";
constexpr std::string_view kGitProtectedBranch =
    "GitLab: You are not allowed to push code to protected branches on this project.";

std::string MissingParam(std::string_view name) {
  return "Missing required parameter: " + std::string(name) + ".";
}

std::vector<std::string> SplitScopes(std::string_view text) {
  std::vector<std::string> scopes;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find(' ', start), text.size());
    if (end > start) {
      std::string scope(text.substr(start, end - start));
      if (std::find(scopes.begin(), scopes.end(), scope) == scopes.end()) {
        scopes.push_back(std::move(scope));
      }
    }
    start = end + 1;
  }
  return scopes;
}

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string joined;
  for (const auto& scope : scopes) {
    joined += joined.empty() ? scope : " " + scope;
  }
  return joined;
}

bool Contains(const std::vector<std::string>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

http::Response JsonResponse(int status, const Json& body) {
  http::Response response;
  response.status = status;
  response.headers.push_back({"Content-Type", "application/json"});
  response.body = body.dump();
  return response;
}

// Doorkeeper's ErrorResponse (RFC 6749 §5.2), headers included.
http::Response DoorkeeperError(int status, std::string_view error, std::string_view description) {
  Json body;
  body["error"] = error;
  body["error_description"] = description;
  http::Response response;
  response.status = status;
  response.headers.push_back({"Cache-Control", "no-store, no-cache"});
  response.headers.push_back({"Content-Type", "application/json; charset=utf-8"});
  response.headers.push_back(
      {"WWW-Authenticate", "Bearer realm=\"Doorkeeper\", error=\"" + std::string(error)
                               + "\", error_description=\"" + std::string(description) + "\""});
  response.body = body.dump();
  return response;
}

// GitLab API 401/403 for OAuth tokens (Gitlab::Auth::*Error via the API's error formatter).
http::Response ApiTokenError(int status, std::string_view error, std::string_view description,
                             std::string_view scope = {}) {
  Json body;
  body["error"] = error;
  body["error_description"] = description;
  if (!scope.empty()) {
    body["scope"] = scope;
  }
  std::string challenge = "Bearer realm=\"Protected by OAuth 2.0\", error=\"" + std::string(error)
                          + "\", error_description=\"" + std::string(description) + "\"";
  if (!scope.empty()) {
    challenge += ", scope=\"" + std::string(scope) + "\"";
  }
  return JsonResponse(status, body).WithHeader("WWW-Authenticate", std::move(challenge));
}

http::Response ApiMessage(int status, std::string_view message) {
  return JsonResponse(status, Json{{"message", message}});
}

std::string HttpDate(core::TimePoint t) {
  const std::time_t seconds = static_cast<std::time_t>(core::ToUnixSeconds(t));
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char buffer[64];
  const std::size_t n = std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &parts);
  return std::string(buffer, n);
}

std::string IsoTime(core::TimePoint t) {
  const std::time_t seconds = static_cast<std::time_t>(core::ToUnixSeconds(t));
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char buffer[64];
  const std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S.000Z", &parts);
  return std::string(buffer, n);
}

// Form body, or a JSON object body (Rails parses both).
FormFields BodyParams(const http::Request& request) {
  if (request.Header("content-type").find("json") != std::string::npos) {
    FormFields fields;
    const Json body = Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_object()) {
      for (const auto& [key, value] : body.items()) {
        fields.emplace_back(key, value.is_string() ? value.get<std::string>() : value.dump());
      }
    }
    return fields;
  }
  return ParseFormFields(request.body);
}

Json AccessJson(const std::map<std::int64_t, int>& levels, std::int64_t user_id) {
  const auto it = levels.find(user_id);
  if (it == levels.end()) {
    return nullptr;
  }
  return Json{{"access_level", it->second}, {"notification_level", 3}};
}

int HighestAccess(const GitLabProject& project, std::int64_t user_id) {
  int level = 0;
  for (const auto* levels :
       {&project.members, &project.group_members, &project.shared_group_members}) {
    const auto it = levels->find(user_id);
    if (it != levels->end()) {
      level = std::max(level, it->second);
    }
  }
  return level;
}

}  // namespace

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
    bool replaced = false;
    for (auto& existing : projects_) {
      if (core::AsciiLower(existing.path_with_namespace) == core::AsciiLower(project.path_with_namespace)) {
        project.id = project.id == 0 ? existing.id : project.id;
        existing = std::move(project);
        id = existing.id;
        replaced = true;
        break;
      }
    }
    if (!replaced) {
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

http::Response FakeGitLab::Authorize(http::Request& /*request*/, const FormFields& params,
                                     std::string_view decision) {
  const auto param = [&](std::string_view name) {
    return FindField(params, name);
  };
  const std::lock_guard lock(mutex_);
  // Doorkeeper's pre-authorization checks, in its order. GitLab keeps `handle_auth_errors
  // :render`, so all of them render a page; only consent and denial redirect.
  if (param("client_id").value_or("") != options_.client_id || options_.client_id.empty()) {
    return HtmlPage(401, kErrorPageTitle, kInvalidClient);
  }
  const auto redirect_uri = param("redirect_uri");
  if (!redirect_uri || redirect_uri->empty()) {
    return HtmlPage(400, kErrorPageTitle, MissingParam("redirect_uri"));
  }
  if (!Contains(options_.redirect_uris, *redirect_uri)) {
    return HtmlPage(400, kErrorPageTitle, kInvalidRedirectUri);
  }
  if (param("response_type").value_or("") != "code") {
    return HtmlPage(400, kErrorPageTitle, kUnsupportedResponseType);
  }
  const std::string requested = param("scope").value_or("");
  std::vector<std::string> scopes = SplitScopes(requested.empty() ? default_scope_ : requested);
  if (scopes.empty() || !std::all_of(scopes.begin(), scopes.end(), [&](const std::string& s) {
        return Contains(allowed_scopes_, s);
      })) {
    return HtmlPage(400, kErrorPageTitle, kInvalidScope);
  }
  const std::string challenge = param("code_challenge").value_or("");
  const std::string method = param("code_challenge_method").value_or("");
  if (!challenge.empty() && method != "S256" && method != "plain") {
    return HtmlPage(400, kErrorPageTitle, kInvalidCodeChallengeMethod);
  }

  const auto state = param("state");
  FormFields back;
  if (decision == "deny" || (decision.empty() && deny_consent_)) {
    back = {{"error", "access_denied"}, {"error_description", std::string(kAccessDenied)}};
    if (state) {
      back.emplace_back("state", *state);
    }
    return http::Response::Redirect(AppendQuery(*redirect_uri, back));
  }
  if (decision.empty() && !options_.auto_approve) {
    // The consent screen: both buttons post the same hidden fields back to this endpoint.
    std::string hidden;
    for (const auto& [name, value] : params) {
      hidden += "<input type=\"hidden\" name=\"" + HtmlEscape(name) + "\" value=\""
                + HtmlEscape(value) + "\">";
    }
    const std::string action = HtmlEscape(BaseUrl() + "/oauth/authorize");
    http::Response page = HtmlPage(200, "Authorize application",
                                   "An application is requesting access to your GitLab account.");
    page.body += "<form method=\"post\" action=\"" + action + "\">" + hidden
                 + "<button type=\"submit\">Authorize</button></form><form method=\"post\" "
                   "action=\""
                 + action + "\"><input type=\"hidden\" name=\"_method\" value=\"delete\">" + hidden
                 + "<button type=\"submit\">Deny</button></form>\n";
    return page;
  }
  CodeRecord record;
  record.client_id = options_.client_id;
  record.redirect_uri = *redirect_uri;
  record.scope = JoinScopes(scopes);
  record.code_challenge = challenge;
  record.code_challenge_method = challenge.empty() ? "" : method;
  record.user = current_user_;
  back = {{"code", IssueCodeLocked(std::move(record))}};
  if (state) {
    back.emplace_back("state", *state);
  }
  return http::Response::Redirect(AppendQuery(*redirect_uri, back));
}

http::Response FakeGitLab::Token(http::Request& request) {
  const FormFields params = BodyParams(request);
  const std::string grant_type = FindField(params, "grant_type").value_or("");
  if (auto failure = EnterTokenEndpoint(grant_type)) {
    return std::move(*failure);
  }
  // Doorkeeper reads client credentials from HTTP Basic first, then from the body.
  std::string client_id;
  std::string client_secret;
  if (const auto basic = ParseBasicAuth(request)) {
    client_id = basic->first;
    client_secret = basic->second;
  } else {
    client_id = FindField(params, "client_id").value_or("");
    client_secret = FindField(params, "client_secret").value_or("");
  }
  {
    const std::lock_guard lock(mutex_);
    if (client_id != options_.client_id || client_id.empty()
        || !crypto::ConstantTimeEquals(client_secret, options_.client_secret)) {
      client_id.clear();  // unauthenticated; each grant decides when to report it
    }
  }
  http::Response response;
  if (grant_type.empty()) {
    response = DoorkeeperError(400, "invalid_request", MissingParam("grant_type"));
  } else if (grant_type == "authorization_code") {
    response = TokenFromCode(params, client_id);
  } else if (grant_type == "refresh_token") {
    response = TokenFromRefresh(params, client_id);
  } else {
    response = DoorkeeperError(400, "unsupported_grant_type", kUnsupportedGrantType);
  }
  LeaveTokenEndpoint();
  return response;
}

namespace {

http::Response TokenSuccess(const Json& body) {
  http::Response response;
  response.status = 200;
  response.headers.push_back({"Cache-Control", "no-store, no-cache"});
  response.headers.push_back({"Pragma", "no-cache"});
  response.headers.push_back({"Content-Type", "application/json; charset=utf-8"});
  response.body = body.dump();
  return response;
}

}  // namespace

http::Response FakeGitLab::TokenFromCode(const FormFields& params, const std::string& client_id) {
  const std::string code = FindField(params, "code").value_or("");
  const auto redirect_uri = FindField(params, "redirect_uri");
  const auto verifier = FindField(params, "code_verifier");
  const std::lock_guard lock(mutex_);
  CodeRecord* grant = FindCodeLocked(code);
  // Doorkeeper's AuthorizationCodeRequest validations, in order: params, client, grant,
  // redirect_uri, code_verifier (RFC 6749 §4.1.3, RFC 7636 §4.6).
  if (code.empty()) {
    return DoorkeeperError(400, "invalid_request", MissingParam("code"));
  }
  if (grant != nullptr && !grant->code_challenge.empty() && verifier.value_or("").empty()) {
    return DoorkeeperError(400, "invalid_request", MissingParam("code_verifier"));
  }
  if (!redirect_uri || redirect_uri->empty()) {
    return DoorkeeperError(400, "invalid_request", MissingParam("redirect_uri"));
  }
  if (client_id.empty()) {
    return DoorkeeperError(401, "invalid_client", kInvalidClient);
  }
  if (grant == nullptr || grant->used || grant->client_id != client_id
      || Now() >= grant->expires_at) {
    return DoorkeeperError(400, "invalid_grant", kInvalidGrant);
  }
  if (*redirect_uri != grant->redirect_uri) {
    return DoorkeeperError(400, "invalid_grant", kInvalidGrant);
  }
  if (!grant->code_challenge.empty()
      && !VerifyPkce(grant->code_challenge_method, grant->code_challenge, *verifier)) {
    return DoorkeeperError(400, "invalid_grant", kInvalidGrant);
  }
  grant->used = true;
  const TokenRecord& issued = IssueTokensLocked(client_id, grant->user, grant->scope, true);
  Json body;
  body["access_token"] = issued.access_token;
  body["token_type"] = "Bearer";
  if (issued.access_expires_at) {
    body["expires_in"] = options_.access_token_lifetime.count();
  }
  body["refresh_token"] = issued.refresh_token;
  if (!issued.scope.empty()) {
    body["scope"] = issued.scope;
  }
  body["created_at"] = core::ToUnixSeconds(issued.created_at);
  return TokenSuccess(body);
}

http::Response FakeGitLab::TokenFromRefresh(const FormFields& params,
                                            const std::string& client_id) {
  const std::string refresh_token = FindField(params, "refresh_token").value_or("");
  const auto scope = FindField(params, "scope");
  const std::lock_guard lock(mutex_);
  // Doorkeeper's RefreshTokenRequest validations, in order: token presence, token, client,
  // client match, scope. A reused (revoked) token is InvalidGrantReuse: the same invalid_grant.
  if (refresh_token.empty()) {
    return DoorkeeperError(400, "invalid_request", MissingParam("refresh_token"));
  }
  TokenRecord* old = FindByRefreshTokenLocked(refresh_token);
  if (old == nullptr || old->revoked) {
    return DoorkeeperError(400, "invalid_grant", kInvalidGrant);
  }
  if (client_id.empty()) {
    return DoorkeeperError(401, "invalid_client", kInvalidClient);
  }
  if (old->client_id != client_id) {
    return DoorkeeperError(400, "invalid_grant", kInvalidGrant);
  }
  std::optional<std::string> new_scope;
  if (scope && !scope->empty()) {
    // RFC 6749 §6: the new scope must not exceed the original grant.
    const std::vector<std::string> original = SplitScopes(old->scope);
    const std::vector<std::string> wanted = SplitScopes(*scope);
    if (!std::all_of(wanted.begin(), wanted.end(),
                     [&](const std::string& s) { return Contains(original, s); })) {
      return DoorkeeperError(400, "invalid_scope", kInvalidScope);
    }
    new_scope = JoinScopes(wanted);
  }
  const RefreshResult result = RotateLocked(client_id, refresh_token, new_scope, grace_);
  if (result.outcome != RefreshOutcome::kIssued) {
    return DoorkeeperError(400, "invalid_grant", kInvalidGrant);
  }
  const TokenRecord& issued = result.issued;
  Json body;
  body["access_token"] = issued.access_token;
  body["token_type"] = "Bearer";
  if (issued.access_expires_at) {
    body["expires_in"] = options_.access_token_lifetime.count();
  }
  body["refresh_token"] = issued.refresh_token;
  if (!issued.scope.empty()) {
    body["scope"] = issued.scope;
  }
  body["created_at"] = core::ToUnixSeconds(issued.created_at);
  return TokenSuccess(body);
}

http::Response FakeGitLab::Revoke(http::Request& request) {
  CountRevocation();
  const FormFields params = BodyParams(request);
  std::string client_id;
  std::string client_secret;
  if (const auto basic = ParseBasicAuth(request)) {
    client_id = basic->first;
    client_secret = basic->second;
  } else {
    client_id = FindField(params, "client_id").value_or("");
    client_secret = FindField(params, "client_secret").value_or("");
  }
  const std::string token = FindField(params, "token").value_or("");
  const std::lock_guard lock(mutex_);
  const Json refused{{"error", "unauthorized_client"}, {"error_description", kRevokeUnauthorized}};
  // RFC 7009 §2.1: the client authenticates first; §2.2: unknown tokens still get 200.
  if (client_id.empty() || client_id != options_.client_id
      || !crypto::ConstantTimeEquals(client_secret, options_.client_secret)) {
    return JsonResponse(403, refused);
  }
  TokenRecord* record = nullptr;
  if (FindField(params, "token_type_hint").value_or("") == "refresh_token") {
    record = FindByRefreshTokenLocked(token);
    record = record != nullptr ? record : FindByAccessTokenLocked(token);
  } else {
    record = FindByAccessTokenLocked(token);
    record = record != nullptr ? record : FindByRefreshTokenLocked(token);
  }
  if (record == nullptr) {
    return JsonResponse(200, Json::object());
  }
  if (record->client_id != client_id) {
    return JsonResponse(403, refused);
  }
  record->revoked = true;  // access and refresh token share the row
  return JsonResponse(200, Json::object());
}

http::Response FakeGitLab::TokenInfo(http::Request& request) {
  std::string token = BearerToken(request, false);
  if (token.empty()) {
    token = request.Query("access_token").value_or("");
  }
  const std::lock_guard lock(mutex_);
  const AccessCheck check = AuthenticateLocked(token);
  const auto invalid = [](std::string_view description) {
    return JsonResponse(401, Json{{"error", "invalid_token"}, {"error_description", description}})
        .WithHeader("WWW-Authenticate",
                    "Bearer realm=\"Doorkeeper\", error=\"invalid_token\", "
                    "error_description=\""
                        + std::string(description) + "\"");
  };
  switch (check.state) {
    case TokenState::kUnknown:
      return invalid("The access token is invalid");
    case TokenState::kExpired:
      return invalid("The access token expired");
    case TokenState::kRevoked:
      return invalid("The access token was revoked");
    case TokenState::kValid:
      break;
  }
  const TokenRecord& record = check.record;
  Json scopes = Json::array();
  for (const auto& scope : SplitScopes(record.scope)) {
    scopes.push_back(scope);
  }
  Json expires_in = nullptr;
  if (record.access_expires_at) {
    expires_in =
        std::chrono::duration_cast<core::Seconds>(*record.access_expires_at - Now()).count();
  }
  Json body;
  body["resource_owner_id"] = record.user.id;
  body["scope"] = scopes;
  body["expires_in"] = expires_in;
  body["application"] = Json{{"uid", record.client_id}};
  body["created_at"] = core::ToUnixSeconds(record.created_at);
  body["scopes"] = scopes;
  body["expires_in_seconds"] = expires_in;
  return JsonResponse(200, body);
}

void FakeGitLab::AddRateLimitHeaders(http::Response& response) {
  const std::int64_t now = core::ToUnixSeconds(Now());
  const std::int64_t window = now / 60;
  if (window != api_window_) {
    api_window_ = window;
    api_calls_in_window_ = 0;
  }
  ++api_calls_in_window_;
  response.WithHeader("RateLimit-Name", "throttle_authenticated_api")
      .WithHeader("RateLimit-Limit", std::to_string(kApiRateLimit))
      .WithHeader("RateLimit-Observed", std::to_string(api_calls_in_window_))
      .WithHeader("RateLimit-Remaining",
                  std::to_string(std::max(0, kApiRateLimit - api_calls_in_window_)))
      .WithHeader("RateLimit-Reset", std::to_string((window + 1) * 60));
}

std::optional<http::Response> FakeGitLab::AuthenticateApi(
    const http::Request& request, const std::vector<std::string>& any_of_scopes,
    bool allow_anonymous, AccessCheck& check) {
  if (rate_limited_) {
    // Rack::Attack's throttle response: plain text, not JSON.
    http::Response response;
    response.status = 429;
    response.headers.push_back({"Content-Type", "text/plain"});
    response.body = "Retry later\n";
    const core::TimePoint reset = Now() + retry_after_;
    response.WithHeader("Retry-After", std::to_string(retry_after_.count()))
        .WithHeader("RateLimit-Name", "throttle_authenticated_api")
        .WithHeader("RateLimit-Limit", std::to_string(kApiRateLimit))
        .WithHeader("RateLimit-Observed", std::to_string(kApiRateLimit + 1))
        .WithHeader("RateLimit-Remaining", "0")
        .WithHeader("RateLimit-Reset", std::to_string(core::ToUnixSeconds(reset)))
        .WithHeader("RateLimit-ResetTime", HttpDate(reset));
    return response;
  }
  std::string token = BearerToken(request, false);
  if (token.empty()) {
    token = request.Query("access_token").value_or("");
  }
  if (token.empty()) {
    if (allow_anonymous) {
      check = AccessCheck{};
      return std::nullopt;
    }
    return ApiMessage(401, "401 Unauthorized");
  }
  check = AuthenticateLocked(token);
  switch (check.state) {
    case TokenState::kUnknown:
      return ApiMessage(401, "401 Unauthorized");
    case TokenState::kExpired:
      return ApiTokenError(
          401, "invalid_token",
          "Token is expired. You can either do re-authorization or token refresh.");
    case TokenState::kRevoked:
      return ApiTokenError(401, "invalid_token",
                           "Token was revoked. You have to re-authorize from the user.");
    case TokenState::kValid:
      break;
  }
  const std::vector<std::string> granted = SplitScopes(check.record.scope);
  if (std::none_of(any_of_scopes.begin(), any_of_scopes.end(),
                   [&](const std::string& s) { return Contains(granted, s); })) {
    return ApiTokenError(403, "insufficient_scope",
                         "The request requires higher privileges than provided by the access "
                         "token.",
                         JoinScopes(any_of_scopes));
  }
  return std::nullopt;
}

http::Response FakeGitLab::User(http::Request& request) {
  const std::lock_guard lock(mutex_);
  AccessCheck check;
  if (auto refused = AuthenticateApi(request, {"api", "read_api", "read_user"}, false, check)) {
    return std::move(*refused);
  }
  const FakeUser& user = check.record.user;
  const std::string web_url = user.web_url.empty() ? BaseUrl() + "/" + user.username : user.web_url;
  Json body;
  body["id"] = user.id;
  body["username"] = user.username;
  body["name"] = user.name;
  body["state"] = user.state;
  body["locked"] = false;
  body["avatar_url"] =
      BaseUrl() + "/uploads/-/system/user/avatar/" + std::to_string(user.id) + "/avatar.png";
  body["web_url"] = web_url;
  body["created_at"] = "2020-01-01T00:00:00.000Z";
  body["bio"] = "";
  body["public_email"] = nullptr;
  body["email"] = user.email;
  body["two_factor_enabled"] = false;
  body["external"] = false;
  body["private_profile"] = false;
  body["bot"] = false;
  http::Response response = JsonResponse(200, body);
  AddRateLimitHeaders(response);
  return response;
}

http::Response FakeGitLab::Project(http::Request& request, std::string_view encoded_id) {
  const auto id = core::PercentDecode(encoded_id, /*plus_is_space=*/false);
  const std::lock_guard lock(mutex_);
  AccessCheck check;
  if (auto refused = AuthenticateApi(request, {"api", "read_api"}, true, check)) {
    return std::move(*refused);
  }
  const bool anonymous = check.state != TokenState::kValid;
  const GitLabProject* found = nullptr;
  for (const auto& project : projects_) {
    if (id
        && (std::to_string(project.id) == *id
            || core::AsciiLower(project.path_with_namespace) == core::AsciiLower(*id))) {
      found = &project;
    }
  }
  // The same 404 for "does not exist" and "you can't see it".
  const bool visible =
      found != nullptr
      && (found->visibility == "public" || (!anonymous && found->visibility == "internal")
          || (!anonymous && HighestAccess(*found, check.record.user.id) >= kGitLabGuest));
  if (!visible) {
    http::Response response = ApiMessage(404, "404 Project Not Found");
    AddRateLimitHeaders(response);
    return response;
  }
  const std::string& path = found->path_with_namespace;
  const std::size_t slash = path.rfind('/');
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  Json body;
  body["id"] = found->id;
  body["description"] = nullptr;
  body["name"] = name;
  body["name_with_namespace"] = path;
  body["path"] = name;
  body["path_with_namespace"] = path;
  body["created_at"] = IsoTime(core::FromUnixSeconds(1'600'000'000));
  body["default_branch"] = found->default_branch;
  body["ssh_url_to_repo"] = "git@127.0.0.1:" + path + ".git";
  body["http_url_to_repo"] = BaseUrl() + "/" + path + ".git";
  body["web_url"] = BaseUrl() + "/" + path;
  body["visibility"] = found->visibility;
  body["archived"] = found->archived;
  if (!anonymous) {
    const std::int64_t user_id = check.record.user.id;
    body["permissions"] = Json{{"project_access", AccessJson(found->members, user_id)},
                               {"group_access", AccessJson(found->group_members, user_id)}};
  }
  http::Response response = JsonResponse(200, body);
  AddRateLimitHeaders(response);
  return response;
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
