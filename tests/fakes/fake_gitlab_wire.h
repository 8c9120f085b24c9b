// What FakeGitLab puts on the wire, shared by its source files: Doorkeeper's and GitLab's
// error texts, scope lists, the error-body shapes and the project access levels.
#pragma once

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

namespace keybridge::fakes::gitlab_wire {

using Json = nlohmann::ordered_json;

// Doorkeeper's descriptions (GitLab's config/locales/doorkeeper.en.yml).
inline constexpr std::string_view kInvalidClient =
    "Client authentication failed due to unknown client, no client authentication included, or "
    "unsupported authentication method.";
inline constexpr std::string_view kInvalidGrant =
    "The provided authorization grant is invalid, expired, revoked, does not match the redirection "
    "URI used in the authorization request, or was issued to another client.";
inline constexpr std::string_view kInvalidRedirectUri = "The redirect URI included is not valid.";
inline constexpr std::string_view kInvalidScope =
    "The requested scope is invalid, unknown, or malformed.";
inline constexpr std::string_view kUnsupportedResponseType =
    "The authorization server does not support this response type.";
inline constexpr std::string_view kUnsupportedGrantType =
    "The authorization grant type is not supported by the authorization server.";
inline constexpr std::string_view kInvalidCodeChallengeMethod =
    "The code challenge method must be plain or S256.";
inline constexpr std::string_view kAccessDenied =
    "The resource owner or authorization server denied the request.";
inline constexpr std::string_view kRevokeUnauthorized =
    "You are not authorized to revoke this token";
inline constexpr std::string_view kErrorPageTitle = "An error has occurred";

inline constexpr int kApiRateLimit = 2000;  // gitlab.com: authenticated API requests per minute

// Gitlab::GitAccess and Repositories::GitHttpClientController messages (GitLab source,
// lib/gitlab/git_access.rb).
inline constexpr std::string_view kGitAccessDenied =
    "HTTP Basic: Access denied. If a password was provided for Git authentication, the password "
    "was incorrect or you're required to use a token instead of a password. If a token was "
    "provided, it was either incorrect, expired, or improperly scoped. See ";
inline constexpr std::string_view kGitAccessDeniedHelp =
    "/help/topics/git/troubleshooting_git.md#error-on-git-fetch-http-basic-access-denied";
inline constexpr std::string_view kGitProjectNotFound =
    "The project you were looking for could not be found or you don't have permission to view it.";
inline constexpr std::string_view kGitPushDenied =
    "You are not allowed to push code to this project.";
inline constexpr std::string_view kGitUploadDenied = "You are not allowed to upload code.";
inline constexpr std::string_view kGitDownloadDenied =
    "You are not allowed to download code from this project.";
inline constexpr std::string_view kGitArchived =
    "You are not allowed to push code to an archived project.";
inline constexpr std::string_view kGitProtectedBranch =
    "GitLab: You are not allowed to push code to protected branches on this project.";

inline std::string MissingParam(std::string_view name) {
  return "Missing required parameter: " + std::string(name) + ".";
}

inline std::vector<std::string> SplitScopes(std::string_view text) {
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

inline std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string joined;
  for (const auto& scope : scopes) {
    joined += joined.empty() ? scope : " " + scope;
  }
  return joined;
}

inline bool Contains(const std::vector<std::string>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

inline http::Response JsonResponse(int status, const Json& body) {
  http::Response response;
  response.status = status;
  response.headers.push_back({"Content-Type", "application/json"});
  response.body = body.dump();
  return response;
}

// Doorkeeper's ErrorResponse (RFC 6749 §5.2), headers included.
inline http::Response DoorkeeperError(int status, std::string_view error,
                                      std::string_view description) {
  Json body;
  body["error"] = error;
  body["error_description"] = description;
  http::Response response;
  response.status = status;
  response.headers.push_back({"Cache-Control", "no-store, no-cache"});
  response.headers.push_back({"Content-Type", "application/json; charset=utf-8"});
  response.headers.push_back(
      {"WWW-Authenticate", R"(Bearer realm="Doorkeeper", error=")" + std::string(error)
                               + "\", error_description=\"" + std::string(description) + "\""});
  response.body = body.dump();
  return response;
}

// GitLab API 401/403 for OAuth tokens (Gitlab::Auth::*Error via the API's error formatter).
inline http::Response ApiTokenError(int status, std::string_view error,
                                    std::string_view description, std::string_view scope = {}) {
  Json body;
  body["error"] = error;
  body["error_description"] = description;
  if (!scope.empty()) {
    body["scope"] = scope;
  }
  std::string challenge = R"(Bearer realm="Protected by OAuth 2.0", error=")" + std::string(error)
                          + "\", error_description=\"" + std::string(description) + "\"";
  if (!scope.empty()) {
    challenge += ", scope=\"" + std::string(scope) + "\"";
  }
  return JsonResponse(status, body).WithHeader("WWW-Authenticate", std::move(challenge));
}

inline http::Response ApiMessage(int status, std::string_view message) {
  return JsonResponse(status, Json{{"message", message}});
}

inline std::string HttpDate(core::TimePoint t) {
  const auto seconds = static_cast<std::time_t>(core::ToUnixSeconds(t));
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char buffer[64];
  const std::size_t n = std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &parts);
  return std::string(buffer, n);
}

inline std::string IsoTime(core::TimePoint t) {
  const auto seconds = static_cast<std::time_t>(core::ToUnixSeconds(t));
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char buffer[64];
  const std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S.000Z", &parts);
  return std::string(buffer, n);
}

// Form body, or a JSON object body (Rails parses both).
inline FormFields BodyParams(const http::Request& request) {
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

inline Json AccessJson(const std::map<std::int64_t, int>& levels, std::int64_t user_id) {
  const auto it = levels.find(user_id);
  if (it == levels.end()) {
    return nullptr;
  }
  return Json{{"access_level", it->second}, {"notification_level", 3}};
}

inline int HighestAccess(const GitLabProject& project, std::int64_t user_id) {
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

}  // namespace keybridge::fakes::gitlab_wire
