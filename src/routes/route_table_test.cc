// The route table's request policy (who may call a route, CSRF) and its one place that turns
// errors into answers (Renku body, detail logged, never sent).
#include "routes/route_table.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "core/bounded_executor.h"
#include "core/memory_only.h"
#include "service/browser_session_service.h"

namespace keybridge::routes {
namespace {

using nlohmann::json;

constexpr const char* kPublicUrl = "https://kb.example.org";
constexpr const char* kCookie = "cookie-value";

core::Caller SessionCaller() {
  core::Caller caller = core::Caller::User(core::UserId("alice"));
  caller.session_scope = core::SessionScope{"st_1", "jupyter", {}, {}};
  return caller;
}

core::Caller BrowserCaller() {
  core::Caller caller = core::Caller::User(core::UserId("alice"));
  caller.browser_session = true;
  return caller;
}

// Captures what the default logger writes while it lives.
class CapturedLog {
 public:
  CapturedLog()
      : previous_(spdlog::default_logger()),
        logger_(std::make_shared<spdlog::logger>(
            "captured", std::make_shared<spdlog::sinks::ostream_sink_mt>(text_))) {
    logger_->set_pattern("%l %v");
    logger_->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger_);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;
  std::string str() const { return text_.str(); }

 private:
  std::ostringstream text_;
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<spdlog::logger> logger_;
};

class RouteTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const Access access : {Access::kAnonymous, Access::kAnonymousOrSession, Access::kUser,
                                Access::kUserOrSession, Access::kAdmin}) {
      const std::string path = "/" + std::string(ToString(access));
      routes_.Add("GET", path, access, Compartment::kDatabase, Ok());
      routes_.Add("POST", path, access, Compartment::kDatabase, Ok());
    }
    routes_.Add("POST", "/no-csrf", Access::kUser, Compartment::kDatabase, Ok(),
                Csrf::kNotRequired);
    routes_.Add("GET", "/fails/{status}", Access::kAnonymous, Compartment::kDatabase,
                [](http::Request& request) -> core::Result<http::Response> {
                  const std::string status = request.PathParam("status");
                  const core::ErrorCode code = status == "500"   ? core::ErrorCode::kInternal
                                               : status == "503" ? core::ErrorCode::kUnavailable
                                                                 : core::ErrorCode::kNotFound;
                  return core::MakeError(code, "It failed.", "connection refused by 10.0.0.7")
                      .WithPublicField("connect_url", "https://kb.example.org/connect");
                });
  }

  static RouteHandler Ok() {
    return [](http::Request& request) -> core::Result<http::Response> {
      return http::Response::Json(200, R"({"user":")" + request.caller.user_id.value() + "\"}");
    };
  }

  http::Response Call(const std::string& method, const std::string& path,
                      std::vector<core::HttpHeader> headers = {}) {
    http::Request request;
    request.method = method;
    request.path = path;
    request.headers = std::move(headers);
    return http::RunHere(routes_.Dispatch(request));
  }

  static std::string Message(const http::Response& response) {
    return json::parse(response.body)["error"]["message"].get<std::string>();
  }

  core::Caller caller_;
  std::string seen_authorization_;
  std::string seen_cookie_;
  RequestPolicy policy_{[this](std::string_view authorization, std::string_view cookie) {
                          seen_authorization_ = std::string(authorization);
                          seen_cookie_ = std::string(cookie);
                          return caller_;
                        },
                        RequestPolicyOptions{kPublicUrl, true}};
  RouteTable routes_{policy_};
};

TEST_F(RouteTableTest, SessionTokensReachOnlyRoutesThatAdmitThem) {
  caller_ = SessionCaller();

  EXPECT_EQ(Call("GET", "/anonymous-or-session-token").status, 200);
  EXPECT_EQ(Call("GET", "/user-or-session-token").status, 200);
  for (const char* path : {"/anonymous", "/user", "/admin"}) {
    const http::Response denied = Call("GET", path);
    EXPECT_EQ(denied.status, 403) << path;
    EXPECT_EQ(Message(denied), "session tokens can only obtain tokens") << path;
  }
}

