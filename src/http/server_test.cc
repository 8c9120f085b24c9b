#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/bounded_executor.h"
#include "core/startup_error.h"
#include "core/text.h"
#include "http/error_response.h"
#include "http/offload.h"
#include "metrics/exposition_parser.h"
#include "metrics/serving_metrics.h"

namespace keybridge::http {
namespace {

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string Header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

// A deliberately dumb HTTP/1.1 client on a raw loopback socket, so tests can send what real
// clients never would. Reads time out after 10 s instead of hanging the test.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) {
      throw std::runtime_error("socket failed");
    }
    timeval timeout{};
    timeout.tv_sec = 10;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the POSIX socket API
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect failed");
    }
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  RawClient(RawClient&&) = delete;
  RawClient& operator=(RawClient&&) = delete;

  // Returns false if the peer stopped accepting data (which a server may do after an error).
  bool Send(std::string_view data) const {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  void ShutdownWrite() const { ::shutdown(fd_, SHUT_WR); }

  // Reads one response framed by Content-Length (absent only on 1xx and 204).
  std::optional<RawResponse> Read() {
    std::size_t header_end = 0;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) {
        return std::nullopt;
      }
    }
    RawResponse response;
    std::istringstream head(buffer_.substr(0, header_end));
    std::string line;
    std::getline(head, line);
    if (line.size() < 12 || line.compare(0, 9, "HTTP/1.1 ") != 0) {
      return std::nullopt;
    }
    response.status = std::stoi(line.substr(9, 3));
    while (std::getline(head, line)) {
      const std::size_t colon = line.find(':');
      std::string name = core::AsciiLower(line.substr(0, colon));
      std::string value = line.substr(colon + 2);
      if (!value.empty() && value.back() == '\r') {
        value.pop_back();
      }
      response.headers[name] = value;
    }
    buffer_.erase(0, header_end + 4);
    if (response.status == 100) {
      return response;
    }
    const std::string length_header = response.Header("content-length");
    const std::size_t length = length_header.empty() ? 0 : std::stoul(length_header);
    while (buffer_.size() < length) {
      if (!Fill()) {
        return std::nullopt;
      }
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return response;
  }

  // True when the server has closed the connection (read returns EOF or a reset).
  bool IsClosedByPeer() {
    while (Fill()) {
    }
    return !timed_out_;
  }

 private:
  bool Fill() {
    std::array<char, 16384> chunk{};
    const ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      timed_out_ = true;
    }
    if (n <= 0) {
      return false;
    }
    buffer_.append(chunk.data(), static_cast<std::size_t>(n));
    return true;
  }

  int fd_;
  std::string buffer_;
  bool timed_out_ = false;
};

std::string Get(const std::string& target, const std::string& extra_headers = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra_headers + "\r\n";
}

std::optional<RawResponse> Exchange(std::uint16_t port, const std::string& request) {
  RawClient client(port);
  client.Send(request);
  return client.Read();
}

// Echoes what the server handed to the handler, so tests can check the Request mapping.
Response Echo(Request& request) {
  nlohmann::json headers = nlohmann::json::object();
  for (const auto& header : request.headers) {
    headers[header.name] = header.value;
  }
  const nlohmann::json body = {{"method", request.method},   {"path", request.path},
                               {"query", request.raw_query}, {"headers", headers},
                               {"body", request.body},       {"remote", request.remote_address}};
  return Response::Json(200, body.dump()).WithHeader("X-Handler", "echo");
}

Response TestHandler(Request& request) {
  if (request.path == "/throw") {
    throw std::runtime_error("handler bug");
  }
  if (request.path == "/unavailable") {
    return ErrorResponse(core::MakeError(core::ErrorCode::kUnavailable, "busy"));
  }
  if (request.path == "/unavailable-custom") {
    return ErrorResponse(core::MakeError(core::ErrorCode::kUnavailable, "busy"))
        .WithHeader("Retry-After", "60");
  }
  if (request.path == "/inject") {
    return Response::Redirect("https://example.org/\r\nSet-Cookie: evil=1");
  }
  if (request.path == "/no-content") {
    return Response::NoContent();
  }
  if (request.path == "/text") {
    Response response;
    response.body = "plain";
    response.headers.push_back({"Content-Type", "text/plain"});
    response.headers.push_back({"Content-Length", "999"});
    return response;
  }
  return Echo(request);
}

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}) {
    server_ = std::make_unique<Server>(std::move(options), TestHandler);
    server_->Start();
  }

  // The server must keep serving normal requests after whatever a test threw at it.
  void ExpectStillServing() {
    auto response = Exchange(Port(), Get("/healthy"));
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
  }

  std::uint16_t Port() const { return server_->port(); }

  std::unique_ptr<Server> server_;
};

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

