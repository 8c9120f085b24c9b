// Server limits: body and header sizes, the header and idle timeouts and the connection cap
// (server_test_support.h has the raw client these tests need to misbehave).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "http/server.h"
#include "http/server_test_support.h"

namespace keybridge::http {
namespace {

using server_test_support::Exchange;
using server_test_support::Get;
using server_test_support::RawClient;
using server_test_support::RawResponse;
using server_test_support::ServerTest;

TEST_F(ServerTest, OversizedBodyGets413AndClose) {
  ServerOptions options;
  options.max_body_bytes = std::size_t{1024} * 1024;
  StartServer(options);
  RawClient client(Port());
  const std::string body(std::size_t{2} * 1024 * 1024, 'x');

  client.Send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size())
              + "\r\n\r\n");
  client.Send(body);
  auto response = client.Read();
  client.ShutdownWrite();

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(nlohmann::json::parse(response->body)["error"]["code"], 1413);
  EXPECT_TRUE(client.IsClosedByPeer());
  ExpectStillServing();
}

TEST_F(ServerTest, DefaultBodyLimitIs64KiBCheckedAgainstContentLengthBeforeTheBody) {
  StartServer();  // default options
  RawClient client(Port());

  // Only the header: the 413 must come without the server waiting for the announced body.
  client.Send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 65537\r\n\r\n");
  auto response = client.Read();

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  const std::string body(std::size_t{64} * 1024, 'x');
  auto at_limit = Exchange(Port(), "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: "
                                       + std::to_string(body.size()) + "\r\n\r\n" + body);
  ASSERT_TRUE(at_limit.has_value());
  EXPECT_EQ(at_limit->status, 200);
}

TEST_F(ServerTest, TooLargeExpectContinueGets413InsteadOf100) {
  StartServer();
  RawClient client(Port());

  client.Send(
      "POST /e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 70000\r\n\r\n");
  auto response = client.Read();

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
}

TEST_F(ServerTest, OversizedChunkedBodyGets413) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  StartServer(options);
  RawClient client(Port());
  const std::string chunk(4096, 'x');

  client.Send("POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n"
              + chunk + "\r\n0\r\n\r\n");
  auto response = client.Read();

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  ExpectStillServing();
}

TEST_F(ServerTest, ExpectContinueGetsInterimResponse) {
  StartServer();
  RawClient client(Port());

  client.Send("POST /e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  auto interim = client.Read();
  client.Send("ok");
  auto response = client.Read();

  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(nlohmann::json::parse(response->body)["body"], "ok");
}

TEST_F(ServerTest, HeaderFloodGets431) {
  StartServer();
  RawClient client(Port());

  client.Send(Get("/", "X-Flood: " + std::string(std::size_t{64} * 1024, 'a') + "\r\n"));
  auto response = client.Read();

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(nlohmann::json::parse(response->body)["error"]["code"], 1431);
  ExpectStillServing();
}

TEST_F(ServerTest, IdleConnectionIsClosedAfterTimeout) {
  ServerOptions options;
  options.idle_timeout = std::chrono::seconds(1);
  StartServer(options);
  RawClient client(Port());

  client.Send("GET / HTTP/1.1\r\n");  // a slow client that never finishes its header

  EXPECT_TRUE(client.IsClosedByPeer());
  ExpectStillServing();
}

TEST_F(ServerTest, HeaderTricklingByteByByteGets408WhenTheHeaderTimeoutPasses) {
  ServerOptions options;
  options.header_timeout = std::chrono::seconds(1);
  options.idle_timeout = std::chrono::seconds(5);
  StartServer(options);
  RawClient client(Port());
  std::atomic<bool> stop{false};
  const auto start = std::chrono::steady_clock::now();

  // The client's behaviour under test: a byte every 20 ms, never finishing its header, so an
  // inactivity timeout would never fire and only a whole-header deadline can end it.
  std::thread trickler([&] {
    const std::string line = "GET / HTTP/1.1\r\nX-Slow: ";
    for (std::size_t i = 0; !stop; ++i) {
      if (!client.Send(i < line.size() ? line.substr(i, 1) : "a")) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  auto response = client.Read();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  stop = true;
  trickler.join();
  client.ShutdownWrite();

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 408);
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_GE(elapsed, std::chrono::seconds(1));
  EXPECT_TRUE(client.IsClosedByPeer());
  ExpectStillServing();
}

TEST_F(ServerTest, SilentNewConnectionIsClosedWithoutAnAnswer) {
  ServerOptions options;
  options.header_timeout = std::chrono::seconds(1);
  StartServer(options);
  RawClient client(Port());

  EXPECT_TRUE(client.IsClosedByPeer());
  EXPECT_FALSE(client.Read().has_value());  // no unsolicited 408 to a pre-opened connection
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosedSilentlyAfterIdleTimeout) {
  ServerOptions options;
  options.idle_timeout = std::chrono::seconds(1);
  StartServer(options);
  RawClient client(Port());

  client.Send(Get("/first"));
  auto first = client.Read();

  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status, 200);
  EXPECT_TRUE(client.IsClosedByPeer());
  EXPECT_FALSE(client.Read().has_value());
}

TEST_F(ServerTest, ConnectionsPastTheCapGet503AndAreClosedAndFreedSlotsAreReused) {
  ServerOptions options;
  options.max_connections = 2;
  StartServer(options);
  auto first = std::make_unique<RawClient>(Port());
  RawClient second(Port());
  first->Send(Get("/one"));
  second.Send(Get("/two"));
  ASSERT_TRUE(first->Read().has_value());
  ASSERT_TRUE(second.Read().has_value());

  RawClient third(Port());
  auto refused = third.Read();

  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->Header("retry-after"), "1");
  EXPECT_TRUE(third.IsClosedByPeer());

  // Closing one frees its slot as soon as the server sees the close; retry until it has.
  first.reset();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::optional<RawResponse> served;
  while (std::chrono::steady_clock::now() < deadline) {
    served = Exchange(Port(), Get("/again"));
    if (served && served->status == 200) {
      break;
    }
  }
  ASSERT_TRUE(served.has_value());
  EXPECT_EQ(served->status, 200);
}

}  // namespace
}  // namespace keybridge::http