TEST_F(RouteTableTest, AnonymousCallersGet401BelowUserRoutes) {
  caller_.rejected_reason = "token expired";

  EXPECT_EQ(Call("GET", "/anonymous").status, 200);
  EXPECT_EQ(Call("GET", "/anonymous-or-session-token").status, 200);
  for (const char* path : {"/user", "/user-or-session-token"}) {
    const http::Response refused = Call("GET", path);
    EXPECT_EQ(refused.status, 401) << path;
    EXPECT_EQ(Message(refused),
              "You have to be authenticated to perform this operation. The presented credentials "
              "were rejected: token expired.");
  }
  EXPECT_EQ(Call("GET", "/admin").status, 401);
}

TEST_F(RouteTableTest, OnlyAdministratorsReachAdminRoutes) {
  caller_ = core::Caller::User(core::UserId("alice"));
  const http::Response user = Call("GET", "/admin");
  caller_ = core::Caller::User(core::UserId("root"), /*admin=*/true);
  const http::Response admin = Call("GET", "/admin");

  EXPECT_EQ(user.status, 403);
  EXPECT_EQ(Message(user), "You do not have the required permissions for this operation.");
  EXPECT_EQ(admin.status, 200);
}

TEST_F(RouteTableTest, CookieCountsOnlyWithoutAuthorizationHeader) {
  Call("GET", "/user", {{"cookie", "__Host-kb_session=" + std::string(kCookie)}});
  EXPECT_EQ(seen_cookie_, kCookie);
  EXPECT_EQ(seen_authorization_, "");

  Call("GET", "/user",
       {{"authorization", "Bearer kb_x"}, {"cookie", "__Host-kb_session=" + std::string(kCookie)}});
  EXPECT_EQ(seen_cookie_, "");
  EXPECT_EQ(seen_authorization_, "Bearer kb_x");
}

TEST_F(RouteTableTest, AnOAuthClientRouteLooksAtNoCredentialAndRunsAnonymously) {
  routes_.Add("POST", "/token", Access::kOAuthClient, Compartment::kDatabase, Ok(),
              Csrf::kNotRequired);
  caller_ = core::Caller::User(core::UserId("alice"), true);

  // rclone sends its own client id and secret as Basic, which any other route refuses; a foreign
  // page's cookie and Origin change nothing either.
  const http::Response answer = Call("POST", "/token",
                                     {{"authorization", "Basic cmNsb25lOnNlY3JldA=="},
                                      {"cookie", "__Host-kb_session=" + std::string(kCookie)},
                                      {"origin", "https://evil.example"}});

  EXPECT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(answer.body, R"({"user":""})") << "the handler sees an anonymous caller";
  EXPECT_EQ(seen_authorization_, "") << "the authenticator was not even asked";
  EXPECT_EQ(seen_cookie_, "");
}

TEST_F(RouteTableTest, CookieAuthenticatedChangesNeedTheCsrfTokenAndOurOrigin) {
  caller_ = BrowserCaller();
  const core::HttpHeader cookie{"cookie", "__Host-kb_session=" + std::string(kCookie)};
  const core::HttpHeader token{"x-csrf-token", service::BrowserSessionService::CsrfToken(kCookie)};

  const http::Response missing = Call("POST", "/user", {cookie});
  const http::Response wrong = Call("POST", "/user", {cookie, {"x-csrf-token", "guess"}});
  const http::Response foreign = Call("POST", "/user", {cookie, token, {"origin", "https://evil"}});

  EXPECT_EQ(missing.status, 403);
  EXPECT_EQ(Message(missing),
            "Request refused: the X-CSRF-Token header is missing or wrong. Reload the page and try "
            "again.");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(foreign.status, 403);
  EXPECT_EQ(Message(foreign),
            "Request refused: it came from another site (https://evil), not from "
            "https://kb.example.org.");
  EXPECT_EQ(Call("POST", "/user", {cookie, token, {"origin", kPublicUrl}}).status, 200);
  EXPECT_EQ(Call("GET", "/user", {cookie}).status, 200) << "GET needs no CSRF token";
  EXPECT_EQ(Call("POST", "/no-csrf", {cookie}).status, 200) << "the route opted out";
}

