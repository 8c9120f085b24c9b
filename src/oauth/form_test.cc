#include "oauth/form.h"

#include <gtest/gtest.h>

namespace keybridge::oauth {
namespace {

TEST(FormEncodeComponent, IsPercentEncodingWithPlusForSpace) {
  EXPECT_EQ(FormEncodeComponent("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(FormEncodeComponent("api read_user  x"), "api+read_user++x");
  EXPECT_EQ(FormEncodeComponent("%20 +%\xc3\xa9"), "%2520+%2B%25%C3%A9");
}

TEST(FormEncode, EncodesPairsInOrderWithPlusForSpace) {
  const FormFields fields = {{"grant_type", "refresh_token"}, {"scope", "a b"}, {"k", "x+y=z&"}};

  EXPECT_EQ(FormEncode(fields), "grant_type=refresh_token&scope=a+b&k=x%2By%3Dz%26");
}

TEST(FormDecode, DecodesPairsPlusAndEscapes) {
  const auto fields = FormDecode("a=1&b=&c&&d=x+y%2Bz%20w&a=2");

  ASSERT_TRUE(fields.has_value());
  const FormFields expected = {{"a", "1"}, {"b", ""}, {"c", ""}, {"d", "x y+z w"}, {"a", "2"}};
  EXPECT_EQ(*fields, expected);
  EXPECT_EQ(*FindField(*fields, "a"), "1");
  EXPECT_EQ(FindField(*fields, "missing"), nullptr);
}

TEST(FormDecode, RoundTripsFormEncode) {
  const FormFields fields = {{"s p", "\x01\xff&=+%"}, {"empty", ""}};

  EXPECT_EQ(FormDecode(FormEncode(fields)), fields);
}

TEST(FormDecode, RejectsMalformedEscapes) {
  for (const char* bad : {"a=%", "a=%4", "a=%zz", "%g1=b", "a=b%"}) {
    EXPECT_FALSE(FormDecode(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace keybridge::oauth
