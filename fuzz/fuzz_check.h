// Shared by every harness in fuzz/: FUZZ_CHECK traps when a harness's property breaks, so libFuzzer
// records a crash (build/fuzz/crashes/) and the corpus replay under ctest fails.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

#define FUZZ_CHECK(condition)                                                                     \
  do {                                                                                            \
    if (!(condition)) {                                                                           \
      std::fprintf(stderr, "fuzz property broken: %s (%s:%d)\n", #condition, __FILE__, __LINE__); \
      __builtin_trap();                                                                           \
    }                                                                                             \
  } while (false)

namespace keybridge::fuzz {

inline std::string_view AsText(const std::uint8_t* data, std::size_t size) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): libFuzzer hands out bytes
  return {reinterpret_cast<const char*>(data), size};
}

// Splits `text` at the first `separator`: {before, after}; {text, ""} without one.
inline std::pair<std::string_view, std::string_view> SplitOnce(std::string_view text,
                                                               char separator) {
  const auto at = text.find(separator);
  if (at == std::string_view::npos) {
    return {text, {}};
  }
  return {text.substr(0, at), text.substr(at + 1)};
}

inline bool HasControlBytes(std::string_view text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return true;
    }
  }
  return false;
}

}  // namespace keybridge::fuzz