TEST_F(RouteTableTest, BearerRequestsAreNotCsrfChecked) {
  caller_ = core::Caller::User(core::UserId("alice"));

  EXPECT_EQ(
      Call("POST", "/user", {{"authorization", "Bearer kb_x"}, {"origin", "https://evil"}}).status,
      200);
}

TEST_F(RouteTableTest, TableListsEveryRouteWithItsPolicy) {
  const auto& specs = routes_.Routes();

  ASSERT_EQ(specs.size(), 12U);
  EXPECT_EQ(specs[0].method, "GET");
  EXPECT_EQ(specs[0].pattern, "/anonymous");
  EXPECT_EQ(specs[0].policy.access, Access::kAnonymous);
  EXPECT_FALSE(specs[0].policy.csrf);
  EXPECT_TRUE(specs[1].policy.csrf);
  EXPECT_EQ(specs[10].pattern, "/no-csrf");
  EXPECT_FALSE(specs[10].policy.csrf);
}

TEST_F(RouteTableTest, ServerErrorDetailIsLoggedWithTheRouteAndNeverSent) {
  CapturedLog log;

  const http::Response response = Call("GET", "/fails/500");

  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body, R"({"connect_url":"https://kb.example.org/connect",)"
                           R"("error":{"code":1500,"message":"It failed."}})");
  EXPECT_NE(log.str().find("error GET /fails/{status} answered 500 (internal): It failed.: "
                           "connection refused by 10.0.0.7"),
            std::string::npos)
      << log.str();
}

TEST_F(RouteTableTest, UnavailableIsAWarningAndClientErrorsAreNotLogged) {
  CapturedLog log;

  EXPECT_EQ(Call("GET", "/fails/503").status, 503);
  EXPECT_EQ(Call("GET", "/fails/404").status, 404);

  const std::string text = log.str();
  EXPECT_EQ(text.rfind("warning GET /fails/{status} answered 503", 0), 0U) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
}

TEST_F(RouteTableTest, AddAllServesPlainHandlersPubliclyOnTheIoThreadWithoutAuthenticating) {
  http::Router pages;
  pages.Add("GET", "/", [](http::Request&) { return http::Response::Json(200, "{}"); });
  routes_.AddAll(pages);
  http::Request request;
  request.method = "GET";
  request.path = "/";
  request.headers = {{"authorization", "Bearer kbs_x"}};

  http::Reply reply = routes_.Dispatch(request);

  ASSERT_TRUE(std::holds_alternative<http::Response>(reply)) << "answered inline, not offloaded";
  EXPECT_EQ(std::get<http::Response>(reply).status, 200);
  EXPECT_EQ(seen_authorization_, "") << "public routes never authenticate";
}

TEST_F(RouteTableTest, AnInlineRouteMustBePublic) {
  EXPECT_THROW(routes_.Add("GET", "/inline", Access::kAnonymous, Compartment::kInline, Ok()),
               std::logic_error);
}

