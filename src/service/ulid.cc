#include "service/ulid.h"

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace keybridge::service {
namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

}  // namespace

std::string NewUlid(const core::Clock& clock, core::Random& random) {
  const auto millis = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock.Now().time_since_epoch())
          .count());
  // 128 bits, big-endian: a 48-bit timestamp then 80 random bits. Base32 over 130 bits (two
  // leading zero bits), 5 bits per character.
  std::string bytes(6, '\0');
  for (std::size_t i = 0; i < 6; ++i) {
    bytes[i] = static_cast<char>((millis >> (8U * (5U - i))) & 0xFFU);
  }
  bytes += random.Bytes(10);
  auto bit = [&bytes](std::size_t index) -> unsigned {
    if (index < 2) {
      return 0;
    }
    const std::size_t b = index - 2;
    const auto byte = static_cast<unsigned>(static_cast<unsigned char>(bytes[b / 8]));
    return (byte >> (7U - b % 8U)) & 1U;
  };
  std::string out(26, '0');
  for (std::size_t i = 0; i < 26; ++i) {
    unsigned v = 0;
    for (std::size_t j = 0; j < 5; ++j) {
      v = (v << 1U) | bit(i * 5 + j);
    }
    out[i] = kAlphabet[v];
  }
  return out;
}

bool IsUlid(std::string_view text) {
  return text.size() == 26 && std::all_of(text.begin(), text.end(), [](char c) {
           return kAlphabet.find(c) != std::string_view::npos;
         });
}

}  // namespace keybridge::service
