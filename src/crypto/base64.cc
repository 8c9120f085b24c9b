#include "crypto/base64.h"

#include <array>
#include <cstdint>

namespace keybridge::crypto {
namespace {

constexpr std::string_view kStandardAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::uint8_t kInvalid = 0xFF;

using DecodeTable = std::array<std::uint8_t, 256>;

constexpr DecodeTable MakeDecodeTable(std::string_view alphabet) {
  DecodeTable table{};
  for (auto& entry : table) {
    entry = kInvalid;
  }
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
  }
  return table;
}

constexpr DecodeTable kStandardTable = MakeDecodeTable(kStandardAlphabet);
constexpr DecodeTable kUrlTable = MakeDecodeTable(kUrlAlphabet);

std::string Encode(std::string_view bytes, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const auto n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i]) << 16U)
                   | static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1]) << 8U)
                   | static_cast<unsigned char>(bytes[i + 2]);
    out += alphabet[(n >> 18U) & 0x3FU];
    out += alphabet[(n >> 12U) & 0x3FU];
    out += alphabet[(n >> 6U) & 0x3FU];
    out += alphabet[n & 0x3FU];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 0) {
    return out;
  }
  auto n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i]) << 16U);
  if (rest == 2) {
    n |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1]) << 8U);
  }
  out += alphabet[(n >> 18U) & 0x3FU];
  out += alphabet[(n >> 12U) & 0x3FU];
  if (rest == 2) {
    out += alphabet[(n >> 6U) & 0x3FU];
  }
  if (pad) {
    out.append(rest == 1 ? 2 : 1, '=');
  }
  return out;
}

// Decodes unpadded text (padding already stripped by the caller). Rejects a dangling single
// character and non-zero bits in the last character (RFC 4648 §3.5 canonical encoding), so every
// byte string has exactly one accepted encoding.
std::optional<std::string> DecodeUnpadded(std::string_view text, const DecodeTable& table) {
  if (text.size() % 4 == 1) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t buffer = 0;
  unsigned bits = 0;
  for (const char c : text) {
    const std::uint8_t v = table[static_cast<unsigned char>(c)];
    if (v == kInvalid) {
      return std::nullopt;
    }
    buffer = (buffer << 6U) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFFU);
    }
  }
  if ((buffer & ((1U << bits) - 1U)) != 0) {
    return std::nullopt;
  }
  return out;
}

std::size_t CountPadding(std::string_view text) {
  std::size_t n = 0;
  while (n < text.size() && text[text.size() - 1 - n] == '=') {
    ++n;
  }
  return n;
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  return Encode(bytes, kStandardAlphabet, true);
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  const std::size_t padding = CountPadding(text);
  if (padding > 2) {
    return std::nullopt;
  }
  const std::string_view body = text.substr(0, text.size() - padding);
  // With padding present the unpadded length is fixed by it: "xx==" or "xxx=".
  if (padding != 0 && body.size() % 4 != 4 - padding) {
    return std::nullopt;
  }
  return DecodeUnpadded(body, kStandardTable);
}

std::string Base64UrlEncode(std::string_view bytes) {
  return Encode(bytes, kUrlAlphabet, false);
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  const std::size_t padding = CountPadding(text);
  if (padding != 0) {
    if (padding > 2 || text.size() % 4 != 0) {
      return std::nullopt;
    }
    const std::string_view body = text.substr(0, text.size() - padding);
    if (body.size() % 4 != 4 - padding) {
      return std::nullopt;
    }
    return DecodeUnpadded(body, kUrlTable);
  }
  return DecodeUnpadded(text, kUrlTable);
}

}  // namespace keybridge::crypto
