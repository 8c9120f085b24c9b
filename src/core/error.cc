#include "core/error.h"

namespace keybridge::core {

std::string_view ToString(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kBadRequest:
      return "bad_request";
    case ErrorCode::kUnauthenticated:
      return "unauthenticated";
    case ErrorCode::kPermissionDenied:
      return "permission_denied";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kPayloadTooLarge:
      return "payload_too_large";
    case ErrorCode::kTooManyRequests:
      return "too_many_requests";
    case ErrorCode::kReauthorizationRequired:
      return "reauthorization_required";
    case ErrorCode::kDecryptionFailed:
      return "decryption_failed";
    case ErrorCode::kUpstreamFailed:
      return "upstream_failed";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kWouldWait:
      return "would_wait";
  }
  return "internal";
}

}  // namespace keybridge::core
