#include "crypto/aead.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <climits>
#include <memory>

#include "core/check.h"

namespace keybridge::crypto {
namespace {

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* MutableBytes(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}

core::Error DecryptionFailed() {
  ERR_clear_error();
  return core::MakeError(core::ErrorCode::kDecryptionFailed, "stored secret could not be decrypted",
                         "AES-256-GCM authentication failed");
}

}  // namespace

std::string Seal(std::string_view key, std::string_view nonce, std::string_view plaintext,
                 std::string_view associated_data) {
  KEYBRIDGE_CHECK(key.size() == kAeadKeySize, "AES-256-GCM key must be 32 bytes");
  KEYBRIDGE_CHECK(nonce.size() == kAeadNonceSize, "AES-256-GCM nonce must be 12 bytes");
  KEYBRIDGE_CHECK(plaintext.size() <= INT_MAX - kAeadTagSize && associated_data.size() <= INT_MAX,
                  "AES-256-GCM input too large");

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  KEYBRIDGE_CHECK(ctx != nullptr, "EVP_CIPHER_CTX_new failed");
  // The default GCM IV length is 12 bytes, so no EVP_CTRL_GCM_SET_IVLEN is needed.
  int ok = EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key), Bytes(nonce));
  int length = 0;
  if (ok == 1 && !associated_data.empty()) {
    ok = EVP_EncryptUpdate(ctx.get(), nullptr, &length, Bytes(associated_data),
                           static_cast<int>(associated_data.size()));
  }
  std::string out(plaintext.size() + kAeadTagSize, '\0');
  int written = 0;
  if (ok == 1 && !plaintext.empty()) {
    ok = EVP_EncryptUpdate(ctx.get(), MutableBytes(out), &written, Bytes(plaintext),
                           static_cast<int>(plaintext.size()));
  }
  int final_length = 0;
  if (ok == 1) {
    ok = EVP_EncryptFinal_ex(ctx.get(), MutableBytes(out) + written, &final_length);
  }
  if (ok == 1) {
    ok = EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kAeadTagSize),
                             MutableBytes(out) + plaintext.size());
  }
  KEYBRIDGE_CHECK(ok == 1 && static_cast<std::size_t>(written + final_length) == plaintext.size(),
                  "AES-256-GCM encryption failed");
  return out;
}

core::Result<std::string> Open(std::string_view key, std::string_view nonce,
                               std::string_view ciphertext_and_tag,
                               std::string_view associated_data) {
  KEYBRIDGE_CHECK(key.size() == kAeadKeySize, "AES-256-GCM key must be 32 bytes");
  KEYBRIDGE_CHECK(nonce.size() == kAeadNonceSize, "AES-256-GCM nonce must be 12 bytes");
  if (ciphertext_and_tag.size() < kAeadTagSize || ciphertext_and_tag.size() > INT_MAX
      || associated_data.size() > INT_MAX) {
    return DecryptionFailed();
  }
  const std::string_view ciphertext =
      ciphertext_and_tag.substr(0, ciphertext_and_tag.size() - kAeadTagSize);
  // EVP_CIPHER_CTX_ctrl takes a non-const pointer even for setting the expected tag.
  std::string tag(ciphertext_and_tag.substr(ciphertext.size()));

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  KEYBRIDGE_CHECK(ctx != nullptr, "EVP_CIPHER_CTX_new failed");
  int ok = EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key), Bytes(nonce));
  int length = 0;
  if (ok == 1 && !associated_data.empty()) {
    ok = EVP_DecryptUpdate(ctx.get(), nullptr, &length, Bytes(associated_data),
                           static_cast<int>(associated_data.size()));
  }
  std::string plaintext(ciphertext.size(), '\0');
  int written = 0;
  if (ok == 1 && !ciphertext.empty()) {
    ok = EVP_DecryptUpdate(ctx.get(), MutableBytes(plaintext), &written, Bytes(ciphertext),
                           static_cast<int>(ciphertext.size()));
  }
  if (ok == 1) {
    ok = EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kAeadTagSize),
                             MutableBytes(tag));
  }
  int final_length = 0;
  // The tag is checked here; on failure the decrypted bytes must not be released.
  if (ok == 1) {
    ok = EVP_DecryptFinal_ex(ctx.get(), MutableBytes(plaintext) + written, &final_length);
  }
  if (ok != 1) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return DecryptionFailed();
  }
  return plaintext;
}

}  // namespace keybridge::crypto
