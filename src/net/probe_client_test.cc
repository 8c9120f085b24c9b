#include "net/probe_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "http/server.h"

namespace keybridge::net {
namespace {

using core::ErrorCode;

IpAddress Ip(const char* text) {
  auto ip = IpAddress::Parse(text);
  EXPECT_TRUE(ip.has_value()) << text;
  return ip.value_or(IpAddress{});
}

// A resolver for tests that must never resolve anything (literal addresses are judged as is).
core::Result<std::vector<IpAddress>> NoDns(const std::string& host, std::chrono::milliseconds) {
  ADD_FAILURE() << "unexpected DNS lookup of " << host;
  return core::MakeError(ErrorCode::kUnavailable, "no DNS in this test");
}

// A loopback git server stand-in that records what reached it.
class RecordingServer {
 public:
  RecordingServer()
      : server_(Options(), [this](http::Request& request) { return Handle(request); }) {
    server_.Start();
  }
  ~RecordingServer() { server_.Stop(); }

  std::string Url(const std::string& path) const { return "http://" + HostPort() + path; }
  std::string HostPort() const { return "127.0.0.1:" + std::to_string(server_.port()); }
  std::uint16_t port() const { return server_.port(); }
  std::vector<std::string> Paths() const {
    const std::lock_guard lock(mu_);
    return paths_;
  }
  std::string LastHost() const {
    const std::lock_guard lock(mu_);
    return last_host_;
  }
  // Requests to `path` answer a redirect to `location`.
  void Redirect(const std::string& path, const std::string& location) {
    const std::lock_guard lock(mu_);
    redirects_.emplace_back(path, location);
  }

 private:
  static http::ServerOptions Options() {
    http::ServerOptions options;
    options.log_requests = false;
    return options;
  }

  http::Response Handle(http::Request& request) {
    const std::lock_guard lock(mu_);
    paths_.push_back(request.path);
    last_host_ = request.Header("host");
    for (const auto& [path, location] : redirects_) {
      if (path == request.path) {
        return http::Response::Redirect(location);
      }
    }
    if (request.path == "/big") {
      http::Response response;
      response.headers.push_back({"Content-Type", "application/octet-stream"});
      response.body = std::string(std::size_t{100} * 1024, 'x');
      return response;
    }
    http::Response response;
    response.headers.push_back({"Content-Type", "application/x-git-upload-pack-advertisement"});
    response.body = "001e# service=git-upload-pack\n0000";
    return response;
  }

