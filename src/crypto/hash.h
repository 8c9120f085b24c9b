// SHA-256, HMAC-SHA-256 and constant-time comparison: the digest primitives behind PKCE (RFC 7636),
// signed flow state and local API token hashes.
#pragma once

#include <string>
#include <string_view>

namespace keybridge::crypto {

inline constexpr std::size_t kSha256Size = 32;

// 32 raw bytes.
std::string Sha256(std::string_view bytes);
// 64 lower-case hex characters.
std::string Sha256Hex(std::string_view bytes);
// 32 raw bytes (RFC 2104). Any key length is accepted.
std::string HmacSha256(std::string_view key, std::string_view data);
// Compares in time independent of the contents (only the lengths may leak). Use it for every
// comparison of secrets, MACs and token hashes.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Lower-case hex of arbitrary bytes.
std::string HexEncode(std::string_view bytes);

}  // namespace keybridge::crypto
