// What the server enforces on every response a handler returns, before Beast sees it: valid
// header names and values (no response splitting), framing headers reserved to the server, and
// the defaults every answer gets. Plain functions over http::Response, no Beast.
#pragma once

#include <string_view>

#include "core/http_client.h"
#include "http/message.h"

namespace keybridge::http {

// The first header with this name (ASCII case-insensitive), or nullptr.
const core::HttpHeader* FindHeader(const Response& response, std::string_view name);
// Header names must be tokens and values must not contain CR, LF or NUL.
bool IsValidHeader(const core::HttpHeader& header);
// Content-Length, Transfer-Encoding and Connection belong to the server.
bool IsFramingHeader(std::string_view name);
// nosniff; no-store on JSON; Retry-After: 5 on a 503 without one; unless the handler chose.
void ApplyDefaultHeaders(Response& response);
// A status in 200..599 and only valid headers.
bool IsValidResponse(const Response& response);
bool StatusForbidsBody(int status);

}  // namespace keybridge::http
