#include "crypto/base64.h"

#include <gtest/gtest.h>

#include <string>

namespace keybridge::crypto {
namespace {

TEST(Base64, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, DecodesRfc4648Vectors) {
  EXPECT_EQ(Base64Decode(""), "");
  EXPECT_EQ(Base64Decode("Zg=="), "f");
  EXPECT_EQ(Base64Decode("Zm8="), "fo");
  EXPECT_EQ(Base64Decode("Zm9v"), "foo");
  EXPECT_EQ(Base64Decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(Base64Decode("Zm9vYmFy"), "foobar");
}

TEST(Base64, RoundTripsEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all += static_cast<char>(i);
  }

  for (std::size_t length = 0; length <= all.size(); length += 37) {
    const std::string bytes = all.substr(0, length);
    EXPECT_EQ(Base64Decode(Base64Encode(bytes)), bytes);
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(bytes)), bytes);
  }
}

TEST(Base64, StandardDecodeRequiresPadding) {
  EXPECT_EQ(Base64Decode("Zg"), std::nullopt);
  EXPECT_EQ(Base64Decode("Zm8"), std::nullopt);
}

TEST(Base64, RejectsMalformedInput) {
  EXPECT_EQ(Base64Decode("Zg=a"), std::nullopt);    // padding in the middle
  EXPECT_EQ(Base64Decode("Z==="), std::nullopt);    // too much padding
  EXPECT_EQ(Base64Decode("Zm9v\n"), std::nullopt);  // whitespace
  EXPECT_EQ(Base64Decode("Zm9v Zm9v"), std::nullopt);
  EXPECT_EQ(Base64Decode("Zm9*"), std::nullopt);  // outside the alphabet
  EXPECT_EQ(Base64Decode("-_8="), std::nullopt);  // url alphabet in standard decode
  EXPECT_EQ(Base64Decode(std::string("Zm\0v", 4)), std::nullopt);
}

TEST(Base64, RejectsNonCanonicalTrailingBits) {
  // "Zg==" is the only encoding of "f"; "Zh==" differs only in bits that must be zero.
  EXPECT_EQ(Base64Decode("Zh=="), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zh"), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zm9"), std::nullopt);
}

TEST(Base64Url, UsesUrlAlphabetWithoutPadding) {
  const std::string bytes = "\xfb\xff";

  EXPECT_EQ(Base64Encode(bytes), "+/8=");
  EXPECT_EQ(Base64UrlEncode(bytes), "-_8");
}

TEST(Base64Url, DecodesWithOrWithoutPadding) {
  EXPECT_EQ(Base64UrlDecode("-_8"), "\xfb\xff");
  EXPECT_EQ(Base64UrlDecode("-_8="), "\xfb\xff");
  EXPECT_EQ(Base64UrlDecode("Zg"), "f");
  EXPECT_EQ(Base64UrlDecode("Zg=="), "f");
}

TEST(Base64Url, RejectsStandardAlphabetAndBadLengths) {
  EXPECT_EQ(Base64UrlDecode("+/8"), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zm9vY"), std::nullopt);  // 4n+1 characters never decode
  EXPECT_EQ(Base64UrlDecode("Zg="), std::nullopt);    // partial padding
  EXPECT_EQ(Base64UrlDecode("Zm8=="), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zm9v.Zm9v"), std::nullopt);
}

}  // namespace
}  // namespace keybridge::crypto