// Holds every task that calls Wait() until Open().
class Gate {
 public:
  void Wait() {
    std::unique_lock lock(mutex_);
    ++inside_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
  }
  void WaitUntilInside(int n) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return inside_ >= n; });
  }
  void Open() {
    const std::lock_guard lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int inside_ = 0;
  bool open_ = false;
};

core::BoundedExecutorOptions Compartment(std::size_t threads, std::size_t queue) {
  core::BoundedExecutorOptions options;
  options.name = "probe";
  options.threads = threads;
  options.queue_capacity = queue;
  options.retry_after = std::chrono::seconds(7);
  return options;
}

TEST(ServerOffload, ABlockedCompartmentNeitherStopsInlineHandlersNorQueuesPastItsLimit) {
  core::BoundedExecutor compartment(Compartment(1, 0));
  Gate gate;
  ServerOptions options;
  options.worker_threads = 1;  // one I/O thread: had /slow blocked it, /healthz could not answer
  Server server(options, OffloadingHandler{[&](Request& request) -> Reply {
                  if (request.path == "/slow") {
                    return Offload{&compartment, [&] {
                                     gate.Wait();
                                     return Response::Json(200, R"({"slow":true})");
                                   }};
                  }
                  return Response::Json(200, R"({"inline":true})");
                }});
  server.Start();

  std::optional<RawResponse> slow;
  std::thread waiting([&] { slow = Exchange(server.port(), Get("/slow")); });
  gate.WaitUntilInside(1);
  auto health = Exchange(server.port(), Get("/healthz"));
  auto refused = Exchange(server.port(), Get("/slow"));
  gate.Open();
  waiting.join();

  ASSERT_TRUE(health.has_value());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, R"({"inline":true})");
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->Header("retry-after"), "7");
  ASSERT_TRUE(slow.has_value());
  EXPECT_EQ(slow->status, 200);
  EXPECT_EQ(slow->body, R"({"slow":true})");
  EXPECT_EQ(compartment.Stats().rejected, 1U);
}

TEST(ServerOffload, OffloadedWorkSeesTheRequestAndAThrowOnlyFailsItsOwnRequest) {
  core::BoundedExecutor compartment(Compartment(1, 4));
  ServerOptions options;
  options.worker_threads = 1;
  Server server(options, OffloadingHandler{[&](Request& request) -> Reply {
                  if (request.path == "/throw") {
                    return Offload{&compartment, []() -> Response {
                                     throw std::runtime_error("offloaded bug");
                                   }};
                  }
                  if (request.path == "/inline-offload") {
                    return Offload{nullptr, [&request] {
                                     return Echo(request);
                                   }};
                  }
                  return Offload{&compartment, [&request] {
                                   return Echo(request);
                                 }};
                }});
  server.Start();
  RawClient client(server.port());

  client.Send(Get("/throw") + Get("/echo?x=1") + Get("/inline-offload"));
  auto thrown = client.Read();
  auto echoed = client.Read();
  auto inline_echoed = client.Read();

  ASSERT_TRUE(thrown.has_value());
  EXPECT_EQ(thrown->status, 500);
  EXPECT_EQ(nlohmann::json::parse(thrown->body)["error"]["code"], 1500);
  ASSERT_TRUE(echoed.has_value());
  EXPECT_EQ(echoed->status, 200);
  EXPECT_EQ(nlohmann::json::parse(echoed->body)["path"], "/echo");
  EXPECT_EQ(nlohmann::json::parse(echoed->body)["query"], "x=1");
  ASSERT_TRUE(inline_echoed.has_value());
  EXPECT_EQ(nlohmann::json::parse(inline_echoed->body)["path"], "/inline-offload");
}

TEST(ServerOffload, WorkDroppedByACompartmentShutdownIsAnswered503) {
  core::BoundedExecutor compartment(Compartment(1, 1));
  Gate gate;
  Server server(ServerOptions{}, OffloadingHandler{[&](Request& request) -> Reply {
                  if (request.path == "/hold") {
                    return Offload{&compartment, [&] {
                                     gate.Wait();
                                     return Response::Json(200, "{}");
                                   }};
                  }
                  return Offload{&compartment, [] {
                                   return Response::Json(200, "{}");
                                 }};
                }});
  server.Start();
  std::optional<RawResponse> held;
  std::thread holder([&] { held = Exchange(server.port(), Get("/hold")); });
  gate.WaitUntilInside(1);
  RawClient queued(server.port());
  queued.Send(Get("/queued"));
  // The queued request is in the compartment once its queue counter shows it.
  while (compartment.Stats().queued == 0) {
    std::this_thread::yield();
  }

  std::thread stopper([&] { compartment.Shutdown(); });
  auto dropped = queued.Read();
  gate.Open();
  stopper.join();
  holder.join();

  ASSERT_TRUE(dropped.has_value());
  EXPECT_EQ(dropped->status, 503);
  EXPECT_EQ(dropped->Header("retry-after"), "7");
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->status, 200);
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
