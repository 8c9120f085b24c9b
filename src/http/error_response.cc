#include "http/error_response.h"

#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace keybridge::http {
namespace {

constexpr int kDecryptionFailedCode = 1510;
constexpr std::string_view kGenericInternalMessage = "Internal error; see the server log";

std::string_view DefaultMessage(int status) {
  switch (status) {
    case 400:
      return "Bad request";
    case 401:
      return "Unauthenticated";
    case 403:
      return "Permission denied";
    case 404:
      return "Not found";
    case 405:
      return "Method not allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Payload too large";
    case 422:
      return "Invalid argument";
    case 429:
      return "Too many requests; retry later";
    case 431:
      return "Request header fields too large";
    case 502:
      return "Upstream failure";
    case 503:
      return "Service unavailable; retry later";
    default:
      return status >= 500 ? kGenericInternalMessage : "Request failed";
  }
}

Response Build(int status, int code, std::string message,
               const std::vector<std::pair<std::string, std::string>>& public_fields = {}) {
  if (message.empty()) {
    message = std::string(DefaultMessage(status));
  }
  nlohmann::json body = {{"error", {{"code", code}, {"message", std::move(message)}}}};
  for (const auto& [name, value] : public_fields) {
    if (name != "error") {
      body[name] = value;
    }
  }
  // Messages may quote user input; never let invalid UTF-8 turn into an exception here.
  return Response::Json(status,
                        body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace

int StatusFor(core::ErrorCode code) {
  using core::ErrorCode;
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 422;
    case ErrorCode::kBadRequest:
      return 400;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kPayloadTooLarge:
      return 413;
    case ErrorCode::kTooManyRequests:
      return 429;
    case ErrorCode::kReauthorizationRequired:
      return 401;
    case ErrorCode::kDecryptionFailed:
      return 500;
    case ErrorCode::kUpstreamFailed:
      return 502;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kInternal:
      return 500;
    case ErrorCode::kWouldWait:
      return 503;
  }
  return 500;  // unreachable for valid enumerators; -Wswitch flags unmapped ones
}

Response ErrorResponse(const core::Error& error) {
  const int status = StatusFor(error.code);
  const int code =
      error.code == core::ErrorCode::kDecryptionFailed ? kDecryptionFailedCode : 1000 + status;
  Response response = Build(status, code, error.message, error.public_fields);
  if (error.retry_after) {
    response.headers.push_back({"Retry-After", std::to_string(error.retry_after->count())});
  }
  return response;
}

Response ErrorResponse(int status, std::string message) {
  return Build(status, 1000 + status, std::move(message));
}

}  // namespace keybridge::http
