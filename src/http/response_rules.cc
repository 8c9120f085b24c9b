#include "http/response_rules.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "core/text.h"

namespace keybridge::http {
namespace {

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0
         || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

const core::HttpHeader* FindHeader(const Response& response, std::string_view name) {
  for (const auto& header : response.headers) {
    if (core::EqualsIgnoreAsciiCase(header.name, name)) {
      return &header;
    }
  }
  return nullptr;
}

// Header names must be tokens and values must not contain CR, LF or NUL: a handler that echoes
// user input into a Location header must not be able to inject headers (response splitting).
bool IsValidHeader(const core::HttpHeader& header) {
  return !header.name.empty() && std::all_of(header.name.begin(), header.name.end(), IsTokenChar)
         && header.value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

// Framing headers belong to the server; a handler-provided value could desynchronise the stream.
bool IsFramingHeader(std::string_view name) {
  return core::EqualsIgnoreAsciiCase(name, "content-length")
         || core::EqualsIgnoreAsciiCase(name, "transfer-encoding")
         || core::EqualsIgnoreAsciiCase(name, "connection");
}

// Defaults every response gets unless the handler chose otherwise.
void ApplyDefaultHeaders(Response& response) {
  if (FindHeader(response, "x-content-type-options") == nullptr) {
    response.headers.push_back({"X-Content-Type-Options", "nosniff"});
  }
  const core::HttpHeader* type = FindHeader(response, "content-type");
  if (type != nullptr && core::AsciiLower(type->value).find("json") != std::string::npos
      && FindHeader(response, "cache-control") == nullptr) {
    response.headers.push_back({"Cache-Control", "no-store"});
  }
  if (response.status == 503 && FindHeader(response, "retry-after") == nullptr) {
    response.headers.push_back({"Retry-After", "5"});
  }
}

bool IsValidResponse(const Response& response) {
  return response.status >= 200 && response.status <= 599
         && std::all_of(response.headers.begin(), response.headers.end(), IsValidHeader);
}

bool StatusForbidsBody(int status) {
  return status == 204 || status == 304;
}

}  // namespace keybridge::http
