// Base64 (RFC 4648 §4, with padding) and base64url (§5, without padding) codecs, used for JWT
// segments, JWK members, key files and sealed values.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace keybridge::crypto {

// Standard alphabet, always padded to a multiple of 4 characters.
std::string Base64Encode(std::string_view bytes);
// Strict: requires padding, rejects whitespace, characters outside the alphabet and
// non-canonical trailing bits. std::nullopt on any malformed input.
std::optional<std::string> Base64Decode(std::string_view text);

// URL-safe alphabet ('-', '_'), no padding (JWS/JWK form, RFC 7515 §2).
std::string Base64UrlEncode(std::string_view bytes);
// Accepts input with or without '=' padding; otherwise as strict as Base64Decode.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace keybridge::crypto
