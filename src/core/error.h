// The single error vocabulary of keybridge: every operational failure is an Error value that
// http/error_response.cc maps to an HTTP status and a Renku-shaped JSON body.
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keybridge::core {

enum class ErrorCode {
  kInvalidArgument,          // 422: input that is well-formed but not acceptable
  kBadRequest,               // 400: malformed input (bad JSON, bad encoding)
  kUnauthenticated,          // 401: no or invalid credentials
  kPermissionDenied,         // 403: authenticated but not allowed
  kNotFound,                 // 404
  kConflict,                 // 409: e.g. a duplicate provider id
  kPayloadTooLarge,          // 413
  kTooManyRequests,          // 429: this caller asked too often; retry after `retry_after`
  kReauthorizationRequired,  // 401: the provider rejected our refresh token; user must reconnect
  kDecryptionFailed,         // 500 (Renku code 1510): stored ciphertext cannot be opened
  kUpstreamFailed,           // 502: a provider or identity issuer answered badly
  kUnavailable,              // 503: transient (database down, provider timeout, 429); retry later
  kInternal,                 // 500: a bug or an unexpected environment failure
  // Not an answer: the work needs a provider and its caller said it must not wait for one
  // (http::Request::may_wait_on_providers); the route table moves it to the provider
  // compartment. Answered 503 if it ever escapes.
  kWouldWait,
};

// `message` is safe to show to the caller; `detail` is for logs only (the route layer logs it for
// 5xx answers). Neither may ever contain a secret (token, client secret, code, verifier): callers
// pass Secret<> values, which print "****". `public_fields` are extra string fields the answer's
// JSON body carries next to "error", for what the caller can do about it (e.g. `connect_url`);
// they are public like `message`. `retry_after`, when set, is how long the caller should wait
// before trying again (the HTTP Retry-After header of the answer; RFC 9110 §10.2.3).
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::string detail;
  std::vector<std::pair<std::string, std::string>> public_fields;
  std::optional<std::chrono::seconds> retry_after;

  Error& WithRetryAfter(std::chrono::seconds seconds) {
    retry_after = std::max(seconds, std::chrono::seconds(1));
    return *this;
  }

  Error& WithPublicField(std::string name, std::string value) {
    public_fields.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

std::string_view ToString(ErrorCode code);

inline Error MakeError(ErrorCode code, std::string message, std::string detail = {}) {
  return Error{code, std::move(message), std::move(detail), {}, std::nullopt};
}

}  // namespace keybridge::core
