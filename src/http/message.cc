#include "http/message.h"

#include <string_view>

namespace keybridge::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

bool IsUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
         || c == '.' || c == '_' || c == '~';
}

}  // namespace

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
    auto name = PercentDecode(pair.substr(0, eq), /*plus_is_space=*/true);
    auto value = eq == std::string_view::npos
                     ? std::optional<std::string>(std::string{})
                     : PercentDecode(pair.substr(eq + 1), /*plus_is_space=*/true);
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

std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (text.size() - i < 3) {
        return std::nullopt;
      }
      const int high = HexValue(text[i + 1]);
      const int low = HexValue(text[i + 2]);
      if (high < 0 || low < 0) {
        return std::nullopt;
      }
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string PercentEncode(std::string_view text) {
  constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (IsUnreserved(c)) {
      out.push_back(c);
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[byte >> 4U]);
      out.push_back(kHex[byte & 0x0FU]);
    }
  }
  return out;
}

}  // namespace keybridge::http
