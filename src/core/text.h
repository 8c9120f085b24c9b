// Text helpers: ASCII case folding (header names, schemes, hosts, tokens like "Bearer"; never
// locale-dependent) and UTF-8-safe truncation for strings that end up in the database or in API
// responses.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace keybridge::core {

inline char AsciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// `text` with A-Z turned into a-z; every other byte (UTF-8 included) unchanged.
inline std::string AsciiLower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) { return AsciiLower(c); });
  return out;
}

// Whether `a` and `b` are equal ignoring ASCII case (RFC 9110 field names, auth schemes).
inline bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return AsciiLower(x) == AsciiLower(y); });
}

// At most `max_bytes` bytes of `text`, never ending inside a UTF-8 sequence (so the result stays
// valid UTF-8 if the input was: PostgreSQL rejects broken UTF-8, and JSON output would too).
inline std::string TruncateUtf8(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) {
    return std::string(text);
  }
  std::size_t end = max_bytes;
  // Step back over continuation bytes (10xxxxxx) and then the lead byte of the cut sequence.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0U) == 0x80U) {
    --end;
  }
  return std::string(text.substr(0, end));
}

}  // namespace keybridge::core
