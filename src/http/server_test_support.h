// Shared by the Server tests (server_test.cc, server_limits_test.cc, server_offload_test.cc):
// a raw loopback HTTP/1.1 client, a handler that echoes or misbehaves on request, and the
// ServerTest fixture. A named namespace, not an anonymous one: gtest requires every TEST_F of
// one suite to use the same fixture type, and the suite spans these files.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "core/text.h"
#include "http/error_response.h"
#include "http/server.h"

namespace keybridge::http::server_test_support {

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

inline std::string Get(const std::string& target, const std::string& extra_headers = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra_headers + "\r\n";
}

inline std::optional<RawResponse> Exchange(std::uint16_t port, const std::string& request) {
  RawClient client(port);
  client.Send(request);
  return client.Read();
}

// Echoes what the server handed to the handler, so tests can check the Request mapping.
inline Response Echo(Request& request) {
  nlohmann::json headers = nlohmann::json::object();
  for (const auto& header : request.headers) {
    headers[header.name] = header.value;
  }
  const nlohmann::json body = {{"method", request.method},   {"path", request.path},
                               {"query", request.raw_query}, {"headers", headers},
                               {"body", request.body},       {"remote", request.remote_address}};
  return Response::Json(200, body.dump()).WithHeader("X-Handler", "echo");
}

inline Response TestHandler(Request& request) {
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

}  // namespace keybridge::http::server_test_support
