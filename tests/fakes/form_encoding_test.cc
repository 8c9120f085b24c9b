#include "fakes/form_encoding.h"

#include <gtest/gtest.h>

namespace keybridge::fakes {
namespace {

TEST(FormEncoding, EncodesLikeRubyEncodeWwwForm) {
  const std::string text = "The resource owner / a&b=c~é*-._";

  const std::string encoded = FormEncode(text);

  EXPECT_EQ(encoded, "The+resource+owner+%2F+a%26b%3Dc%7E%C3%A9*-._");
}

TEST(FormEncoding, ParseRoundTripsEncodedFields) {
  const FormFields fields = {{"state", "a b&c=d+e"}, {"scope", ""}, {"code", "abc"}};

  const FormFields parsed = ParseFormFields(EncodeFormFields(fields));

  EXPECT_EQ(parsed, fields);
}

TEST(FormEncoding, AppendQueryKeepsAnExistingQuery) {
  const std::string with_query = AppendQuery("http://cb/x?a=1", {{"code", "c d"}});
  const std::string without_query = AppendQuery("http://cb/x", {{"code", "c"}});

  EXPECT_EQ(with_query, "http://cb/x?a=1&code=c+d");
  EXPECT_EQ(without_query, "http://cb/x?code=c");
}

}  // namespace
}  // namespace keybridge::fakes
