// RouteTable: the one table of every route keybridge serves. Each line names the method, the
// path pattern, who may call it (Access) and the handler:
//
//   routes.Add("GET", "/api/data/repository", Access::kAnonymousOrSession, handler);
//
// Before a handler runs, RequestPolicy authenticates the request and admits or refuses it; a
// handler returns core::Result<http::Response>, and every Error becomes its Renku error body here
// (http::ErrorResponse), with Error::detail logged for server-side failures. The OpenAPI
// conformance test checks the table against api/openapi.json, access included.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "http/router.h"
#include "routes/request_policy.h"

namespace keybridge::routes {

using RouteHandler = std::function<core::Result<http::Response>(http::Request&)>;

enum class Csrf {
  kForUnsafeMethods,  // every method but GET and HEAD needs the CSRF token with a session cookie
  kNotRequired,
};

struct RouteSpec {
  std::string method;
  std::string pattern;
  RoutePolicy policy;
};

class RouteTable {
 public:
  // `policy` must outlive the table.
  explicit RouteTable(const RequestPolicy& policy);
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  void Add(std::string method, std::string pattern, Access access, RouteHandler handler,
           Csrf csrf = Csrf::kForUnsafeMethods);
  // Every route of `routes` (built by a module that knows only http::Router, e.g. the web UI) at
  // the same `access`.
  void AddAll(const http::Router& routes, Access access);

  // Unknown paths answer 404, other methods 405 (http::Router); then the policy, then the
  // handler. Not thread-safe against Add; safe from any thread once all routes are added.
  http::Response Dispatch(http::Request& request) const;
  const std::vector<RouteSpec>& Routes() const { return specs_; }

 private:
  const RequestPolicy& policy_;
  http::Router router_;
  std::vector<RouteSpec> specs_;
};

// The answer for a failed request: the Renku error body (http::ErrorResponse). Logs
// Error::detail with the method and route pattern: at error level for 5xx, at warn for 502/503
// (a provider or the database, not us). 4xx answers are the caller's business and not logged.
http::Response ErrorAnswer(const http::Request& request, const core::Error& error);

}  // namespace keybridge::routes
