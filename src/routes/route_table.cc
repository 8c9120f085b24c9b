#include "routes/route_table.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "http/error_response.h"

namespace keybridge::routes {

RouteTable::RouteTable(const RequestPolicy& policy) : policy_(policy) {}

void RouteTable::Add(std::string method, std::string pattern, Access access, RouteHandler handler,
                     Csrf csrf) {
  const bool safe = method == "GET" || method == "HEAD";
  RouteSpec spec{method, pattern, RoutePolicy{access, csrf == Csrf::kForUnsafeMethods && !safe}};
  router_.Add(std::move(method), std::move(pattern),
              [this, policy = spec.policy, handler = std::move(handler)](http::Request& request) {
                if (auto admitted = policy_.Admit(request, policy); !admitted.ok()) {
                  return ErrorAnswer(request, admitted.error());
                }
                core::Result<http::Response> response = handler(request);
                if (!response.ok()) {
                  return ErrorAnswer(request, response.error());
                }
                return std::move(response).value();
              });
  specs_.push_back(std::move(spec));
}

void RouteTable::AddAll(const http::Router& routes, Access access) {
  for (http::RouteInfo& route : routes.Routes()) {
    Add(std::move(route.method), std::move(route.pattern), access,
        [handler = std::move(route.handler)](http::Request& request) {
          return core::Result<http::Response>(handler(request));
        });
  }
}

http::Response RouteTable::Dispatch(http::Request& request) const {
  return router_.Dispatch(request);
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
