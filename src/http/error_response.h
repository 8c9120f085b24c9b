// The only place that maps core::ErrorCode to an HTTP status and Renku's error body:
// {"error": {"code": 1000 + status (1510 for decryption failures), "message": ...}}.
#pragma once

#include "core/error.h"
#include "http/message.h"

namespace keybridge::http {

int StatusFor(core::ErrorCode code);
// Builds the JSON error response; `public_fields` join "error" at the top level of the body.
// `detail` is never sent: routes::ApiRouter logs it.
Response ErrorResponse(const core::Error& error);
// For errors produced by the transport itself (404 unknown route, 405, 413, 400 malformed).
Response ErrorResponse(int status, std::string message);

}  // namespace keybridge::http
