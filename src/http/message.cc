#include "http/message.h"

#include <string_view>

#include "core/url.h"

namespace keybridge::http {

std::string Request::Header(std::string_view lower_name) const {
  for (const auto& header : headers) {
    if (header.name == lower_name) {
      return header.value;
    }
  }
  return {};
}

std::vector<std::pair<std::string, std::string>> Request::QueryParams() const {
  std::vector<std::pair<std::string, std::string>> params;
  std::string_view rest = raw_query;
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    const std::size_t eq = pair.find('=');
    auto name = core::PercentDecode(pair.substr(0, eq), /*plus_is_space=*/true);
    auto value = eq == std::string_view::npos
                     ? std::optional<std::string>(std::string{})
                     : core::PercentDecode(pair.substr(eq + 1), /*plus_is_space=*/true);
    // A pair with a malformed escape is dropped rather than guessed at.
    if (name && value) {
      params.emplace_back(std::move(*name), std::move(*value));
    }
  }
  return params;
}

std::optional<std::string> Request::Query(std::string_view name) const {
  for (auto& [key, value] : QueryParams()) {
    if (key == name) {
      return std::move(value);
    }
  }
  return std::nullopt;
}

std::string Request::PathParam(const std::string& name) const {
  const auto it = path_params.find(name);
  return it == path_params.end() ? std::string{} : it->second;
}

Response Response::Json(int status, std::string body) {
  Response response;
  response.status = status;
  response.headers.push_back({"Content-Type", "application/json"});
  response.body = std::move(body);
  return response;
}

Response Response::NoContent() {
  Response response;
  response.status = 204;
  return response;
}

Response Response::Redirect(std::string location, int status) {
  Response response;
  response.status = status;
  response.headers.push_back({"Location", std::move(location)});
  return response;
}

Response& Response::WithHeader(std::string name, std::string value) {
  headers.push_back({std::move(name), std::move(value)});
  return *this;
}

std::string SetCookieHeader(std::string_view name, std::string_view value,
                            const CookieAttributes& attributes) {
  std::string cookie = std::string(name) + "=" + std::string(value) + "; Path=" + attributes.path
                       + "; Max-Age=" + std::to_string(attributes.max_age);
  if (attributes.http_only) {
    cookie += "; HttpOnly";
  }
  if (!attributes.same_site.empty()) {
    cookie += "; SameSite=" + attributes.same_site;
  }
  if (attributes.secure) {
    cookie += "; Secure";
  }
  return cookie;
}

std::optional<std::string> CookieValue(std::string_view cookie_header, std::string_view name) {
  std::size_t start = 0;
  while (start < cookie_header.size()) {
    auto end = cookie_header.find(';', start);
    if (end == std::string_view::npos) {
      end = cookie_header.size();
    }
    std::string_view pair = cookie_header.substr(start, end - start);
    while (!pair.empty() && pair.front() == ' ') {
      pair.remove_prefix(1);
    }
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name
        && pair[name.size()] == '=') {
      return std::string(pair.substr(name.size() + 1));
    }
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace keybridge::http
