// The single error vocabulary of keybridge: every operational failure is an Error value that
// http/error_response.cc maps to an HTTP status and a Renku-shaped JSON body.
#pragma once

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
  kReauthorizationRequired,  // 401: the provider rejected our refresh token; user must reconnect
  kDecryptionFailed,         // 500 (Renku code 1510): stored ciphertext cannot be opened
  kUpstreamFailed,           // 502: a provider or identity issuer answered badly
  kUnavailable,              // 503: transient (database down, provider timeout, 429); retry later
  kInternal,                 // 500: a bug or an unexpected environment failure
};

// `message` is safe to show to the caller; `detail` is for logs only (the route layer logs it for
// 5xx answers). Neither may ever contain a secret (token, client secret, code, verifier): callers
// pass Secret<> values, which print "****". `public_fields` are extra string fields the answer's
// JSON body carries next to "error", for what the caller can do about it (e.g. `connect_url`);
// they are public like `message`.
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::string detail;
  std::vector<std::pair<std::string, std::string>> public_fields;

  Error& WithPublicField(std::string name, std::string value) {
    public_fields.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

std::string_view ToString(ErrorCode code);

inline Error MakeError(ErrorCode code, std::string message, std::string detail = {}) {
  return Error{code, std::move(message), std::move(detail), {}};
}

}  // namespace keybridge::core
