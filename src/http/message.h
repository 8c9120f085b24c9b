// Request and Response: the HTTP message types every inbound handler sees. They carry no Beast
// types, so only http/server.cc compiles Beast.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/caller.h"
#include "core/http_client.h"

namespace keybridge::http {

struct Request {
  std::string method;                     // upper-case, e.g. "GET"
  std::string path;                       // raw (still percent-encoded) path, without the query
  std::string raw_query;                  // raw query string without '?', "" if none
  std::vector<core::HttpHeader> headers;  // names lower-cased, in arrival order
  std::string body;
  std::string remote_address;
  // Filled by Router::Dispatch: the pattern that matched and its percent-decoded parameters.
  std::string route_pattern;
  std::map<std::string, std::string> path_params;
  // Filled by routes::RequestPolicy (authentication) before the route handler runs.
  core::Caller caller;
  // False while a route runs on the database compartment (routes/route_table.h): work that would
  // wait on a provider (a token refresh) answers core::ErrorCode::kWouldWait instead, and the
  // route table runs the handler again on the provider compartment with this true.
  bool may_wait_on_providers = true;

  // First header with this lower-case name, or "" if absent.
  std::string Header(std::string_view lower_name) const;
  // Percent-decoded query parameters ('+' means space), in order.
  std::vector<std::pair<std::string, std::string>> QueryParams() const;
  // First value of a query parameter, if present.
  std::optional<std::string> Query(std::string_view name) const;
  std::string PathParam(const std::string& name) const;
};

struct Response {
  int status = 200;
  std::vector<core::HttpHeader> headers;
  std::string body;

  static Response Json(int status, std::string body);
  static Response NoContent();
  static Response Redirect(std::string location, int status = 302);
  Response& WithHeader(std::string name, std::string value);
};

using Handler = std::function<Response(Request&)>;

// The value of cookie `name` in a Cookie header value (RFC 6265 5.4), if present.
std::optional<std::string> CookieValue(std::string_view cookie_header, std::string_view name);
// The attributes keybridge sets on its cookies (RFC 6265 4.1), written in this order.
struct CookieAttributes {
  std::string path = "/";
  std::int64_t max_age = 0;  // seconds; 0 tells the browser to delete the cookie now
  bool http_only = true;
  std::string same_site = "Lax";  // "" omits the attribute
  bool secure = false;            // set when the public URL is https
};
// The value of a Set-Cookie header: "name=value; Path=/; Max-Age=600; HttpOnly; SameSite=Lax"
// (and "; Secure"). The one place that writes cookies, so every cookie gets the same attributes.
std::string SetCookieHeader(std::string_view name, std::string_view value,
                            const CookieAttributes& attributes);

}  // namespace keybridge::http
