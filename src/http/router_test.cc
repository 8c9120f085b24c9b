#include "http/router.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace keybridge::http {
namespace {

Request MakeRequest(std::string method, std::string path) {
  Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  return request;
}

Handler Respond(std::string body) {
  return [body = std::move(body)](Request&) {
    return Response::Json(200, body);
  };
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    router_.Add("GET", "/api/providers", Respond("list"));
    router_.Add("POST", "/api/providers", Respond("create"));
    router_.Add("GET", "/api/providers/{provider_id}", Respond("get"));
    router_.Add("DELETE", "/api/providers/{provider_id}", Respond("delete"));
    router_.Add("GET", "/api/connections/{id}/token", [](Request& request) {
      return Response::Json(200, request.route_pattern + " " + request.PathParam("id"));
    });
    router_.Add("GET", "/", Respond("root"));
  }

  Response Dispatch(std::string method, std::string path) {
    Request request = MakeRequest(std::move(method), std::move(path));
    return router_.Dispatch(request);
  }

  static std::string HeaderOf(const Response& response, std::string_view name) {
    for (const auto& header : response.headers) {
      if (header.name == name) {
        return header.value;
      }
    }
    return {};
  }

  Router router_;
};

TEST_F(RouterTest, MatchesLiteralPath) {
  EXPECT_EQ(Dispatch("GET", "/api/providers").body, "list");
  EXPECT_EQ(Dispatch("POST", "/api/providers").body, "create");
  EXPECT_EQ(Dispatch("GET", "/").body, "root");
}

TEST_F(RouterTest, FillsDecodedParamsAndPattern) {
  Request request = MakeRequest("GET", "/api/connections/a%20b%2Bc/token");

  const Response response = router_.Dispatch(request);

  EXPECT_EQ(response.body, "/api/connections/{id}/token a b+c");
  EXPECT_EQ(request.path_params.at("id"), "a b+c");
}

TEST_F(RouterTest, RejectsEncodedSlashInParam) {
  EXPECT_EQ(Dispatch("GET", "/api/providers/a%2Fb").status, 404);
  EXPECT_EQ(Dispatch("GET", "/api/providers/a%2fb").status, 404);
}

TEST_F(RouterTest, RejectsDotSegmentsInParam) {
  EXPECT_EQ(Dispatch("GET", "/api/providers/..").status, 404);
  EXPECT_EQ(Dispatch("GET", "/api/providers/%2E%2E").status, 404);
  EXPECT_EQ(Dispatch("GET", "/api/providers/.").status, 404);
  EXPECT_EQ(Dispatch("GET", "/api/providers/%2e").status, 404);
}

TEST_F(RouterTest, RejectsNulAndMalformedEscapesInParam) {
  EXPECT_EQ(Dispatch("GET", "/api/providers/a%00").status, 404);
  EXPECT_EQ(Dispatch("GET", "/api/providers/%zz").status, 404);
}

TEST_F(RouterTest, AcceptsDotsInsideParam) {
  EXPECT_EQ(Dispatch("GET", "/api/providers/gitlab.com").body, "get");
  EXPECT_EQ(Dispatch("GET", "/api/providers/...").body, "get");
}

TEST_F(RouterTest, ParamNeverMatchesEmptySegment) {
  EXPECT_EQ(Dispatch("GET", "/api/providers/").status, 404);
  EXPECT_EQ(Dispatch("GET", "/api/connections//token").status, 404);
}

TEST_F(RouterTest, TrailingSlashDoesNotMatch) {
  EXPECT_EQ(Dispatch("GET", "/api/providers/x/").status, 404);
  EXPECT_EQ(Dispatch("GET", "/api//providers").status, 404);
}

TEST_F(RouterTest, LiteralSegmentsCompareRawText) {
  EXPECT_EQ(Dispatch("GET", "/api/%70roviders").status, 404);
}

TEST_F(RouterTest, UnknownPathIs404JsonError) {
  const Response response = Dispatch("GET", "/nope");

  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(nlohmann::json::parse(response.body)["error"]["code"], 1404);
  EXPECT_EQ(HeaderOf(response, "Allow"), "");
}

TEST_F(RouterTest, KnownPathWithOtherMethodIs405WithAllow) {
  const Response response = Dispatch("PUT", "/api/providers/x");

  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(HeaderOf(response, "Allow"), "GET, DELETE");
  EXPECT_EQ(nlohmann::json::parse(response.body)["error"]["code"], 1405);
}

TEST_F(RouterTest, MethodIsCaseSensitive) {
  EXPECT_EQ(Dispatch("get", "/api/providers").status, 405);
}

TEST_F(RouterTest, RelativePathIs404) {
  EXPECT_EQ(Dispatch("GET", "api/providers").status, 404);
}

TEST_F(RouterTest, RoutesListsRegistrationOrder) {
  const std::vector<RouteInfo> routes = router_.Routes();

  ASSERT_EQ(routes.size(), 6U);
  EXPECT_EQ(routes[0].method, "GET");
  EXPECT_EQ(routes[0].pattern, "/api/providers");
  EXPECT_EQ(routes[3].method, "DELETE");
  EXPECT_EQ(routes[3].pattern, "/api/providers/{provider_id}");
}

TEST(RouterDeathTest, DuplicateRouteIsABug) {
  Router router;
  router.Add("GET", "/x", Respond(""));

  EXPECT_DEATH(router.Add("GET", "/x", Respond("")), "duplicate route");
}

}  // namespace
}  // namespace keybridge::http
