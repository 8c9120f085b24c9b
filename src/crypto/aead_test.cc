#include "crypto/aead.h"

#include <gtest/gtest.h>

#include "crypto/hash.h"

namespace keybridge::crypto {
namespace {

const std::string kKey(32, '\x11');
const std::string kNonce(12, '\x22');

TEST(Aead, MatchesGcmSpecTestCase14) {
  // McGrew & Viega, "The GCM Mode of Operation", test case 14: zero key, IV and plaintext.
  const std::string key(32, '\0');
  const std::string nonce(12, '\0');
  const std::string plaintext(16, '\0');

  const std::string sealed = Seal(key, nonce, plaintext, "");

  EXPECT_EQ(HexEncode(sealed),
            "cea7403d4d606b6e074ec5d3baf39d18"    // ciphertext
            "d0d1c8a799996bf0265b98b5d48ab919");  // tag
}

TEST(Aead, RoundTrips) {
  const std::string sealed = Seal(kKey, kNonce, "gho_token_value", "row/1");

  const auto opened = Open(kKey, kNonce, sealed, "row/1");

  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "gho_token_value");
  EXPECT_EQ(sealed.size(), std::string("gho_token_value").size() + kAeadTagSize);
}

TEST(Aead, RoundTripsEmptyPlaintext) {
  const std::string sealed = Seal(kKey, kNonce, "", "");

  const auto opened = Open(kKey, kNonce, sealed, "");

  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "");
}

TEST(Aead, RejectsEveryTamperedByte) {
  const std::string sealed = Seal(kKey, kNonce, "plaintext", "aad");

  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string tampered = sealed;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);

    const auto opened = Open(kKey, kNonce, tampered, "aad");

    ASSERT_FALSE(opened.ok()) << "byte " << i;
    EXPECT_EQ(opened.error().code, core::ErrorCode::kDecryptionFailed);
  }
}

TEST(Aead, RejectsWrongAssociatedData) {
  const std::string sealed = Seal(kKey, kNonce, "plaintext", "oauth2_clients/a/client_secret");

  const auto opened = Open(kKey, kNonce, sealed, "oauth2_clients/b/client_secret");

  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, core::ErrorCode::kDecryptionFailed);
}

TEST(Aead, RejectsWrongKeyAndNonce) {
  const std::string sealed = Seal(kKey, kNonce, "plaintext", "");

  EXPECT_FALSE(Open(std::string(32, '\x12'), kNonce, sealed, "").ok());
  EXPECT_FALSE(Open(kKey, std::string(12, '\x23'), sealed, "").ok());
}

TEST(Aead, RejectsInputShorterThanTag) {
  const auto opened = Open(kKey, kNonce, "short", "");

  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, core::ErrorCode::kDecryptionFailed);
}

TEST(Aead, ErrorNamesNoSecret) {
  const std::string sealed = Seal(kKey, kNonce, "top-secret", "");

  const auto opened = Open(kKey, kNonce, sealed, "other");

  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().message.find("top-secret"), std::string::npos);
  EXPECT_EQ(opened.error().detail.find("top-secret"), std::string::npos);
}

}  // namespace
}  // namespace keybridge::crypto
