#include "http/router.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "core/check.h"
#include "core/url.h"
#include "http/error_response.h"

namespace keybridge::http {
namespace {

// "/a/b" -> {"a", "b"}; "/a/" -> {"a", ""}; "/" -> {""}. Empty segments are kept so that a
// trailing slash or "//" never matches a pattern without one.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path.empty() || path.front() != '/') {
    return segments;
  }
  path.remove_prefix(1);
  while (true) {
    const std::size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) {
      break;
    }
    path.remove_prefix(slash + 1);
  }
  return segments;
}

bool IsParam(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// A parameter must not be able to climb out of its segment once a handler uses it to build a
// file path or an upstream URL: encoded slashes, dot segments and NUL bytes never match.
bool IsSafeParam(std::string_view value) {
  return !value.empty() && value != "." && value != ".."
         && value.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

// Matches `path` against the split pattern; fills `params` with decoded values on success.
bool Match(const std::vector<std::string>& pattern, const std::vector<std::string_view>& path,
           std::map<std::string, std::string>& params) {
  if (pattern.size() != path.size()) {
    return false;
  }
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const std::string& expected = pattern[i];
    if (!IsParam(expected)) {
      if (expected != path[i]) {
        return false;
      }
      continue;
    }
    auto decoded = core::PercentDecode(path[i], /*plus_is_space=*/false);
    if (!decoded || !IsSafeParam(*decoded)) {
      return false;
    }
    params[expected.substr(1, expected.size() - 2)] = std::move(*decoded);
  }
  return true;
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Handler handler) {
  KEYBRIDGE_CHECK(!pattern.empty() && pattern.front() == '/', "route pattern must start with '/'");
  KEYBRIDGE_CHECK(handler != nullptr, "route handler must not be empty");
  for (const Route& route : routes_) {
    KEYBRIDGE_CHECK(route.method != method || route.pattern != pattern, "duplicate route");
  }
  std::vector<std::string> segments;
  for (const std::string_view segment : SplitPath(pattern)) {
    segments.emplace_back(segment);
  }
  routes_.push_back(
      Route{std::move(method), std::move(pattern), std::move(segments), std::move(handler)});
}

Response Router::Dispatch(Request& request) const {
  std::variant<std::size_t, Response> found = Find(request);
  if (auto* refusal = std::get_if<Response>(&found)) {
    return std::move(*refusal);
  }
  return routes_[std::get<std::size_t>(found)].handler(request);
}

std::variant<std::size_t, Response> Router::Find(Request& request) const {
  const std::vector<std::string_view> path = SplitPath(request.path);
  std::vector<std::string> allowed;
  for (std::size_t index = 0; index < routes_.size(); ++index) {
    const Route& route = routes_[index];
    std::map<std::string, std::string> params;
    if (path.empty() || !Match(route.segments, path, params)) {
      continue;
    }
    if (route.method == request.method) {
      request.route_pattern = route.pattern;
      request.path_params = std::move(params);
      return index;
    }
    if (std::find(allowed.begin(), allowed.end(), route.method) == allowed.end()) {
      allowed.push_back(route.method);
    }
  }
  if (allowed.empty()) {
    return ErrorResponse(404, "Not found");
  }
  std::string allow;
  for (const std::string& method : allowed) {
    allow += allow.empty() ? method : ", " + method;
  }
  return ErrorResponse(405, "Method not allowed").WithHeader("Allow", std::move(allow));
}

std::vector<RouteInfo> Router::Routes() const {
  std::vector<RouteInfo> infos;
  infos.reserve(routes_.size());
  for (const Route& route : routes_) {
    infos.push_back(RouteInfo{route.method, route.pattern, route.handler});
  }
  return infos;
}

}  // namespace keybridge::http