  mutable std::mutex mu_;
  std::vector<std::string> paths_;
  std::string last_host_;
  std::vector<std::pair<std::string, std::string>> redirects_;
  http::Server server_;
};

core::HttpRequest Get(std::string url) {
  core::HttpRequest request;
  request.url = std::move(url);
  return request;
}

// Lets loopback through on the first hop only: the URL asked for stands in for a public server.
AddressPolicy LoopbackOnFirstHopOnly() {
  return [](const IpAddress& address, int hop) {
    return hop == 0 || IsPublicAddress(address);
  };
}

TEST(IsPublicAddress, RefusesEveryNonPublicRange) {
  for (const char* text : {"0.0.0.0",
                           "0.1.2.3",
                           "10.0.0.1",
                           "10.255.255.255",
                           "100.64.0.1",
                           "100.127.255.254",
                           "127.0.0.1",
                           "127.255.0.9",
                           "169.254.169.254",
                           "169.254.0.1",
                           "172.16.0.1",
                           "172.31.255.255",
                           "192.0.0.8",
                           "192.0.2.1",
                           "192.88.99.1",
                           "192.168.1.1",
                           "198.18.0.1",
                           "198.19.255.255",
                           "198.51.100.7",
                           "203.0.113.9",
                           "224.0.0.1",
                           "239.255.255.250",
                           "240.0.0.1",
                           "255.255.255.255",
                           "::",
                           "::1",
                           "::ffff:127.0.0.1",
                           "::ffff:7f00:1",
                           "::ffff:10.0.0.1",
                           "::ffff:169.254.169.254",
                           "::127.0.0.1",
                           "fe80::1",
                           "febf::1",
                           "fec0::1",
                           "fc00::1",
                           "fd12:3456::1",
                           "ff02::1",
                           "ff0e::1",
                           "100::1",
                           "64:ff9b::7f00:1",
                           "64:ff9b::a9fe:a9fe",
                           "64:ff9b:1::1",
                           "2001:db8::1",
                           "2001::1",
                           "2001:2::1",
                           "2002:7f00:1::",
                           "2002:a00:1::1",
                           "3fff::1",
                           "4000::1",
                           "::2:3:4:5:6"}) {
    EXPECT_FALSE(IsPublicAddress(Ip(text))) << text;
  }
}

TEST(IsPublicAddress, AcceptsGlobalUnicast) {
  for (const char* text :
       {"1.1.1.1", "8.8.8.8", "93.184.216.34", "100.63.255.255", "100.128.0.1", "172.15.255.255",
        "172.32.0.1", "192.167.1.1", "198.20.0.1", "223.255.255.255", "2606:4700::1111",
        "2a00:1450:4001::1", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"}) {
    EXPECT_TRUE(IsPublicAddress(Ip(text))) << text;
  }
}

TEST(IpAddress, ParsesCanonicalFormsOnly) {
  for (const char* text : {"127.1", "0x7f.0.0.1", "2130706433", "0177.0.0.1", "1.2.3.4.5", "[::1]",
                           "fe80::1%eth0", "localhost", "", "256.1.1.1"}) {
    EXPECT_FALSE(IpAddress::Parse(text).has_value()) << text;
  }
  EXPECT_EQ(Ip("10.1.2.3").ToString(), "10.1.2.3");
  EXPECT_EQ(Ip("::FFFF:127.0.0.1").ToString(), "::ffff:127.0.0.1");
  EXPECT_TRUE(Ip("::1").is_v6);
  EXPECT_FALSE(Ip("10.1.2.3").is_v6);
}

TEST(ProbeClient, RefusesLiteralNonPublicAddressesWithoutConnecting) {
  ProbeClient::Options options;
  options.resolver = NoDns;
  ProbeClient client(options);

  for (const char* url : {"http://127.0.0.1:1/info/refs",
                          "http://10.1.2.3/",
                          "http://172.16.0.1/",
                          "http://192.168.0.1/",
                          "http://100.64.0.1/",
                          "http://169.254.169.254/latest/meta-data/",
                          "http://0.0.0.0/",
                          "http://224.0.0.1/",
                          "https://[::1]/",
                          "http://[::]/",
                          "http://[::ffff:127.0.0.1]/",
                          "http://[::ffff:7f00:1]/",
                          "http://[::ffff:a9fe:a9fe]/",
                          "http://[fe80::1]/",
                          "http://[fc00::1]/",
                          "http://[fd00::1]/",
                          "http://[ff02::1]/",
                          "http://[64:ff9b::a9fe:a9fe]/",
                          "http://[2002:7f00:1::]/",
                          "http://0x7f.1/",
                          "http://2130706433/",
                          "http://127.1/",
                          "http://0177.0.0.1/",
                          "http://1.2.3.4.5/",
                          "http://10.0.0.1./"}) {
    auto response = client.Send(Get(url));

    ASSERT_FALSE(response.ok()) << url;
    EXPECT_EQ(response.error().code, ErrorCode::kPermissionDenied) << url;
  }
}

TEST(ProbeClient, RefusesAHostNameThatResolvesToLoopback) {
  RecordingServer server;
  ProbeClient client;  // production policy and the system resolver

  auto response = client.Send(Get("http://localhost:" + std::to_string(server.port()) + "/x"));

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(response.error().message.find("localhost"), std::string::npos);
  EXPECT_TRUE(server.Paths().empty());
}

TEST(ProbeClient, RefusesWhenAnyResolvedAddressIsNotPublic) {
  ProbeClient::Options options;
  options.resolver = [](const std::string&, std::chrono::milliseconds) {
    return core::Result<std::vector<IpAddress>>(
        std::vector<IpAddress>{Ip("93.184.216.34"), Ip("10.0.0.7")});
  };
  ProbeClient client(options);

  auto response = client.Send(Get("https://mixed.example.test/repo"));

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(response.error().detail, "10.0.0.7");
}

TEST(ProbeClient, ConnectsOnlyToTheCheckedAddressNeverASecondLookup) {
  RecordingServer server;
  std::atomic<int> lookups{0};
  ProbeClient::Options options;
  options.policy = AnyAddressPolicy();
  // "repo.example.test" exists in no DNS: reaching the server proves curl used the pinned address.
  options.resolver = [&lookups](const std::string& host, std::chrono::milliseconds) {
    ++lookups;
    EXPECT_EQ(host, "repo.example.test");
    return core::Result<std::vector<IpAddress>>(std::vector<IpAddress>{Ip("127.0.0.1")});
  };
  ProbeClient client(options);
  const std::string url =
      "http://repo.example.test:" + std::to_string(server.port()) + "/g/p/info/refs";

  auto response = client.Send(Get(url));

  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("content-type"), "application/x-git-upload-pack-advertisement");
  EXPECT_EQ(server.LastHost(), "repo.example.test:" + std::to_string(server.port()));
  EXPECT_EQ(lookups.load(), 1);
}

TEST(ProbeClient, PinsMixedCaseHostNamesToo) {
  RecordingServer server;
  ProbeClient::Options options;
  options.policy = AnyAddressPolicy();
  options.resolver = [](const std::string& host, std::chrono::milliseconds) {
    EXPECT_EQ(host, "repo.example.test");
    return core::Result<std::vector<IpAddress>>(std::vector<IpAddress>{Ip("127.0.0.1")});
  };
  ProbeClient client(options);

  auto response =
      client.Send(Get("http://Repo.EXAMPLE.test:" + std::to_string(server.port()) + "/x"));

  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(server.Paths(), std::vector<std::string>{"/x"});
}

TEST(ProbeClient, StrictPolicyRefusesAResolvedLoopbackBeforeSendingAnything) {
  RecordingServer server;
  ProbeClient::Options options;
  options.resolver = [](const std::string&, std::chrono::milliseconds) {
    return core::Result<std::vector<IpAddress>>(std::vector<IpAddress>{Ip("127.0.0.1")});
  };
  ProbeClient client(options);

  auto response =
      client.Send(Get("http://rebind.example.test:" + std::to_string(server.port()) + "/x"));

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kPermissionDenied);
  EXPECT_TRUE(server.Paths().empty());
}

TEST(ProbeClient, RefusesARedirectToLoopbackAfterAnAllowedFirstHop) {
  RecordingServer server;
  const std::string port = std::to_string(server.port());
  server.Redirect("/absolute", server.Url("/final"));
  server.Redirect("/relative", "/final");
  server.Redirect("/mapped", "http://[::ffff:127.0.0.1]:" + port + "/final");
  server.Redirect("/v6", "http://[::1]:" + port + "/final");
  server.Redirect("/metadata", "http://169.254.169.254/latest/meta-data/");
  ProbeClient::Options options;
  options.policy = LoopbackOnFirstHopOnly();
  options.resolver = NoDns;
  ProbeClient client(options);

  for (const char* path : {"/absolute", "/relative", "/mapped", "/v6", "/metadata"}) {
    auto response = client.Send(Get(server.Url(path)));

    ASSERT_FALSE(response.ok()) << path;
    EXPECT_EQ(response.error().code, ErrorCode::kPermissionDenied) << path;
  }
  EXPECT_EQ(server.Paths(),
            (std::vector<std::string>{"/absolute", "/relative", "/mapped", "/v6", "/metadata"}))
      << "/final was never requested";
}

TEST(ProbeClient, RedirectTargetsAreResolvedAgainOnEveryHop) {
  RecordingServer server;
  const std::string port = std::to_string(server.port());
  server.Redirect("/start", "http://second.example.test:" + port + "/final");
  std::vector<std::string> lookups;
  ProbeClient::Options options;
  options.policy = [](const IpAddress&, int hop) {
    return hop == 0;
  };
  options.resolver = [&lookups](const std::string& host, std::chrono::milliseconds) {
    lookups.push_back(host);
    return core::Result<std::vector<IpAddress>>(std::vector<IpAddress>{Ip("127.0.0.1")});
  };
  ProbeClient client(options);

  auto response = client.Send(Get("http://first.example.test:" + port + "/start"));

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(lookups, (std::vector<std::string>{"first.example.test", "second.example.test"}));
  EXPECT_EQ(server.Paths(), std::vector<std::string>{"/start"});
}

TEST(ProbeClient, FollowsAtMostThreeRedirects) {
  RecordingServer server;
  server.Redirect("/r4", "/r3");
  server.Redirect("/r3", "/r2");
  server.Redirect("/r2", server.Url("/r1"));
  server.Redirect("/r1", "ok");  // relative to /r1: /ok
  ProbeClient::Options options;
  options.policy = AnyAddressPolicy();
  ProbeClient client(options);

  auto three = client.Send(Get(server.Url("/r3")));
  auto four = client.Send(Get(server.Url("/r4")));

  ASSERT_TRUE(three.ok()) << three.error().message;
  EXPECT_EQ(three->status, 200);
  ASSERT_FALSE(four.ok());
  EXPECT_EQ(four.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_EQ(server.Paths(),
            (std::vector<std::string>{"/r3", "/r2", "/r1", "/ok", "/r4", "/r3", "/r2", "/r1"}));
}

TEST(ProbeClient, RefusesRedirectsThatLeaveHttp) {
  RecordingServer server;
  server.Redirect("/file", "file:///etc/passwd");
  server.Redirect("/gopher", "gopher://127.0.0.1:6379/_INFO");
  ProbeClient::Options options;
  options.policy = AnyAddressPolicy();
  ProbeClient client(options);

  for (const char* path : {"/file", "/gopher"}) {
    auto response = client.Send(Get(server.Url(path)));

    ASSERT_FALSE(response.ok()) << path;
    EXPECT_EQ(response.error().code, ErrorCode::kPermissionDenied) << path;
  }
}

TEST(ProbeClient, CutsLongBodiesAndKeepsStatusAndHeaders) {
  RecordingServer server;
  ProbeClient::Options options;
  options.policy = AnyAddressPolicy();
  ProbeClient client(options);

  auto response = client.Send(Get(server.Url("/big")));

  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body.size(), std::size_t{64} * 1024);
  EXPECT_EQ(response->Header("content-type"), "application/octet-stream");
}

TEST(ProbeClient, IgnoresProxiesFromTheEnvironment) {
  RecordingServer server;
  ProbeClient::Options options;
  options.policy = AnyAddressPolicy();
  ProbeClient client(options);
  // The test changes the process environment while no other thread reads it (the server thread
  // only serves sockets), which is what concurrency-mt-unsafe warns about.
  ::setenv("http_proxy", "http://127.0.0.1:1", 1);  // NOLINT(concurrency-mt-unsafe): see above
  ::setenv("HTTP_PROXY", "http://127.0.0.1:1", 1);  // NOLINT(concurrency-mt-unsafe): see above

  auto response = client.Send(Get(server.Url("/direct")));
  ::unsetenv("http_proxy");  // NOLINT(concurrency-mt-unsafe): see above
  ::unsetenv("HTTP_PROXY");  // NOLINT(concurrency-mt-unsafe): see above

  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(server.Paths(), std::vector<std::string>{"/direct"});
}

TEST(ProbeClient, TimesOutOnAServerThatNeverAnswers) {
  // A listening socket nobody accepts from: connects succeed, no response ever comes.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ProbeClient::Options options;
  options.policy = AnyAddressPolicy();
  options.timeout = std::chrono::milliseconds(300);
  ProbeClient client(options);

  auto response =
      client.Send(Get("http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/x"));
  ::close(fd);

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(response.error().message.find("timed out"), std::string::npos);
}

TEST(ProbeClient, ANameThatDoesNotResolveAndAPrivateAddressGetTheSameAnswer) {
  ProbeClient::Options options;
  options.resolver = [](const std::string& host, std::chrono::milliseconds) {
    if (host == "inside.example.test") {
      return core::Result<std::vector<IpAddress>>(
          std::vector<IpAddress>{*IpAddress::Parse("10.1.2.3")});
    }
    return core::Result<std::vector<IpAddress>>(
        core::MakeError(ErrorCode::kUnavailable, "cannot resolve " + host));
  };
  ProbeClient client(options);

  auto nowhere = client.Send(Get("https://nowhere.example.test/x"));
  auto inside = client.Send(Get("https://inside.example.test/x"));

  ASSERT_FALSE(nowhere.ok());
  ASSERT_FALSE(inside.ok());
  EXPECT_EQ(nowhere.error().code, inside.error().code);
  EXPECT_EQ(nowhere.error().message,
            "cannot probe nowhere.example.test: not a public address that resolves");
  EXPECT_EQ(inside.error().message,
            "cannot probe inside.example.test: not a public address that resolves");
  EXPECT_NE(nowhere.error().detail, inside.error().detail) << "the log still tells them apart";
}

TEST(ProbeClient, OnlyTheAllowedPortsAreProbed) {
  ProbeClient::Options options;
  options.resolver = NoDns;
  options.policy = AnyAddressPolicy();
  options.allowed_ports = {80, 443};
  ProbeClient client(options);

  auto odd_port = client.Send(Get("http://192.0.2.10:22/x"));

  ASSERT_FALSE(odd_port.ok());
  EXPECT_EQ(odd_port.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(odd_port.error().detail, "port 22");
}

TEST(ProbeClient, OnlyHttpGetAndHeadWithoutBody) {
  ProbeClient::Options options;
  options.resolver = NoDns;
  ProbeClient client(options);
  core::HttpRequest post = Get("https://example.test/");
  post.method = "POST";

  EXPECT_EQ(client.Send(post).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(client.Send(Get("ftp://example.test/")).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(client.Send(Get("not a url")).error().code, ErrorCode::kInvalidArgument);
}

TEST(SystemResolve, ResolvesLocalhostToLoopback) {
  auto addresses = SystemResolve("localhost", std::chrono::seconds(5));

  ASSERT_TRUE(addresses.ok()) << addresses.error().message;
  ASSERT_FALSE(addresses->empty());
  for (const auto& address : *addresses) {
    EXPECT_FALSE(IsPublicAddress(address)) << address.ToString();
  }
}

}  // namespace
}  // namespace keybridge::net