TEST(RouteTableCompartments, ARouteRunsOnItsCompartmentAndMovesToTheProviderOnlyWhenItMustWait) {
  core::BoundedExecutor database({.name = "database", .threads = 1});
  core::BoundedExecutor provider({.name = "provider", .threads = 1});
  core::BoundedExecutor probe({.name = "probe", .threads = 1});
  RequestPolicy policy([](std::string_view, std::string_view) { return core::Caller(); }, {});
  RouteTable routes(policy,
                    Compartments{.database = &database, .provider = &provider, .probe = &probe});
  std::vector<bool> runs;  // may_wait_on_providers of each run of the handler
  routes.Add("GET", "/token/{state}", Access::kAnonymous, Compartment::kDatabase,
             [&runs](http::Request& request) -> core::Result<http::Response> {
               runs.push_back(request.may_wait_on_providers);
               if (request.PathParam("state") == "expired" && !request.may_wait_on_providers) {
                 return core::MakeError(core::ErrorCode::kWouldWait, "");
               }
               return http::Response::Json(200, "{}");
             });
  routes.Add("GET", "/check", Access::kAnonymous, Compartment::kProbe,
             [](http::Request&) -> core::Result<http::Response> {
               return http::Response::Json(200, "{}");
             });
  http::Request fresh;
  fresh.method = "GET";
  fresh.path = "/token/fresh";
  http::Request expired = fresh;
  expired.path = "/token/expired";
  http::Request check = fresh;
  check.path = "/check";

  http::Reply fresh_reply = routes.Dispatch(fresh);
  ASSERT_TRUE(std::holds_alternative<http::Offload>(fresh_reply));
  EXPECT_EQ(std::get<http::Offload>(fresh_reply).compartment, &database);
  http::Reply fresh_done = std::get<http::Offload>(fresh_reply).work();
  ASSERT_TRUE(std::holds_alternative<http::Response>(fresh_done)) << "a fresh read stays there";
  EXPECT_EQ(runs, std::vector<bool>({false}));

  runs.clear();
  http::Reply expired_reply = routes.Dispatch(expired);
  http::Reply moved = std::get<http::Offload>(expired_reply).work();
  ASSERT_TRUE(std::holds_alternative<http::Offload>(moved));
  EXPECT_EQ(std::get<http::Offload>(moved).compartment, &provider);
  http::Reply expired_done = std::get<http::Offload>(moved).work();
  ASSERT_TRUE(std::holds_alternative<http::Response>(expired_done));
  EXPECT_EQ(std::get<http::Response>(expired_done).status, 200);
  EXPECT_EQ(runs, std::vector<bool>({false, true}));

  http::Reply check_reply = routes.Dispatch(check);
  EXPECT_EQ(std::get<http::Offload>(check_reply).compartment, &probe);
}

