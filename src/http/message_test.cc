#include "http/message.h"

#include <gtest/gtest.h>

namespace keybridge::http {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(RequestQuery, DecodesParametersInOrder) {
  Request request;
  request.raw_query = "code=a%2Bb&state=x+y&empty=&flag&&code=second";

  EXPECT_EQ(
      request.QueryParams(),
      (Pairs{{"code", "a+b"}, {"state", "x y"}, {"empty", ""}, {"flag", ""}, {"code", "second"}}));
}

TEST(RequestQuery, QueryReturnsFirstValueOrNothing) {
  Request request;
  request.raw_query = "a=1&a=2";

  EXPECT_EQ(request.Query("a"), "1");
  EXPECT_EQ(request.Query("b"), std::nullopt);
}

TEST(RequestQuery, DropsPairsWithMalformedEscapes) {
  Request request;
  request.raw_query = "bad=%zz&good=1";

  EXPECT_EQ(request.QueryParams(), (Pairs{{"good", "1"}}));
}

TEST(RequestHeader, FindsFirstByLowerCaseName) {
  Request request;
  request.headers = {{"x-a", "1"}, {"x-a", "2"}};

  EXPECT_EQ(request.Header("x-a"), "1");
  EXPECT_EQ(request.Header("x-b"), "");
}

TEST(RequestPathParam, ReturnsEmptyWhenAbsent) {
  Request request;
  request.path_params["id"] = "42";

  EXPECT_EQ(request.PathParam("id"), "42");
  EXPECT_EQ(request.PathParam("other"), "");
}

TEST(SetCookieHeader, WritesTheSessionCookieAttributesInOrder) {
  EXPECT_EQ(SetCookieHeader("kb_session", "abc", {.path = "/", .max_age = 604800}),
            "kb_session=abc; Path=/; Max-Age=604800; HttpOnly; SameSite=Lax");
  EXPECT_EQ(
      SetCookieHeader("__Host-kb_session", "abc", {.path = "/", .max_age = 604800, .secure = true}),
      "__Host-kb_session=abc; Path=/; Max-Age=604800; HttpOnly; SameSite=Lax; Secure");
}

TEST(SetCookieHeader, ClearsAFlowCookieOnItsPath) {
  EXPECT_EQ(
      SetCookieHeader("kb_flow_x", "", {.path = "/api/data/oauth2/callback", .secure = true}),
      "kb_flow_x=; Path=/api/data/oauth2/callback; Max-Age=0; HttpOnly; SameSite=Lax; Secure");
}

TEST(SetCookieHeader, OmitsHttpOnlyAndSameSiteWhenAsked) {
  EXPECT_EQ(SetCookieHeader("c", "v", {.max_age = 5, .http_only = false, .same_site = ""}),
            "c=v; Path=/; Max-Age=5");
  EXPECT_EQ(SetCookieHeader("c", "v", {.max_age = 5, .same_site = "Strict"}),
            "c=v; Path=/; Max-Age=5; HttpOnly; SameSite=Strict");
}

TEST(ResponseFactories, JsonSetsContentType) {
  const Response response = Response::Json(201, R"({"a":1})");

  EXPECT_EQ(response.status, 201);
  ASSERT_EQ(response.headers.size(), 1U);
  EXPECT_EQ(response.headers[0].name, "Content-Type");
  EXPECT_EQ(response.headers[0].value, "application/json");
  EXPECT_EQ(response.body, R"({"a":1})");
}

TEST(ResponseFactories, NoContentIsEmpty204) {
  const Response response = Response::NoContent();

  EXPECT_EQ(response.status, 204);
  EXPECT_TRUE(response.body.empty());
}

TEST(ResponseFactories, RedirectSetsLocation) {
  const Response response = Response::Redirect("https://example.org/next", 303);

  EXPECT_EQ(response.status, 303);
  ASSERT_EQ(response.headers.size(), 1U);
  EXPECT_EQ(response.headers[0].name, "Location");
  EXPECT_EQ(response.headers[0].value, "https://example.org/next");
}

TEST(ResponseFactories, WithHeaderAppendsEvenWhenNameRepeats) {
  Response response = Response::NoContent();

  response.WithHeader("Set-Cookie", "a=1").WithHeader("Set-Cookie", "b=2");

  ASSERT_EQ(response.headers.size(), 2U);
  EXPECT_EQ(response.headers[1].value, "b=2");
}

}  // namespace
}  // namespace keybridge::http
