#include "http/server.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/startup_error.h"
#include "http/server_test_support.h"
#include "metrics/exposition_parser.h"
#include "metrics/serving_metrics.h"

namespace keybridge::http {
namespace {

using server_test_support::Exchange;
using server_test_support::Get;
using server_test_support::RawClient;
using server_test_support::RawResponse;
using server_test_support::ServerTest;
using server_test_support::TestHandler;

TEST_F(ServerTest, BindsAnEphemeralPort) {
  StartServer();

  EXPECT_NE(Port(), 0);
}

TEST_F(ServerTest, GetRoundTripMapsRequestAndAddsDefaultHeaders) {
  StartServer();

  auto response = Exchange(Port(), Get("/a/b%20c?code=x&y=1", "X-Custom: Value\r\n"));

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("content-type"), "application/json");
  EXPECT_EQ(response->Header("cache-control"), "no-store");
  EXPECT_EQ(response->Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(response->Header("x-handler"), "echo");
  EXPECT_EQ(response->Header("content-length"), std::to_string(response->body.size()));
  const auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["method"], "GET");
  EXPECT_EQ(body["path"], "/a/b%20c");
  EXPECT_EQ(body["query"], "code=x&y=1");
  EXPECT_EQ(body["headers"]["x-custom"], "Value");
  EXPECT_EQ(body["remote"], "127.0.0.1");
}

TEST_F(ServerTest, PostRoundTripDeliversBody) {
  StartServer();
  const std::string payload = "grant_type=authorization_code&code=abc";

  auto response = Exchange(Port(),
                           "POST /token HTTP/1.1\r\nHost: t\r\nContent-Type: "
                           "application/x-www-form-urlencoded\r\nContent-Length: "
                               + std::to_string(payload.size()) + "\r\n\r\n" + payload);

  ASSERT_TRUE(response.has_value());
  const auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["method"], "POST");
  EXPECT_EQ(body["body"], payload);
  EXPECT_EQ(body["headers"]["content-type"], "application/x-www-form-urlencoded");
}

TEST_F(ServerTest, ChunkedRequestBodyIsDecoded) {
  StartServer();

  auto response = Exchange(Port(),
                           "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(nlohmann::json::parse(response->body)["body"], "abcde");
}

TEST_F(ServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  StartServer();
  RawClient client(Port());

  client.Send(Get("/first"));
  auto first = client.Read();
  client.Send(Get("/second"));
  auto second = client.Read();

  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(nlohmann::json::parse(first->body)["path"], "/first");
  EXPECT_EQ(nlohmann::json::parse(second->body)["path"], "/second");
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  RawClient client(Port());

  client.Send(Get("/one") + Get("/two") + Get("/three"));

  for (const char* path : {"/one", "/two", "/three"}) {
    auto response = client.Read();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(nlohmann::json::parse(response->body)["path"], path);
  }
}

TEST_F(ServerTest, ConnectionCloseIsHonoured) {
  StartServer();
  RawClient client(Port());

  client.Send(Get("/bye", "Connection: close\r\n"));
  auto response = client.Read();

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_TRUE(client.IsClosedByPeer());
}

TEST_F(ServerTest, GarbageRequestLineGets400AndClose) {
  StartServer();
  RawClient client(Port());

  client.Send("GARBAGE\r\n\r\n");
  auto response = client.Read();
  client.ShutdownWrite();

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 400);
  EXPECT_TRUE(client.IsClosedByPeer());
  ExpectStillServing();
}

TEST_F(ServerTest, BadContentLengthGets400) {
  StartServer();

  auto response = Exchange(Port(), "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n");

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 400);
  ExpectStillServing();
}

TEST_F(ServerTest, AbsoluteFormTargetGets400) {
  StartServer();

  auto response = Exchange(Port(), Get("http://elsewhere/x"));

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 400);
}

TEST_F(ServerTest, ThrowingHandlerGets500) {
  StartServer();

  auto response = Exchange(Port(), Get("/throw"));

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 500);
  const auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["error"]["code"], 1500);
  EXPECT_EQ(body["error"]["message"], "Internal error; see the server log");
  ExpectStillServing();
}

TEST_F(ServerTest, HeaderInjectionBecomes500) {
  StartServer();

  auto response = Exchange(Port(), Get("/inject"));

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(response->Header("set-cookie"), "");
  EXPECT_EQ(response->Header("location"), "");
}

TEST_F(ServerTest, UnavailableGetsDefaultRetryAfter) {
  StartServer();

  auto response = Exchange(Port(), Get("/unavailable"));

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->Header("retry-after"), "5");
}

TEST_F(ServerTest, HandlerRetryAfterIsKept) {
  StartServer();

  auto response = Exchange(Port(), Get("/unavailable-custom"));

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->Header("retry-after"), "60");
}

TEST_F(ServerTest, ServerOwnsFramingHeaders) {
  StartServer();

  auto response = Exchange(Port(), Get("/text"));

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "plain");
  EXPECT_EQ(response->Header("content-length"), "5");
  EXPECT_EQ(response->Header("cache-control"), "");
  EXPECT_EQ(response->Header("x-content-type-options"), "nosniff");
}

TEST_F(ServerTest, NoContentHasNoBody) {
  StartServer();
  RawClient client(Port());

  client.Send(Get("/no-content"));
  client.Send(Get("/after"));
  auto first = client.Read();
  auto second = client.Read();

  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status, 204);
  EXPECT_EQ(first->Header("content-length"), "");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(nlohmann::json::parse(second->body)["path"], "/after");
}

