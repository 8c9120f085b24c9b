// Router: maps method + path pattern ("/api/data/oauth2/providers/{provider_id}") to handlers.
// Unknown paths answer 404, a known path with another method answers 405 with an Allow header,
// both as Renku-shaped JSON errors.
#pragma once

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include "http/message.h"

namespace keybridge::http {

struct RouteInfo {
  std::string method;
  std::string pattern;
  Handler handler;  // lets a policy layer re-register routes another module built
};

class Router {
 public:
  // Patterns are literal segments and `{name}` segments; a `{name}` matches exactly one non-empty
  // segment, whose percent-decoded value lands in Request::path_params[name]. A segment that
  // decodes to something containing '/' or that is "." or ".." does not match.
  void Add(std::string method, std::string pattern, Handler handler);
  // Not thread-safe against Add; call after all routes are added (then safe from any thread).
  Response Dispatch(Request& request) const;
  // Matching only: the index (in Add order) of the route that serves `request`, with
  // request.route_pattern and path_params filled, or the 404/405 answer.
  std::variant<std::size_t, Response> Find(Request& request) const;
  std::vector<RouteInfo> Routes() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace keybridge::http
