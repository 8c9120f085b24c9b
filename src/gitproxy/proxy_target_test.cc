#include "gitproxy/proxy_target.h"

#include <gtest/gtest.h>

namespace keybridge::gitproxy {
namespace {

using core::ErrorCode;

TEST(ParseProxyTarget, SplitsIntegrationRepositoryAndEndpoint) {
  auto refs = ParseProxyTarget("GET", "/gitlab/group/sub/p.git/info/refs?service=git-upload-pack");
  ASSERT_TRUE(refs.ok()) << refs.error().message;
  EXPECT_EQ(refs->provider_id, "gitlab");
  EXPECT_EQ(refs->repository_path, "group/sub/p.git");
  EXPECT_EQ(refs->endpoint, "info/refs");
  EXPECT_FALSE(refs->push);
  EXPECT_EQ(refs->UpstreamSuffix(), "/group/sub/p.git/info/refs?service=git-upload-pack");

  auto push = ParseProxyTarget("POST", "/github/Octo/Repo/git-receive-pack");
  ASSERT_TRUE(push.ok()) << push.error().message;
  EXPECT_TRUE(push->push);
  EXPECT_EQ(push->UpstreamSuffix(), "/Octo/Repo/git-receive-pack");
  EXPECT_EQ(push->RepositoryKey(), "github/octo/repo");
  EXPECT_EQ(ParseProxyTarget("GET", "/github/octo/repo.git/info/refs?service=git-receive-pack")
                ->RepositoryKey(),
            "github/octo/repo");
  EXPECT_TRUE(
      ParseProxyTarget("GET", "/github/octo/repo.git/info/refs?service=git-receive-pack")->push);
}

TEST(ParseProxyTarget, RefusesPathsThatCouldLeaveTheIntegrationUrl) {
  for (const char* target : {
           "/gitlab/../admin/p.git/info/refs?service=git-upload-pack",
           "/gitlab/group/%2e%2e/p.git/info/refs?service=git-upload-pack",
           "/gitlab/group/./p.git/git-upload-pack",
           "/gitlab/group//p.git/git-upload-pack",
           "/gitlab/group%2Fp.git/git-upload-pack",
           "/gitlab/group%2fp.git/git-upload-pack",
           "/gitlab/group%5Cp.git/git-upload-pack",
           "/gitlab/group\\p.git/git-upload-pack",
           "http://evil.example/group/p.git/git-upload-pack",
           "gitlab/group/p.git/git-upload-pack",
           "/gitlab/group/p.git/git-upload-pack?x=1",
           "/gitlab/group/p.git/info/refs",
           "/gitlab/group/p.git/info/refs?service=git-upload-pack&x=1",
           "/gitlab/api/v4/user",
           "/gitlab/group/p.git/objects/info/packs",
       }) {
    const auto method = std::string_view(target).ends_with("pack") ? "POST" : "GET";
    auto parsed = ParseProxyTarget(method, target);
    ASSERT_FALSE(parsed.ok()) << target;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << target;
    EXPECT_FALSE(parsed.error().message.empty());
  }
}

// Found by fuzzing: the header promised to refuse control characters, but encoded ones, encoded
// '#' and '?', double-encoded dots and dot segments hidden behind ".git" passed.
TEST(ParseProxyTarget, RefusesEncodedControlsDelimitersAndDoubleEncoding) {
  for (const char* target : {
           "/gitlab/group/p%00.git/git-upload-pack",
           "/gitlab/group%0d%0aX-Injected:%201/p.git/git-upload-pack",
           "/gitlab/group/p%7f/git-upload-pack",
           "/gitlab/group/p%23frag/git-upload-pack",
           "/gitlab/group/p%3Fq=1/git-upload-pack",
           "/gitlab/group/%252e%252e/p.git/git-upload-pack",
           "/gitlab/group/%252fp/git-upload-pack",
           "/gitlab/group/p%25/git-upload-pack",
           "/gitlab/group/...git/git-upload-pack",
           "/gitlab/group/..GIT/git-upload-pack",
           "/gitlab/group/.git/git-upload-pack",
           "/gitlab/group/%2e%2e.git/info/refs?service=git-upload-pack",
       }) {
    const auto method = std::string_view(target).ends_with("pack") ? "POST" : "GET";
    auto parsed = ParseProxyTarget(method, target);
    ASSERT_FALSE(parsed.ok()) << target;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << target;
  }
  EXPECT_TRUE(ParseProxyTarget("POST", "/gitlab/group/my%20project.git/git-upload-pack").ok());
  EXPECT_TRUE(ParseProxyTarget("POST", "/gitlab/group/a..git/git-upload-pack").ok());
}

TEST(ParseProxyTarget, MethodMustFitTheEndpoint) {
  EXPECT_FALSE(ParseProxyTarget("POST", "/g/p.git/info/refs?service=git-upload-pack").ok());
  EXPECT_FALSE(ParseProxyTarget("GET", "/g/p.git/git-upload-pack").ok());
  EXPECT_FALSE(ParseProxyTarget("PUT", "/g/p.git/git-receive-pack").ok());
}

TEST(ParseProxyTarget, ARepositoryIsRequired) {
  EXPECT_EQ(ParseProxyTarget("POST", "/gitlab/git-upload-pack").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(ParseProxyTarget("GET", "/gitlab/info/refs?service=git-upload-pack").error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(ParseProxyTarget("GET", "/bad id/p/info/refs?service=git-upload-pack").error().code,
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace keybridge::gitproxy
