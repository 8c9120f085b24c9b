// FakeGitLab's REST API: token authentication with GitLab's three 401 bodies, rate limits,
// GET /api/v4/user and /api/v4/projects/{id}.
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

}  // namespace keybridge::fakes
