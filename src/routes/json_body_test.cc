#include "routes/json_body.h"

#include <gtest/gtest.h>

namespace keybridge::routes {
namespace {

http::Request WithBody(std::string body) {
  http::Request r;
  r.method = "POST";
  r.body = std::move(body);
  r.headers.push_back({"content-type", "application/json"});
  return r;
}

TEST(ParseJsonObject, RejectsMalformedInvalidUtf8AndNonObjects) {
  for (const char* bad : {"{", "{\"a\":1} trailing", "[1,2]", "\"x\"", "{\"a\":\"\xff\xfe\"}"}) {
    auto parsed = ParseJsonObject(WithBody(bad));
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().code, core::ErrorCode::kBadRequest);
  }
}

std::string Nested(std::size_t depth) {
  // depth levels: the outer object, then depth - 1 arrays.
  return "{\"a\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
}

TEST(ParseJsonObject, RefusesNestingDeeperThanTheLimitWithAClearMessage) {
  auto too_deep = ParseJsonObject(WithBody(Nested(kMaxJsonDepth + 1)));
  auto huge = ParseJsonObject(WithBody(Nested(100000)));  // survives: no deep tree is built

  ASSERT_FALSE(too_deep.ok());
  EXPECT_EQ(too_deep.error().code, core::ErrorCode::kBadRequest);
  EXPECT_NE(too_deep.error().message.find("deeper than 32 levels"), std::string::npos);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().code, core::ErrorCode::kBadRequest);
}

TEST(ParseJsonObject, AcceptsNestingUpToTheLimitAndBracketsInsideStrings) {
  EXPECT_TRUE(ParseJsonObject(WithBody(Nested(kMaxJsonDepth))).ok());
  const std::string brackets = R"({"s":")" + std::string(100, '[') + R"(\"{{{"})";
  EXPECT_TRUE(ParseJsonObject(WithBody(brackets)).ok()) << brackets;
}

TEST(ParseJsonObject, RejectsAWrongContentType) {
  auto r = WithBody("{}");
  r.headers[0].value = "text/plain";
  EXPECT_EQ(ParseJsonObject(r).error().code, core::ErrorCode::kBadRequest);
}

TEST(Fields, NameTheFieldOnWrongTypesAndUnknownKeys) {
  const auto body = nlohmann::json::parse(R"({"a": 1, "b": "x", "c": "y"})");

  auto wrong = OptionalString(body, "a");
  auto unknown = RejectUnknownFields(body, {"a", "b"});

  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("'a' must be a string"), std::string::npos);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("unknown field 'c'"), std::string::npos);
  EXPECT_EQ(RequiredString(body, "zz").error().code, core::ErrorCode::kInvalidArgument);
}

TEST(Dump, NeverThrowsOnInvalidUtf8) {
  nlohmann::json value = {{"m", std::string("cut \xc3")}};
  EXPECT_NO_THROW((void)Dump(value));
}

TEST(JsonMediaType, IsParsedNotSearched) {
  EXPECT_TRUE(IsJsonMediaType("application/json"));
  EXPECT_TRUE(IsJsonMediaType("Application/JSON; charset=utf-8"));
  EXPECT_TRUE(IsJsonMediaType(" application/json ;charset=UTF-8"));
  EXPECT_FALSE(IsJsonMediaType("text/plain; x=application/json"));
  EXPECT_FALSE(IsJsonMediaType("application/jsonp"));
  EXPECT_FALSE(IsJsonMediaType("application/json-patch+json"));
  EXPECT_FALSE(IsJsonMediaType("multipart/form-data; boundary=application/json"));

  http::Request smuggled;
  smuggled.method = "POST";
  smuggled.headers.push_back({"content-type", "text/plain; application/json"});
  smuggled.body = R"({"token":"x"})";
  EXPECT_EQ(ParseJsonObject(smuggled).error().code, core::ErrorCode::kBadRequest)
      << "a cross-site form may send text/plain; it must not count as JSON";
}

}  // namespace
}  // namespace keybridge::routes
