// GitProxy against a raw-socket upstream and a raw-socket client, so each HTTP/1.1 detail the
// proxy must get right (header rewriting, one 401 retry, Expect: 100-continue, chunked uploads,
// bodies delimited by Connection: close, answers before the upload ends) is visible byte by byte.
#include "gitproxy/git_proxy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "crypto/base64.h"
#include "crypto/hash.h"
#include "support/fake_clock.h"

namespace keybridge::gitproxy {
namespace {

int Listen(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), size), 0);
  EXPECT_EQ(::listen(fd, 8), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size), 0);
  port = ntohs(address.sin_port);
  return fd;
}

int Connect(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  return fd;
}

void SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      return;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Reads until `marker` was received (inclusive) or the peer closed.
std::string ReadUntil(int fd, std::string_view marker) {
  std::string data;
  char c = 0;
  while (data.find(marker) == std::string::npos && ::recv(fd, &c, 1, 0) == 1) {
    data.push_back(c);
  }
  return data;
}

std::string ReadToEnd(int fd) {
  std::string data;
  char buffer[4096];
  for (ssize_t n = 0; (n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0;) {
    data.append(buffer, static_cast<std::size_t>(n));
  }
  return data;
}

// Accepts connections one after the other and hands each, with its request head, to the next
// script step.
class ScriptedUpstream {
 public:
  using Step = std::function<void(int fd, const std::string& head)>;
  explicit ScriptedUpstream(std::vector<Step> steps) : steps_(std::move(steps)) {
    listener_ = Listen(port_);
    thread_ = std::thread([this] {
      for (const Step& step : steps_) {
        const int fd = ::accept(listener_, nullptr, nullptr);
        if (fd < 0) {
          return;
        }
        const std::string head = ReadUntil(fd, "\r\n\r\n");
        {
          const std::lock_guard lock(mutex_);
          heads_.push_back(head);
        }
        step(fd, head);
        ::close(fd);
      }
    });
  }
  ~ScriptedUpstream() {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    thread_.join();
  }
  ScriptedUpstream(const ScriptedUpstream&) = delete;
  ScriptedUpstream& operator=(const ScriptedUpstream&) = delete;

  std::uint16_t port() const { return port_; }
  std::vector<std::string> heads() const {
    const std::lock_guard lock(mutex_);
    return heads_;
  }

 private:
  std::vector<Step> steps_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<std::string> heads_;
};

// Hands out "token-1", then "token-2" once token-1 is reported rejected.
class TwoTokenSource final : public CredentialSource {
 public:
  explicit TwoTokenSource(std::uint16_t port) : port_(port) {}
  core::Result<UpstreamCredential> Fetch(const ProxyTarget& target,
                                         const std::string& rejected_sha256) override {
    const std::lock_guard lock(mutex_);
    rejections_.push_back(rejected_sha256);
    const std::string token =
        rejected_sha256 == crypto::Sha256Hex("token-1") ? "token-2" : "token-1";
    UpstreamCredential credential;
    credential.repository_url =
        "http://127.0.0.1:" + std::to_string(port_) + "/" + target.repository_path;
    credential.authorization = core::Secret("Basic " + crypto::Base64Encode("oauth2:" + token));
    credential.token_sha256 = crypto::Sha256Hex(token);
    return credential;
  }
  std::string AccessHint(const std::string&) override { return ""; }
  std::vector<std::string> rejections() const {
    const std::lock_guard lock(mutex_);
    return rejections_;
  }

 private:
  std::uint16_t port_;
  mutable std::mutex mutex_;
  std::vector<std::string> rejections_;
};

std::string Basic(const std::string& token) {
  return "Basic " + crypto::Base64Encode("oauth2:" + token);
}

class GitProxyTest : public ::testing::Test {
 protected:
  void StartProxy(std::uint16_t upstream_port) {
    source_ = std::make_unique<TwoTokenSource>(upstream_port);
    cache_ = std::make_unique<CredentialCache>(*source_, clock_);
    GitProxyOptions options;
    options.port = 0;
    options.log_requests = false;
    proxy_ = std::make_unique<GitProxy>(options, *cache_);
    proxy_->Start();
  }
  void TearDown() override {
    if (proxy_) {
      proxy_->Stop();
    }
  }

  // `request` with its "Host: PROXY" addressed to the proxy, as git addresses it.
  std::string Addressed(std::string request) const {
    const std::string placeholder = "Host: PROXY";
    if (const auto at = request.find(placeholder); at != std::string::npos) {
      request.replace(at, placeholder.size(), "Host: 127.0.0.1:" + std::to_string(proxy_->port()));
    }
    return request;
  }

  testing::FakeClock clock_;
  std::unique_ptr<TwoTokenSource> source_;
  std::unique_ptr<CredentialCache> cache_;
  std::unique_ptr<GitProxy> proxy_;
};

TEST_F(GitProxyTest, ReplacesTheClientsCredentialsAndRelaysABodyEndedByClose) {
  ScriptedUpstream upstream({[](int fd, const std::string&) {
    SendAll(fd,
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-git-upload-pack-advertisement\r\n"
            "Connection: close\r\n\r\nrefs until the connection closes");
  }});
  StartProxy(upstream.port());
  const int client = Connect(proxy_->port());

  SendAll(
      client,
      Addressed("GET /gitlab/group/p.git/info/refs?service=git-upload-pack HTTP/1.1\r\n"
                "Host: PROXY\r\nAuthorization: Basic c3RvbGVuOnN0b2xlbg==\r\nCookie: session=x\r\n"
                "Git-Protocol: version=2\r\nConnection: close\r\n\r\n"));
  const std::string response = ReadToEnd(client);
  ::close(client);

  ASSERT_EQ(upstream.heads().size(), 1U);
  const std::string head = upstream.heads()[0];
  EXPECT_TRUE(head.starts_with("GET /group/p.git/info/refs?service=git-upload-pack HTTP/1.1\r\n"))
      << head;
  EXPECT_NE(head.find("Authorization: " + Basic("token-1") + "\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.find("c3RvbGVu"), std::string::npos) << "the client's credentials stay out";
  EXPECT_EQ(head.find("Cookie"), std::string::npos);
  EXPECT_NE(head.find("Host: 127.0.0.1:" + std::to_string(upstream.port())), std::string::npos);
  EXPECT_NE(head.find("Git-Protocol: version=2"), std::string::npos);
  EXPECT_TRUE(response.starts_with("HTTP/1.1 200 OK\r\n")) << response;
  EXPECT_NE(response.find("refs until the connection closes"), std::string::npos) << response;
  EXPECT_NE(response.find("Transfer-Encoding: chunked"), std::string::npos)
      << "a close-delimited body is re-framed for the client";
}

TEST_F(GitProxyTest, AProvider401IsRetriedOnceWithARefreshedToken) {
  ScriptedUpstream upstream(
      {[](int fd, const std::string&) {
         SendAll(fd,
                 "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"GitLab\"\r\n"
                 "Content-Length: 0\r\n\r\n");
       },
       [](int fd, const std::string&) {
         SendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
       }});
  StartProxy(upstream.port());
  const int client = Connect(proxy_->port());

  SendAll(client,
          Addressed("GET /gitlab/group/p.git/info/refs?service=git-receive-pack HTTP/1.1\r\n"
                    "Host: PROXY\r\nConnection: close\r\n\r\n"));
  const std::string response = ReadToEnd(client);
  ::close(client);

  EXPECT_TRUE(response.starts_with("HTTP/1.1 200 OK\r\n")) << response;
  ASSERT_EQ(upstream.heads().size(), 2U);
  EXPECT_NE(upstream.heads()[1].find(Basic("token-2")), std::string::npos);
  const auto rejections = source_->rejections();
  ASSERT_EQ(rejections.size(), 2U);
  EXPECT_EQ(rejections[1], crypto::Sha256Hex("token-1")) << "keybridge is told which token failed";
}

TEST_F(GitProxyTest, ExpectContinueAndAChunkedUploadStreamThrough) {
  std::string received;
  ScriptedUpstream upstream({[&received](int fd, const std::string&) {
    received = ReadUntil(fd, "\r\n0\r\n\r\n");
    SendAll(fd,
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-git-receive-pack-result\r\n"
            "Content-Length: 6\r\n\r\nstored");
  }});
  StartProxy(upstream.port());
  const int client = Connect(proxy_->port());

  SendAll(client, Addressed("POST /gitlab/group/p.git/git-receive-pack HTTP/1.1\r\nHost: PROXY\r\n"
                            "Content-Type: application/x-git-receive-pack-request\r\n"
                            "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"));
  const std::string interim = ReadUntil(client, "\r\n\r\n");
  SendAll(client, Addressed("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  const std::string response = ReadUntil(client, "stored");
  ::close(client);

  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_EQ(upstream.heads().size(), 1U);
  EXPECT_EQ(upstream.heads()[0].find("Expect"), std::string::npos) << upstream.heads()[0];
  EXPECT_NE(upstream.heads()[0].find("Transfer-Encoding: chunked"), std::string::npos);
  // Chunk boundaries may differ; the bytes may not.
  std::string body;
  for (std::string_view rest = received; !rest.empty();) {
    const auto line_end = rest.find("\r\n");
    const std::size_t size = std::stoul(std::string(rest.substr(0, line_end)), nullptr, 16);
    body += rest.substr(line_end + 2, size);
    rest.remove_prefix(line_end + 2 + size + 2);
    if (size == 0) {
      break;
    }
  }
  EXPECT_EQ(body, "hello world");
  EXPECT_TRUE(response.starts_with("HTTP/1.1 200 OK\r\n")) << response;
}

TEST_F(GitProxyTest, AnAnswerBeforeTheUploadEndsReachesTheClientAndClosesTheConnection) {
  ScriptedUpstream upstream({[](int fd, const std::string&) {
    // Refuses at once, without reading the 10 MB announced.
    SendAll(fd,
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n"
            "Connection: close\r\n\r\nforbidden");
  }});
  StartProxy(upstream.port());
  const int client = Connect(proxy_->port());

  SendAll(client, Addressed("POST /gitlab/group/p.git/git-receive-pack HTTP/1.1\r\nHost: PROXY\r\n"
                            "Content-Length: 10485760\r\n\r\n"));
  SendAll(client, Addressed(std::string(std::size_t{64} * 1024, 'p')));
  const std::string response = ReadToEnd(client);  // ends: the proxy closes the connection
  ::close(client);

  EXPECT_TRUE(response.starts_with("HTTP/1.1 403 Forbidden\r\n")) << response;
  EXPECT_NE(response.find("forbidden"), std::string::npos);
}

TEST_F(GitProxyTest, AnUnreachableProviderIsA502WithTheReason) {
  std::uint16_t closed_port = 0;
  ::close(Listen(closed_port));
  StartProxy(closed_port);
  const int client = Connect(proxy_->port());

  SendAll(
      client,
      Addressed(
          "GET /gitlab/group/p.git/info/refs?service=git-upload-pack HTTP/1.1\r\nHost: PROXY\r\n"
          "Connection: close\r\n\r\n"));
  const std::string response = ReadToEnd(client);
  ::close(client);

  EXPECT_TRUE(response.starts_with("HTTP/1.1 502 Bad Gateway\r\n")) << response;
  EXPECT_NE(response.find("cannot connect to 127.0.0.1:" + std::to_string(closed_port)),
            std::string::npos)
      << response;
}

TEST_F(GitProxyTest, ABrowserLedHereByDnsRebindingGetsNothing) {
  ScriptedUpstream upstream({});
  StartProxy(upstream.port());
  const auto ask = [this](const std::string& extra_headers) {
    const int client = Connect(proxy_->port());
    SendAll(client, "GET /gitlab/group/p.git/info/refs?service=git-upload-pack HTTP/1.1\r\n"
                        + extra_headers + "Connection: close\r\n\r\n");
    std::string response = ReadToEnd(client);
    ::close(client);
    return response;
  };
  const std::string ours = "Host: 127.0.0.1:" + std::to_string(proxy_->port()) + "\r\n";

  const std::string rebound = ask("Host: evil.example:" + std::to_string(proxy_->port()) + "\r\n");
  const std::string cross_site = ask(ours + "Origin: https://evil.example\r\n");
  const std::string fetched = ask(ours + "Sec-Fetch-Site: cross-site\r\n");

  EXPECT_TRUE(rebound.starts_with("HTTP/1.1 421 ")) << rebound;
  EXPECT_TRUE(cross_site.starts_with("HTTP/1.1 403 ")) << cross_site;
  EXPECT_TRUE(fetched.starts_with("HTTP/1.1 403 ")) << fetched;
  EXPECT_TRUE(upstream.heads().empty()) << "nothing reached the provider";
  EXPECT_TRUE(source_->rejections().empty()) << "no credential was even asked for";
}

}  // namespace
}  // namespace keybridge::gitproxy
