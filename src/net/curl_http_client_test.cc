#include "net/curl_http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/startup_error.h"
#include "http/server.h"

namespace keybridge::net {
namespace {

using core::ErrorCode;
using core::HttpRequest;

// Echoes the request (method, path, query, lower-cased headers, body) as JSON; a few paths script
// other answers.
http::Response Handle(http::Request& request) {
  if (request.path == "/status/404") {
    return http::Response::Json(404, R"({"missing":true})");
  }
  if (request.path == "/status/500") {
    return http::Response::Json(500, "{}");
  }
  if (request.path == "/big") {
    return http::Response::Json(200, std::string(4096, 'x'));
  }
  if (request.path == "/redirect") {
    return http::Response::Redirect("/target");
  }
  nlohmann::json headers = nlohmann::json::object();
  for (const auto& header : request.headers) {
    headers[header.name] = header.value;
  }
  const nlohmann::json body = {{"method", request.method},
                               {"path", request.path},
                               {"query", request.raw_query},
                               {"headers", headers},
                               {"body", request.body}};
  return http::Response::Json(200, body.dump()).WithHeader("X-Echo", "Yes");
}

// The inbound server's default body limit (64 KiB) is below the 512 KiB upload test.
http::ServerOptions EchoServerOptions() {
  http::ServerOptions options;
  options.max_body_bytes = std::size_t{1024} * 1024;
  return options;
}

class CurlHttpClientTest : public ::testing::Test {
 protected:
  CurlHttpClientTest() : server_(EchoServerOptions(), Handle) { server_.Start(); }

  std::string Url(const std::string& path_and_query) const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + path_and_query;
  }

  HttpRequest Get(const std::string& path) const {
    HttpRequest request;
    request.url = Url(path);
    return request;
  }

  http::Server server_;
  CurlHttpClient client_;
};

TEST_F(CurlHttpClientTest, GetSendsHeadersAndLowerCasesResponseHeaders) {
  HttpRequest request = Get("/path?x=1");
  request.headers = {{"Accept", "application/json"}, {"X-Custom", "value"}};

  auto response = client_.Send(request);

  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("x-echo"), "Yes");
  EXPECT_EQ(response->Header("content-type"), "application/json");
  const auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["method"], "GET");
  EXPECT_EQ(body["path"], "/path");
  EXPECT_EQ(body["query"], "x=1");
  EXPECT_EQ(body["headers"]["x-custom"], "value");
  EXPECT_EQ(body["headers"]["accept"], "application/json");
  EXPECT_EQ(body["headers"]["user-agent"], "keybridge/0.1");
}

TEST_F(CurlHttpClientTest, PostSendsFormBody) {
  HttpRequest request = Get("/token");
  request.method = "POST";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  request.body = "grant_type=refresh_token&refresh_token=abc";

  auto response = client_.Send(request);

  ASSERT_TRUE(response.ok()) << response.error().message;
  const auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["method"], "POST");
  EXPECT_EQ(body["body"], request.body);
  EXPECT_EQ(body["headers"]["content-type"], "application/x-www-form-urlencoded");
  EXPECT_FALSE(body["headers"].contains("expect"));
}

TEST_F(CurlHttpClientTest, PostWithoutBodyCarriesNoContentType) {
  HttpRequest request = Get("/2/auth/token/revoke");
  request.method = "POST";
  request.headers = {{"Authorization", "Bearer token"}};

  auto response = client_.Send(request);

  ASSERT_TRUE(response.ok()) << response.error().message;
  const auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["method"], "POST");
  EXPECT_EQ(body["body"], "");
  EXPECT_FALSE(body["headers"].contains("content-type")) << body["headers"].dump();
  EXPECT_EQ(body["headers"]["content-length"], "0");
}

TEST_F(CurlHttpClientTest, PostWithoutBodyKeepsAnExplicitContentType) {
  HttpRequest request = Get("/empty");
  request.method = "POST";
  request.headers = {{"content-type", "application/json"}};

  auto response = client_.Send(request);

  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(nlohmann::json::parse(response->body)["headers"]["content-type"], "application/json");
}

TEST_F(CurlHttpClientTest, LargePostBodyIsSentWithoutExpectContinue) {
  HttpRequest request = Get("/upload");
  request.method = "POST";
  request.body = std::string(std::size_t{512} * 1024, 'b');

  auto response = client_.Send(request);

  ASSERT_TRUE(response.ok()) << response.error().message;
  const auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["body"].get<std::string>().size(), request.body.size());
  EXPECT_FALSE(body["headers"].contains("expect"));
}

TEST_F(CurlHttpClientTest, CustomMethodsCarryTheirBody) {
  HttpRequest request = Get("/thing");
  request.method = "PATCH";
  request.body = R"({"a":1})";

  auto response = client_.Send(request);

  ASSERT_TRUE(response.ok()) << response.error().message;
  const auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["method"], "PATCH");
  EXPECT_EQ(body["body"], request.body);
}

