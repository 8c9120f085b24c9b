#include "gitproxy/forwarding.h"

#include <gtest/gtest.h>

namespace keybridge::gitproxy {
namespace {

ProxyTarget InfoRefs() {
  auto parsed = ParseProxyTarget("GET", "/gitlab/group/a.git/info/refs?service=git-upload-pack");
  EXPECT_TRUE(parsed.ok());
  return *parsed;
}

UpstreamCredential CredentialFor(const std::string& repository_url) {
  UpstreamCredential credential;
  credential.repository_url = repository_url;
  return credential;
}

TEST(ForwardingTest, JoinsTheRepositoryUrlAndTheEndpoint) {
  auto upstream =
      UpstreamFor(CredentialFor("https://gitlab.example.org/git/group/a.git/"), InfoRefs());

  ASSERT_TRUE(upstream.ok());
  EXPECT_EQ(upstream->target, "/git/group/a.git/info/refs?service=git-upload-pack");
  EXPECT_EQ(upstream->host_header, "gitlab.example.org");
  EXPECT_EQ(upstream->repository_url, "https://gitlab.example.org/git/group/a.git/");
}

TEST(ForwardingTest, HostHeaderNamesOnlyANonDefaultPortAndBracketsIpv6) {
  auto custom = UpstreamFor(CredentialFor("https://git.example.org:8443/a.git"), InfoRefs());
  auto standard = UpstreamFor(CredentialFor("http://git.example.org:80/a.git"), InfoRefs());
  auto v6 = UpstreamFor(CredentialFor("http://[::1]:8080/a.git"), InfoRefs());

  ASSERT_TRUE(custom.ok());
  ASSERT_TRUE(standard.ok());
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(custom->host_header, "git.example.org:8443");
  EXPECT_EQ(standard->host_header, "git.example.org");
  EXPECT_EQ(v6->host_header, "[::1]:8080");
}

TEST(ForwardingTest, RefusesRepositoryUrlsThatAreNotHttp) {
  auto upstream = UpstreamFor(CredentialFor("ftp://git.example.org/a.git"), InfoRefs());

  ASSERT_FALSE(upstream.ok());
  EXPECT_EQ(upstream.error().code, core::ErrorCode::kUnavailable);
}

TEST(ForwardingTest, HopByHopAndCredentialFieldsStayBehind) {
  EXPECT_TRUE(DropFromRequest("authorization"));
  EXPECT_TRUE(DropFromRequest("cookie"));
  EXPECT_TRUE(DropFromRequest("transfer-encoding"));
  EXPECT_FALSE(DropFromRequest("content-type"));
  EXPECT_FALSE(DropFromRequest("git-protocol"));
  EXPECT_TRUE(DropFromResponse("www-authenticate"));
  EXPECT_FALSE(DropFromResponse("content-type"));
  EXPECT_EQ(ConnectionOptions(" Keep-Alive, X-Trace ,,close"),
            (std::set<std::string>{"keep-alive", "x-trace", "close"}));
}

TEST(ForwardingTest, CredentialErrorsNeverBecome401) {
  EXPECT_EQ(StatusFor(core::ErrorCode::kNotFound), 404);
  EXPECT_EQ(StatusFor(core::ErrorCode::kUnavailable), 503);
  EXPECT_EQ(StatusFor(core::ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(StatusFor(core::ErrorCode::kUnauthenticated), 403);
}

TEST(RefuseNonGitClient, OnlyGitAddressingTheProxyItselfIsServed) {
  EXPECT_FALSE(RefuseNonGitClient("127.0.0.1:65480", "", "", "127.0.0.1", 65480).has_value());
  EXPECT_FALSE(RefuseNonGitClient("LOCALHOST:65480", "", "", "127.0.0.1", 65480).has_value());
  EXPECT_FALSE(RefuseNonGitClient("[::1]:65480", "", "", "127.0.0.1", 65480).has_value());
  EXPECT_FALSE(RefuseNonGitClient("localhost", "", "", "127.0.0.1", 80).has_value());
  EXPECT_FALSE(RefuseNonGitClient("10.1.2.3:65480", "", "none", "10.1.2.3", 65480).has_value());

  EXPECT_EQ(RefuseNonGitClient("evil.example:65480", "", "", "127.0.0.1", 65480)->status, 421);
  EXPECT_EQ(RefuseNonGitClient("127.0.0.1", "", "", "127.0.0.1", 65480)->status, 421);
  EXPECT_EQ(RefuseNonGitClient("127.0.0.1:1234", "", "", "127.0.0.1", 65480)->status, 421);
  EXPECT_EQ(RefuseNonGitClient("127.evil.example:65480", "", "", "127.0.0.1", 65480)->status, 421);
  EXPECT_EQ(RefuseNonGitClient("", "", "", "127.0.0.1", 65480)->status, 421);
  EXPECT_EQ(RefuseNonGitClient("127.0.0.1:65480", "null", "", "127.0.0.1", 65480)->status, 403);
  EXPECT_EQ(RefuseNonGitClient("127.0.0.1:65480", "", "same-origin", "127.0.0.1", 65480)->status,
            403);
}

}  // namespace
}  // namespace keybridge::gitproxy
