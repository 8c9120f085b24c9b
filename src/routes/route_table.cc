#include "routes/route_table.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <stdexcept>
#include <utility>
#include <variant>

#include "core/memory_only.h"
#include "core/rate_limiter.h"
#include "http/error_response.h"

namespace keybridge::routes {

std::string_view ToString(Compartment compartment) {
  switch (compartment) {
    case Compartment::kInline:
      return "inline";
    case Compartment::kMemoryFirst:
      return "memory-first";
    case Compartment::kDatabase:
      return "database";
    case Compartment::kProvider:
      return "provider";
    case Compartment::kProbe:
      return "probe";
    case Compartment::kIntegrationCheck:
      return "integration-check";
  }
  return "inline";  // unreachable for valid enumerators; -Wswitch flags unnamed ones
}

RouteTable::RouteTable(const RequestPolicy& policy, Compartments compartments)
    : policy_(policy), compartments_(compartments) {}

void RouteTable::Add(std::string method, std::string pattern, Access access,
                     Compartment compartment, RouteHandler handler, Csrf csrf) {
  if (compartment == Compartment::kInline && access != Access::kPublic) {
    throw std::logic_error("route " + method + " " + pattern
                           + " runs inline but is not public: authenticating may wait");
  }
  const bool safe = method == "GET" || method == "HEAD";
  RouteSpec spec{method, pattern, RoutePolicy{access, csrf == Csrf::kForUnsafeMethods && !safe},
                 compartment};
  entries_.push_back(Entry{spec.policy, compartment, std::move(handler)});
  // The router only matches (Router::Find): Dispatch runs the entry, never this handler.
  router_.Add(std::move(method), std::move(pattern), [](http::Request&) {
    return http::ErrorResponse(500, "route dispatched past its compartment");
  });
  specs_.push_back(std::move(spec));
}

void RouteTable::AddAll(const http::Router& routes) {
  for (http::RouteInfo& route : routes.Routes()) {
    Add(std::move(route.method), std::move(route.pattern), Access::kPublic, Compartment::kInline,
        [handler = std::move(route.handler)](http::Request& request) {
          return core::Result<http::Response>(handler(request));
        });
  }
}

void RouteTable::LimitPerClient(const std::string& method, const std::string& pattern,
                                core::RateLimiter& limiter) {
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    if (specs_[i].method == method && specs_[i].pattern == pattern) {
      entries_[i].per_client = &limiter;
      return;
    }
  }
  throw std::logic_error("no route " + method + " " + pattern + " to limit");
}

http::Reply RouteTable::Dispatch(http::Request& request) const {
  std::variant<std::size_t, http::Response> found = router_.Find(request);
  if (auto* refusal = std::get_if<http::Response>(&found)) {
    return std::move(*refusal);
  }
  const Entry& entry = entries_.at(std::get<std::size_t>(found));
  if (entry.per_client != nullptr) {
    if (core::Status admitted = entry.per_client->Admit(request.remote_address); !admitted.ok()) {
      return ErrorAnswer(request, admitted.error());
    }
  }
  if (entry.compartment == Compartment::kInline || entry.compartment == Compartment::kMemoryFirst) {
    return Run(entry, request, entry.compartment, /*admitted=*/false);
  }
  return http::Offload{ExecutorFor(entry.compartment), [this, &entry, &request]() -> http::Reply {
                         return Run(entry, request, entry.compartment, /*admitted=*/false);
                       }};
}

http::Reply RouteTable::Run(const Entry& entry, http::Request& request, Compartment where,
                            bool admitted) const {
  const auto attempt = [&]() -> core::Result<http::Response> {
    std::optional<core::MemoryOnlyScope> memory_only;
    if (where == Compartment::kMemoryFirst) {
      memory_only.emplace();
    }
    if (!admitted) {
      KEYBRIDGE_RETURN_IF_ERROR(policy_.Admit(request, entry.policy));
      admitted = true;
    }
    request.may_wait_on_providers =
        where != Compartment::kMemoryFirst && where != Compartment::kDatabase;
    return entry.handler(request);
  };
  core::Result<http::Response> response = attempt();
  if (!response.ok() && response.error().code == core::ErrorCode::kWouldWait
      && (where == Compartment::kMemoryFirst || where == Compartment::kDatabase)) {
    // Again from the start, where that wait is what the compartment is for. The earlier attempt
    // only read.
    const Compartment next =
        where == Compartment::kMemoryFirst ? Compartment::kDatabase : Compartment::kProvider;
    return http::Offload{ExecutorFor(next), [this, &entry, &request, next, admitted]() {
                           return Run(entry, request, next, admitted);
                         }};
  }
  return Answer(request, std::move(response));
}

http::Response RouteTable::Answer(const http::Request& request,
                                  core::Result<http::Response> response) {
  if (!response.ok()) {
    return ErrorAnswer(request, response.error());
  }
  return std::move(response).value();
}

core::BoundedExecutor* RouteTable::ExecutorFor(Compartment compartment) const {
  switch (compartment) {
    case Compartment::kInline:
    case Compartment::kMemoryFirst:
      return nullptr;
    case Compartment::kDatabase:
      return compartments_.database;
    case Compartment::kProvider:
      return compartments_.provider;
    case Compartment::kProbe:
      return compartments_.probe;
    case Compartment::kIntegrationCheck:
      return compartments_.integration_check;
  }
  return nullptr;
}

http::Response ErrorAnswer(const http::Request& request, const core::Error& error) {
  const int status = http::StatusFor(error.code);
  if (status >= 500) {
    const auto level = status == 502 || status == 503 ? spdlog::level::warn : spdlog::level::err;
    spdlog::log(level, "{} {} answered {} ({}): {}{}{}", request.method, request.route_pattern,
                status, core::ToString(error.code), error.message, error.detail.empty() ? "" : ": ",
                error.detail);
  }
  return http::ErrorResponse(error);
}

}  // namespace keybridge::routes