TEST(RouteTableCompartments, AMemoryFirstRouteAnswersOnTheIoThreadUntilItNeedsTheDatabase) {
  core::BoundedExecutor database({.name = "database", .threads = 1});
  core::BoundedExecutor provider({.name = "provider", .threads = 1});
  // The authenticator, as the real one: from memory when it can, else kWouldWait.
  std::vector<bool> authenticated_in_memory;
  RequestPolicy policy(
      [&](std::string_view authorization, std::string_view) -> core::Result<core::Caller> {
        authenticated_in_memory.push_back(core::MemoryOnlyScope::Active());
        if (authorization == "Bearer uncached" && core::MemoryOnlyScope::Active()) {
          return core::MakeError(core::ErrorCode::kWouldWait, "");
        }
        return core::Caller::User(core::UserId("alice"));
      },
      {});
  RouteTable routes(policy, Compartments{.database = &database, .provider = &provider});
  std::vector<std::string> runs;  // where each run of the handler was allowed to wait
  routes.Add("GET", "/token/{state}", Access::kUserOrSession, Compartment::kMemoryFirst,
             [&runs](http::Request& request) -> core::Result<http::Response> {
               const bool memory_only = core::MemoryOnlyScope::Active();
               runs.push_back(memory_only                      ? "memory"
                              : !request.may_wait_on_providers ? "database"
                                                               : "provider");
               const std::string state = request.PathParam("state");
               if ((state == "uncached" && memory_only)
                   || (state == "expired" && !request.may_wait_on_providers)) {
                 return core::MakeError(core::ErrorCode::kWouldWait, "");
               }
               return http::Response::Json(200, "{}");
             });
  const auto request_for = [](const std::string& state, const std::string& bearer) {
    http::Request request;
    request.method = "GET";
    request.path = "/token/" + state;
    request.headers = {{"authorization", "Bearer " + bearer}};
    return request;
  };

  // Cached caller, cached token: answered right here, no compartment.
  http::Request hot = request_for("cached", "cached");
  http::Reply hot_reply = routes.Dispatch(hot);
  ASSERT_TRUE(std::holds_alternative<http::Response>(hot_reply));
  EXPECT_EQ(std::get<http::Response>(hot_reply).status, 200);
  EXPECT_EQ(runs, std::vector<std::string>({"memory"}));
  EXPECT_FALSE(core::MemoryOnlyScope::Active()) << "the scope ends with the attempt";

  // The token is not cached: on to the database compartment, where the caller is not
  // authenticated again.
  runs.clear();
  authenticated_in_memory.clear();
  http::Request cold = request_for("uncached", "cached");
  http::Reply cold_reply = routes.Dispatch(cold);
  ASSERT_TRUE(std::holds_alternative<http::Offload>(cold_reply));
  EXPECT_EQ(std::get<http::Offload>(cold_reply).compartment, &database);
  http::Reply cold_done = std::get<http::Offload>(cold_reply).work();
  ASSERT_TRUE(std::holds_alternative<http::Response>(cold_done));
  EXPECT_EQ(runs, std::vector<std::string>({"memory", "database"}));
  EXPECT_EQ(authenticated_in_memory, std::vector<bool>({true}));

  // The caller is not cached: authenticated again on the database compartment.
  runs.clear();
  authenticated_in_memory.clear();
  http::Request stranger = request_for("cached", "uncached");
  http::Reply stranger_reply = routes.Dispatch(stranger);
  ASSERT_TRUE(std::holds_alternative<http::Offload>(stranger_reply));
  http::Reply stranger_done = std::get<http::Offload>(stranger_reply).work();
  ASSERT_TRUE(std::holds_alternative<http::Response>(stranger_done));
  EXPECT_EQ(runs, std::vector<std::string>({"database"}));
  EXPECT_EQ(authenticated_in_memory, std::vector<bool>({true, false}));

  // An expired token: memory, database, provider.
  runs.clear();
  http::Request expired = request_for("expired", "cached");
  http::Reply expired_reply = routes.Dispatch(expired);
  http::Reply moved = std::get<http::Offload>(expired_reply).work();
  ASSERT_TRUE(std::holds_alternative<http::Offload>(moved));
  EXPECT_EQ(std::get<http::Offload>(moved).compartment, &provider);
  http::Reply expired_done = std::get<http::Offload>(moved).work();
  ASSERT_TRUE(std::holds_alternative<http::Response>(expired_done));
  EXPECT_EQ(std::get<http::Response>(expired_done).status, 200);
  EXPECT_EQ(runs, std::vector<std::string>({"memory", "database", "provider"}));
}

TEST(PublicOrigin, IsWhatBrowsersSendInOrigin) {
  EXPECT_EQ(PublicOrigin("https://Renku.Example.org:443/keybridge"), "https://renku.example.org");
  EXPECT_EQ(PublicOrigin("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
  EXPECT_EQ(PublicOrigin("http://kb.example:80/"), "http://kb.example");
}

TEST(SameOriginSignIn, OnlyKeybridgesOwnPageSignsIn) {
  const auto with = [](std::vector<core::HttpHeader> headers) {
    http::Request request;
    request.method = "POST";
    request.headers = std::move(headers);
    return CheckSameOriginSignIn(request, "https://kb.example.org");
  };

  EXPECT_TRUE(with({{"origin", "https://kb.example.org"}}).ok());
  EXPECT_TRUE(with({{"sec-fetch-site", "same-origin"}}).ok());
  EXPECT_FALSE(with({{"origin", "https://evil.example"}}).ok());
  EXPECT_FALSE(with({{"origin", "null"}}).ok());
  EXPECT_FALSE(with({{"sec-fetch-site", "cross-site"}}).ok());
  EXPECT_EQ(with({}).error().code, core::ErrorCode::kPermissionDenied)
      << "a request with neither is not known to come from our page";
}

}  // namespace
}  // namespace keybridge::routes
