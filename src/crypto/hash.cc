#include "crypto/hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>

#include "core/check.h"

namespace keybridge::crypto {
namespace {

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string Sha256(std::string_view bytes) {
  std::string digest(kSha256Size, '\0');
  unsigned int length = 0;
  const int ok =
      EVP_Digest(bytes.data(), bytes.size(), reinterpret_cast<unsigned char*>(digest.data()),
                 &length, EVP_sha256(), nullptr);
  KEYBRIDGE_CHECK(ok == 1 && length == kSha256Size, "EVP_Digest(SHA-256) failed");
  return digest;
}

std::string Sha256Hex(std::string_view bytes) {
  return HexEncode(Sha256(bytes));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  KEYBRIDGE_CHECK(key.size() <= INT_MAX, "HMAC key too large");
  std::string mac(kSha256Size, '\0');
  unsigned int length = 0;
  // HMAC() rejects a null key pointer even for an empty key.
  static constexpr unsigned char kEmpty = 0;
  const unsigned char* key_bytes = key.empty() ? &kEmpty : Bytes(key);
  const unsigned char* result =
      HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()), Bytes(data), data.size(),
           reinterpret_cast<unsigned char*>(mac.data()), &length);
  KEYBRIDGE_CHECK(result != nullptr && length == kSha256Size, "HMAC-SHA-256 failed");
  return mac;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  if (a.empty()) {
    return true;
  }
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += kDigits[b >> 4U];
    out += kDigits[b & 0x0FU];
  }
  return out;
}

}  // namespace keybridge::crypto
