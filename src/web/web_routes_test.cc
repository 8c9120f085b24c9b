// The embedded web UI is served with the security headers the page relies on (a CSP that forbids
// inline script and framing, nosniff, same-origin referrers), the right Content-Type per file,
// and an ETag that turns a repeat request into a 304; nothing outside the embedded set is served.
#include "web/web_routes.h"

#include <gtest/gtest.h>

#include <string>

namespace keybridge::web {
namespace {

std::string HeaderOf(const http::Response& response, const std::string& name) {
  for (const auto& header : response.headers) {
    if (header.name == name) {
      return header.value;
    }
  }
  return "";
}

http::Response Get(const http::Router& router, const std::string& path,
                   const std::string& if_none_match = "") {
  http::Request request;
  request.method = "GET";
  request.path = path;
  if (!if_none_match.empty()) {
    request.headers.push_back({"if-none-match", if_none_match});
  }
  return router.Dispatch(request);
}

class WebRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override { AddWebRoutes(router_); }
  http::Router router_;
};

TEST_F(WebRoutesTest, IndexIsHtmlWithStrictSecurityHeaders) {
  const http::Response response = Get(router_, "/");

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(HeaderOf(response, "Content-Type"), "text/html; charset=utf-8");
  const std::string csp = HeaderOf(response, "Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(HeaderOf(response, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(HeaderOf(response, "Referrer-Policy"), "same-origin");
  EXPECT_EQ(HeaderOf(response, "Cache-Control"), "no-cache");
  EXPECT_NE(response.body.find("/assets/app.js"), std::string::npos);
  // The CSP forbids inline script: the page must not contain any.
  EXPECT_EQ(response.body.find("<script>"), std::string::npos);
}

TEST_F(WebRoutesTest, AssetsHaveTheirContentTypes) {
  EXPECT_EQ(HeaderOf(Get(router_, "/assets/app.js"), "Content-Type"),
            "text/javascript; charset=utf-8");
  EXPECT_EQ(HeaderOf(Get(router_, "/assets/app.css"), "Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(HeaderOf(Get(router_, "/assets/favicon.svg"), "Content-Type"), "image/svg+xml");
}

TEST_F(WebRoutesTest, MatchingEtagAnswers304WithoutBody) {
  const http::Response first = Get(router_, "/assets/app.js");
  const std::string etag = HeaderOf(first, "ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(etag.front(), '"');

  const http::Response again = Get(router_, "/assets/app.js", etag);
  const http::Response stale = Get(router_, "/assets/app.js", "\"something-else\"");

  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(stale.body, first.body);
  EXPECT_NE(HeaderOf(Get(router_, "/assets/app.css"), "ETag"), etag);
}

TEST_F(WebRoutesTest, UnknownAndTraversingNamesAreNotFound) {
  EXPECT_EQ(Get(router_, "/assets/nope.js").status, 404);
  EXPECT_EQ(Get(router_, "/assets/..%2Fsrc%2Fmain.cc").status, 404);
  EXPECT_EQ(Get(router_, "/assets/").status, 404);
}

}  // namespace
}  // namespace keybridge::web