TEST_F(CurlHttpClientTest, DeleteWithoutBody) {
  HttpRequest request = Get("/thing");
  request.method = "DELETE";

  auto response = client_.Send(request);

  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(nlohmann::json::parse(response->body)["method"], "DELETE");
}

TEST_F(CurlHttpClientTest, ErrorStatusesAreSuccessfulSends) {
  auto not_found = client_.Send(Get("/status/404"));
  auto failed = client_.Send(Get("/status/500"));

  ASSERT_TRUE(not_found.ok());
  EXPECT_EQ(not_found->status, 404);
  EXPECT_EQ(not_found->body, R"({"missing":true})");
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->status, 500);
}

TEST_F(CurlHttpClientTest, RedirectIsNotFollowedByDefault) {
  auto response = client_.Send(Get("/redirect"));

  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 302);
  EXPECT_EQ(response->Header("location"), "/target");
}

TEST_F(CurlHttpClientTest, RedirectIsFollowedWhenEnabled) {
  CurlHttpClient::Options options;
  options.follow_redirects = true;
  CurlHttpClient following(options);

  auto response = following.Send(Get("/redirect"));

  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(nlohmann::json::parse(response->body)["path"], "/target");
  EXPECT_EQ(response->Header("x-echo"), "Yes");
}

TEST_F(CurlHttpClientTest, OversizeResponseIsUpstreamFailure) {
  CurlHttpClient::Options options;
  options.max_response_bytes = 1024;
  CurlHttpClient small(options);

  auto response = small.Send(Get("/big"));

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_NE(response.error().message.find("127.0.0.1"), std::string::npos);
}

TEST_F(CurlHttpClientTest, NonHttpSchemesAreRejected) {
  HttpRequest file;
  file.url = "file:///etc/passwd";
  HttpRequest ftp;
  ftp.url = "ftp://127.0.0.1/x";

  auto file_response = client_.Send(file);
  auto ftp_response = client_.Send(ftp);

  ASSERT_FALSE(file_response.ok());
  EXPECT_EQ(file_response.error().code, ErrorCode::kInvalidArgument);
  ASSERT_FALSE(ftp_response.ok());
  EXPECT_EQ(ftp_response.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(CurlHttpClientTest, HeaderWithLineBreakIsRejected) {
  HttpRequest request = Get("/x");
  request.headers = {{"X-Evil", "a\r\nInjected: 1"}};

  auto response = client_.Send(request);

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(CurlHttpClientTest, TlsToPlainHttpServerIsUnavailable) {
  HttpRequest request;
  request.url = "https://127.0.0.1:" + std::to_string(server_.port()) + "/x";

  auto response = client_.Send(request);

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
}

TEST_F(CurlHttpClientTest, ConcurrentSendsFromManyThreads) {
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  threads.reserve(8);

  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([this, t, &ok] {
      for (int i = 0; i < 10; ++i) {
        const std::string path = "/t" + std::to_string(t) + "/" + std::to_string(i);
        auto response = client_.Send(Get(path));
        if (response.ok() && nlohmann::json::parse(response->body)["path"] == path) {
          ++ok;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }

  EXPECT_EQ(ok.load(), 80);
}

TEST(CurlHttpClient, ConnectionRefusedIsUnavailable) {
  std::uint16_t closed_port = 0;
  {
    http::Server server(http::ServerOptions{}, Handle);
    closed_port = server.port();
  }  // nothing listens on the port any more
  CurlHttpClient client;
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(closed_port) + "/cb?code=secret-code";

  auto response = client.Send(request);

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(response.error().message.find("127.0.0.1"), std::string::npos);
  EXPECT_EQ(response.error().message.find("secret-code"), std::string::npos);
  EXPECT_EQ(response.error().detail.find("secret-code"), std::string::npos);
}

TEST(CurlHttpClient, TimeoutIsUnavailable) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  http::Server server(http::ServerOptions{}, [released](http::Request&) {
    released.wait();  // holds the response until the client has given up
    return http::Response::NoContent();
  });
  server.Start();
  CurlHttpClient client;
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/slow?code=secret-code";
  request.timeout = std::chrono::milliseconds(200);

  auto response = client.Send(request);
  release.set_value();

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(response.error().message.find("timed out"), std::string::npos);
  EXPECT_EQ(response.error().message.find("secret-code"), std::string::npos);
  EXPECT_EQ(response.error().detail.find("secret-code"), std::string::npos);
}

TEST(CurlHttpClient, UnreadableCaFileIsStartupError) {
  CurlHttpClient::Options options;
  options.ca_file = "/nonexistent/ca.pem";

  EXPECT_THROW(CurlHttpClient client(options), StartupError);
}

TEST(CurlHttpClient, ExtraCaFileStillAllowsPlainHttp) {
  http::Server server(http::ServerOptions{}, Handle);
  server.Start();
  CurlHttpClient::Options options;
  options.ca_file = "/etc/ssl/certs/ca-certificates.crt";
  CurlHttpClient client(options);
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/x";

  auto response = client.Send(request);

  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
}

}  // namespace
}  // namespace keybridge::net
