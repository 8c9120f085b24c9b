// Text helpers for strings that end up in the database or in API responses.
#pragma once

#include <string>
#include <string_view>

namespace keybridge::core {

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
