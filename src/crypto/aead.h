// AES-256-GCM authenticated encryption: the primitive under KeyRing (secrets at rest) and any
// value that must come back untampered. Callers own nonce uniqueness: never reuse a nonce with a
// key (KeyRing draws a random 96-bit nonce per seal).
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace keybridge::crypto {

inline constexpr std::size_t kAeadKeySize = 32;
inline constexpr std::size_t kAeadNonceSize = 12;
inline constexpr std::size_t kAeadTagSize = 16;

// Returns ciphertext | 16-byte tag. `key` must be 32 bytes and `nonce` 12 bytes (a wrong size is a
// bug: KEYBRIDGE_CHECK). `associated_data` is authenticated but not encrypted.
std::string Seal(std::string_view key, std::string_view nonce, std::string_view plaintext,
                 std::string_view associated_data);

// Inverse of Seal. kDecryptionFailed if the input is shorter than a tag, or the tag does not
// verify (wrong key, wrong nonce, wrong associated data, any modified byte).
core::Result<std::string> Open(std::string_view key, std::string_view nonce,
                               std::string_view ciphertext_and_tag,
                               std::string_view associated_data);

}  // namespace keybridge::crypto
