#include "crypto/hash.h"

#include <gtest/gtest.h>

#include "crypto/base64.h"

namespace keybridge::crypto {
namespace {

TEST(Sha256, ProducesRfc7636AppendixBChallenge) {
  const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

  const std::string challenge = Base64UrlEncode(Sha256(verifier));

  EXPECT_EQ(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(Sha256, ReturnsRawBytesAndHex) {
  const std::string digest = Sha256("abc");

  EXPECT_EQ(digest.size(), kSha256Size);
  EXPECT_EQ(HexEncode(digest), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(HmacSha256, MatchesRfc4231TestCase2) {
  const std::string mac = HmacSha256("Jefe", "what do ya want for nothing?");

  EXPECT_EQ(HexEncode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256, DependsOnKey) {
  EXPECT_NE(HmacSha256("key-a", "data"), HmacSha256("key-b", "data"));
  EXPECT_EQ(HmacSha256("", "data").size(), kSha256Size);
}

TEST(ConstantTimeEquals, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secre"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

}  // namespace
}  // namespace keybridge::crypto
