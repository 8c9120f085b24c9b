// RouteTable: the one table of every route keybridge serves. Each line names the method, the
// path pattern, who may call it (Access), where its handler runs (Compartment) and the handler:
//
//   routes.Add("GET", "/api/data/repository", Access::kAnonymousOrSession, Compartment::kProbe,
//              handler);
//
// Dispatch matches the route on the I/O thread and hands the rest to the route's compartment (a
// core::BoundedExecutor; a full one answers 503 + Retry-After at once): there RequestPolicy
// authenticates the request and admits or refuses it, and the handler runs. A handler returns
// core::Result<http::Response>; every Error becomes its Renku error body here
// (http::ErrorResponse, with Retry-After when the error carries one), with Error::detail logged
// for server-side failures. A handler that answers kWouldWait moves on: from the I/O thread
// (kMemoryFirst: it needed the database) to the database compartment, from there (it must call a
// provider, e.g. to refresh a token) to the provider compartment. So a token read that the caches
// can answer never leaves the I/O thread, and reads that need no provider never queue behind a
// slow one. The OpenAPI conformance test checks the table against
// api/openapi.json, access included.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "http/offload.h"
#include "http/router.h"
#include "routes/request_policy.h"

namespace keybridge::core {
class BoundedExecutor;
class RateLimiter;
}  // namespace keybridge::core

namespace keybridge::routes {

// Where a route's handler runs. Each class of outside dependency has its own bounded compartment,
// so a slow one fills only its own (ARCHITECTURE.md, "Compartments").
enum class Compartment {
  kInline,            // on the I/O thread, from memory only; Access::kPublic routes
  kMemoryFirst,       // on the I/O thread while the caches can answer, else as kDatabase
  kDatabase,          // waits on the database only (most routes; fresh token reads)
  kProvider,          // calls providers: connect callback, disconnect, account, token refresh
  kProbe,             // the repository check: probes URLs callers choose
  kIntegrationCheck,  // "Test this integration" (administrators)
};

// "inline", "memory-first", "database", "provider", "probe", "integration-check" (metrics
// labels).
std::string_view ToString(Compartment compartment);

// The executors behind the compartments. Not owned; must outlive the table and the server. A
// nullptr runs that compartment's work on the thread that dispatched (tests).
struct Compartments {
  core::BoundedExecutor* database = nullptr;
  core::BoundedExecutor* provider = nullptr;
  core::BoundedExecutor* probe = nullptr;
  core::BoundedExecutor* integration_check = nullptr;
};

using RouteHandler = std::function<core::Result<http::Response>(http::Request&)>;

enum class Csrf {
  kForUnsafeMethods,  // every method but GET and HEAD needs the CSRF token with a session cookie
  kNotRequired,
};

struct RouteSpec {
  std::string method;
  std::string pattern;
  RoutePolicy policy;
  Compartment compartment = Compartment::kDatabase;
};

class RouteTable {
 public:
  // `policy` must outlive the table.
  explicit RouteTable(const RequestPolicy& policy, Compartments compartments = {});
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  // Throws std::logic_error (start-up only) for an inline route that is not Access::kPublic:
  // authenticating may wait on the database, which the I/O threads never do.
  void Add(std::string method, std::string pattern, Access access, Compartment compartment,
           RouteHandler handler, Csrf csrf = Csrf::kForUnsafeMethods);
  // Every route of `routes` (built by a module that knows only http::Router, e.g. the web UI),
  // public and inline.
  void AddAll(const http::Router& routes);
  // Rations an added route per client address: past `limiter`'s rate the answer is 429 with
  // Retry-After, decided on the I/O thread before the request takes a place in its compartment.
  // `limiter` must outlive the table.
  void LimitPerClient(const std::string& method, const std::string& pattern,
                      core::RateLimiter& limiter);

  // Unknown paths answer 404, other methods 405 (http::Router) at once; a known route continues
  // on its compartment (an http::Offload): the policy, then the handler. Not thread-safe against
  // Add; safe from any thread once all routes are added.
  http::Reply Dispatch(http::Request& request) const;
  const std::vector<RouteSpec>& Routes() const { return specs_; }

 private:
  struct Entry {
    RoutePolicy policy;
    Compartment compartment;
    RouteHandler handler;
    core::RateLimiter* per_client = nullptr;
  };
  // One attempt of the route in compartment `where`; kWouldWait moves it to the next one.
  // `admitted`: the policy already admitted the caller in an earlier attempt.
  http::Reply Run(const Entry& entry, http::Request& request, Compartment where,
                  bool admitted) const;
  static http::Response Answer(const http::Request& request, core::Result<http::Response> response);
  core::BoundedExecutor* ExecutorFor(Compartment compartment) const;

  const RequestPolicy& policy_;
  const Compartments compartments_;
  http::Router router_;
  std::vector<Entry> entries_;  // by the router's route index
  std::vector<RouteSpec> specs_;
};

// The answer for a failed request: the Renku error body (http::ErrorResponse). Logs
// Error::detail with the method and route pattern: at error level for 5xx, at warn for 502/503
// (a provider or the database, not us). 4xx answers are the caller's business and not logged.
http::Response ErrorAnswer(const http::Request& request, const core::Error& error);

}  // namespace keybridge::routes
