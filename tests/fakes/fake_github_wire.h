// What FakeGitHub puts on the wire, shared by its source files: GitHub's error texts and
// documentation links, rate-limit budget, pagination and the token-endpoint answer shapes.
#pragma once

#include <algorithm>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "core/text.h"
#include "crypto/hash.h"
#include "fakes/fake_github.h"

namespace keybridge::fakes::github_wire {

using Json = nlohmann::ordered_json;

inline constexpr std::string_view kTokenErrorDocs =
    "https://docs.github.com/apps/managing-oauth-apps/"
    "troubleshooting-oauth-app-access-token-request-errors/";
inline constexpr std::string_view kAuthorizeErrorDocs =
    "https://docs.github.com/apps/managing-oauth-apps/"
    "troubleshooting-authorization-request-errors/";
inline constexpr std::string_view kRestDocs = "https://docs.github.com/rest";
inline constexpr std::string_view kUserAgentRequired =
    "Request forbidden by administrative rules. Please make sure your request has a User-Agent "
    "header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-"
    "required). Check https://developer.github.com for other possible causes.\n";
inline constexpr int kRateLimit = 5000;  // a user's primary REST budget per hour
inline constexpr int kDefaultPerPage = 30;
inline constexpr int kMaxPerPage = 100;

// What git prints after "remote: " on github.com (as git reports a refused push or clone).
inline constexpr std::string_view kGitBadCredentials =
    "Invalid username or token. Password authentication is not supported for Git operations.";
inline constexpr std::string_view kGitRepositoryNotFound = "Repository not found.";
inline constexpr std::string_view kGitWriteNotGranted = "Write access to repository not granted.";
inline constexpr std::string_view kGitArchived = "This repository was archived so it is read-only.";
inline constexpr std::string_view kGitProtectedBranch =
    "error: GH006: Protected branch update failed for %s.";

inline http::Response JsonResponse(int status, const Json& body) {
  http::Response response;
  response.status = status;
  response.headers.push_back({"Content-Type", "application/json; charset=utf-8"});
  response.body = body.dump();
  return response;
}

// GitHub's REST error shape; newer responses repeat the status as a string.
inline http::Response RestError(int status, std::string_view message,
                                std::string_view documentation_url = kRestDocs) {
  Json body;
  body["message"] = message;
  body["documentation_url"] = documentation_url;
  body["status"] = std::to_string(status);
  return JsonResponse(status, body);
}

// The token endpoint answers in the format the client asked for: JSON only with
// Accept: application/json, form-encoded otherwise (GitHub docs: "Authorizing OAuth apps"). Values
// keep their order.
inline http::Response TokenEndpointResponse(const FormFields& fields, const Json& json,
                                            bool as_json) {
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

inline http::Response TokenError(std::string_view error, std::string_view description,
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

inline http::Response BadVerificationCode(bool as_json) {
  return TokenError("bad_verification_code", "The code passed is incorrect or expired.",
                    "bad-verification-code", as_json);
}

inline http::Response BadRefreshToken(bool as_json) {
  return TokenError("bad_refresh_token", "The refresh token passed is incorrect or expired.",
                    "bad-refresh-token", as_json);
}

inline FormFields RequestParams(const http::Request& request) {
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

inline std::string IsoTime(core::TimePoint t) {
  const auto seconds = static_cast<std::time_t>(core::ToUnixSeconds(t));
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char buffer[64];
  const std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return std::string(buffer, n);
}

inline int QueryInt(const http::Request& request, std::string_view name, int fallback) {
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
inline Page Paginate(const http::Request& request, std::size_t total, const std::string& url) {
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

}  // namespace keybridge::fakes::github_wire