TEST_F(ServerTest, FiftyConcurrentClientsGetTheirOwnAnswers) {
  StartServer();
  std::atomic<int> correct{0};
  std::vector<std::thread> clients;
  clients.reserve(50);

  for (int i = 0; i < 50; ++i) {
    clients.emplace_back([this, i, &correct] {
      auto response = Exchange(Port(), Get("/client/" + std::to_string(i)));
      if (response && response->status == 200
          && nlohmann::json::parse(response->body)["path"] == "/client/" + std::to_string(i)) {
        ++correct;
      }
    });
  }
  for (auto& client : clients) {
    client.join();
  }

  EXPECT_EQ(correct.load(), 50);
}

TEST(ServerConcurrency, HandlersRunInParallelOnWorkers) {
  std::mutex mutex;
  std::condition_variable arrived_cv;
  int arrived = 0;
  Server server(ServerOptions{}, [&](Request&) {
    std::unique_lock lock(mutex);
    ++arrived;
    arrived_cv.notify_all();
    // Both requests must be inside a handler at once; serial handlers would time out here.
    const bool both =
        arrived_cv.wait_for(lock, std::chrono::seconds(10), [&] { return arrived >= 2; });
    return Response::Json(both ? 200 : 500, "{}");
  });
  server.Start();

  std::optional<RawResponse> first;
  std::thread other([&] { first = Exchange(server.port(), Get("/1")); });
  auto second = Exchange(server.port(), Get("/2"));
  other.join();

  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(second->status, 200);
}

TEST(ServerMetrics, CountsRequestsAndLatencyByRoutePattern) {
  metrics::ServingMetrics serving("test");
  ServerOptions options;
  options.metrics = &serving;
  options.log_requests = false;
  {
    Server server(options, [](Request& request) {
      if (request.path.rfind("/items/", 0) == 0) {
        request.route_pattern = "/items/{id}";  // what Router::Dispatch fills in
      }
      return request.path == "/missing" ? Response::Json(404, "{}") : Response::Json(200, "{}");
    });
    server.Start();
    ASSERT_TRUE(Exchange(server.port(), Get("/items/1")).has_value());
    ASSERT_TRUE(Exchange(server.port(), Get("/items/2")).has_value());
    ASSERT_TRUE(Exchange(server.port(), Get("/missing")).has_value());
    ASSERT_TRUE(Exchange(server.port(), "GARBAGE\r\n\r\n").has_value());
  }  // Stop joins the I/O threads, so every request has been recorded

  auto parsed = metrics::ParseExposition(serving.Render());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const auto* items =
      metrics::FindSample(*parsed, "keybridge_http_requests_total",
                          {{"route", "/items/{id}"}, {"method", "GET"}, {"status", "200"}});
  const auto* missing =
      metrics::FindSample(*parsed, "keybridge_http_requests_total",
                          {{"route", "unmatched"}, {"method", "GET"}, {"status", "404"}});
  const auto* garbage =
      metrics::FindSample(*parsed, "keybridge_http_requests_total",
                          {{"route", "unmatched"}, {"method", "other"}, {"status", "400"}});
  const auto* latency = metrics::FindSample(
      *parsed, "keybridge_http_request_duration_seconds_count", {{"route", "/items/{id}"}});
  ASSERT_NE(items, nullptr);
  EXPECT_EQ(items->value, 2);
  ASSERT_NE(missing, nullptr);
  EXPECT_EQ(missing->value, 1);
  ASSERT_NE(garbage, nullptr);
  EXPECT_EQ(garbage->value, 1);
  ASSERT_NE(latency, nullptr);
  EXPECT_EQ(latency->value, 2);
}

TEST(ServerLifecycle, SecondBindOnSamePortThrowsStartupErrorNamingAddress) {
  Server first(ServerOptions{}, TestHandler);
  ServerOptions options;
  options.port = first.port();

  try {
    Server second(options, TestHandler);
    FAIL() << "expected StartupError";
  } catch (const StartupError& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())),
              std::string::npos);
  }
}

TEST(ServerLifecycle, StopIsIdempotentAndClosesOpenConnections) {
  Server server(ServerOptions{}, TestHandler);
  server.Start();
  RawClient client(server.port());
  client.Send(Get("/x"));
  ASSERT_TRUE(client.Read().has_value());

  server.Stop();
  server.Stop();

  EXPECT_TRUE(client.IsClosedByPeer());
}

TEST(ServerLifecycle, StopWithoutStartReturns) {
  Server server(ServerOptions{}, TestHandler);

  server.Stop();
}

TEST(ServerLogging, LogsOneLineWithoutQueryOrHeaders) {
  auto logger = spdlog::get("http");
  if (!logger) {
    logger = std::make_shared<spdlog::logger>("http");
    spdlog::register_logger(logger);
  }
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  logger->sinks().push_back(sink);
  const auto previous_level = logger->level();
  logger->set_level(spdlog::level::info);
  {
    Server server(ServerOptions{}, TestHandler);
    server.Start();
    auto response = Exchange(server.port(),
                             Get("/callback?code=oauth-secret", "Authorization: Bearer tkn\r\n"));
    ASSERT_TRUE(response.has_value());
  }  // Stop joins the I/O thread, so the line has been written
  logger->sinks().pop_back();
  logger->set_level(previous_level);

  const std::string log = captured.str();
  EXPECT_NE(log.find("request method=GET path=/callback status=200 duration_ms="),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("remote=127.0.0.1"), std::string::npos);
  EXPECT_EQ(log.find("oauth-secret"), std::string::npos);
  EXPECT_EQ(log.find("tkn"), std::string::npos);
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1);
}

}  // namespace
}  // namespace keybridge::http
