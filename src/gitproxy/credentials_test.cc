#include "gitproxy/credentials.h"

#include <gtest/gtest.h>

#include "crypto/base64.h"
#include "crypto/hash.h"
#include "support/fake_clock.h"
#include "support/scripted_http_client.h"

namespace keybridge::gitproxy {
namespace {

using core::ErrorCode;

constexpr const char* kBase = "https://kb.example.org";
constexpr const char* kCredentialsA =
    "https://kb.example.org/api/data/git/credentials?provider_id=gitlab&path=group%2Fa.git"
    "&min_valid_seconds=300";
constexpr const char* kCredentialsB =
    "https://kb.example.org/api/data/git/credentials?provider_id=gitlab&path=group%2Fb.git"
    "&min_valid_seconds=300";

ProxyTarget Target(const std::string& path) {
  auto parsed = ParseProxyTarget("GET", "/gitlab/" + path + "/info/refs?service=git-upload-pack");
  EXPECT_TRUE(parsed.ok());
  return *parsed;
}

std::string Credential(const std::string& token, std::int64_t expires_at,
                       const std::string& path = "group/a.git") {
  return R"({"username":"oauth2","password":")" + token + R"(","expires_at":)"
         + std::to_string(expires_at)
         + R"(,"provider_id":"gitlab","connection_id":"c1","repository_url":"https://gitlab.example.org/)"
         + path + R"("})";
}

class CredentialsTest : public ::testing::Test {
 protected:
  std::int64_t Now() const { return core::ToUnixSeconds(clock_.Now()); }

  testing::FakeClock clock_;
  testing::ScriptedHttpClient http_;
  KeybridgeCredentials source_{http_, clock_, kBase, core::Secret("kbs_session")};
  CredentialCache cache_{source_, clock_};
};

TEST_F(CredentialsTest, BuildsBasicAuthorizationAndSendsTheSessionToken) {
  http_.Enqueue("GET", kCredentialsA,
                testing::JsonResponse(200, Credential("glpat", Now() + 7200)));

  auto credential = cache_.Get(Target("group/a.git"));

  ASSERT_TRUE(credential.ok()) << credential.error().message;
  EXPECT_EQ(credential->authorization.Reveal(), "Basic " + crypto::Base64Encode("oauth2:glpat"));
  EXPECT_EQ(credential->repository_url, "https://gitlab.example.org/group/a.git");
  EXPECT_EQ(credential->token_sha256, crypto::Sha256Hex("glpat"));
  const auto requests = http_.Requests();
  ASSERT_EQ(requests.size(), 1U);
  ASSERT_FALSE(requests[0].headers.empty());
  EXPECT_EQ(requests[0].headers[0].value, "Bearer kbs_session");
}

TEST_F(CredentialsTest, CachesPerRepositoryUntilShortlyBeforeExpiry) {
  http_.Enqueue("GET", kCredentialsA, testing::JsonResponse(200, Credential("one", Now() + 600)));
  http_.Enqueue("GET", kCredentialsA, testing::JsonResponse(200, Credential("two", Now() + 7200)));
  http_.Enqueue("GET", kCredentialsB,
                testing::JsonResponse(200, Credential("one", Now() + 600, "group/b.git")));

  EXPECT_EQ(cache_.Get(Target("group/a.git"))->token_sha256, crypto::Sha256Hex("one"));
  EXPECT_EQ(cache_.Get(Target("group/A"))->token_sha256, crypto::Sha256Hex("one"))
      << "the same repository, spelled differently";
  EXPECT_EQ(http_.CountRequests(kCredentialsA), 1U);
  EXPECT_TRUE(cache_.Get(Target("group/b.git")).ok());
  EXPECT_EQ(http_.CountRequests(kCredentialsB), 1U) << "another repository asks keybridge itself";

  clock_.Advance(core::Seconds(600 - 119));  // 119 s left: inside the refetch margin
  EXPECT_EQ(cache_.Get(Target("group/a.git"))->token_sha256, crypto::Sha256Hex("two"));
  EXPECT_EQ(http_.CountRequests(kCredentialsA), 2U);
}

TEST_F(CredentialsTest, EvenALongLivedTokenIsAskedForAgainAfterFiveMinutes) {
  // keybridge is asked again, so a revoked session token stops working within five minutes.
  http_.Enqueue("GET", kCredentialsA, testing::JsonResponse(200, Credential("one", Now() + 7200)));
  http_.Enqueue("GET", kCredentialsA,
                testing::JsonResponse(403, R"({"error":{"code":1403,"message":"revoked"}})"));

  ASSERT_TRUE(cache_.Get(Target("group/a.git")).ok());
  clock_.Advance(core::Seconds(299));
  ASSERT_TRUE(cache_.Get(Target("group/a.git")).ok());
  EXPECT_EQ(http_.CountRequests(kCredentialsA), 1U);
  clock_.Advance(core::Seconds(1));

  EXPECT_FALSE(cache_.Get(Target("group/a.git")).ok());
  EXPECT_EQ(http_.CountRequests(kCredentialsA), 2U);
}

TEST_F(CredentialsTest, ReplaceReportsTheRejectedTokenForAForcedRefresh) {
  http_.Enqueue("GET", kCredentialsA, testing::JsonResponse(200, Credential("old", Now() + 7200)));
  const std::string forced =
      std::string(kCredentialsA) + "&force_refresh=1&rejected_sha256=" + crypto::Sha256Hex("old");
  http_.Enqueue("GET", forced, testing::JsonResponse(200, Credential("new", Now() + 7200)));

  auto old = cache_.Get(Target("group/a.git"));
  ASSERT_TRUE(old.ok());
  auto replaced = cache_.Replace(Target("group/a.git"), *old);

  ASSERT_TRUE(replaced.ok()) << replaced.error().message;
  EXPECT_EQ(replaced->token_sha256, crypto::Sha256Hex("new"));
  EXPECT_EQ(cache_.Get(Target("group/a.git"))->token_sha256, crypto::Sha256Hex("new"));
}

TEST_F(CredentialsTest, RefusalsKeepTheServersSentence) {
  http_.Enqueue("GET", kCredentialsA,
                testing::JsonResponse(404, R"({"error":{"code":1404,"message":"You have no )"
                                           R"(connection to GitLab. Connect at https://kb/x"}})"));
  http_.Enqueue("GET", kCredentialsA,
                testing::JsonResponse(403, R"({"error":{"code":1403,"message":"scoped"}})"));
  http_.Enqueue("GET", kCredentialsA,
                testing::JsonResponse(401, R"({"error":{"code":1401,"message":"expired"}})"));
  http_.Enqueue("GET", kCredentialsA, testing::JsonResponse(503, "oops"));

  auto none = cache_.Get(Target("group/a.git"));
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  EXPECT_NE(none.error().message.find("Connect at https://kb/x"), std::string::npos);
  EXPECT_EQ(cache_.Get(Target("group/a.git")).error().code, ErrorCode::kPermissionDenied);
  auto unauthenticated = cache_.Get(Target("group/a.git"));
  EXPECT_EQ(unauthenticated.error().code, ErrorCode::kUnauthenticated);
  EXPECT_NE(unauthenticated.error().message.find("KEYBRIDGE_TOKEN"), std::string::npos);
  EXPECT_EQ(cache_.Get(Target("group/a.git")).error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(cache_.size(), 0U) << "refusals are not cached";
}

TEST_F(CredentialsTest, AccessHintNamesTheInstallUrl) {
  http_.Enqueue(
      "GET", "https://kb.example.org/api/data/repository?url=https%3A%2F%2Fgithub.com%2Fo%2Fr",
      testing::JsonResponse(200, R"({"status":"invalid","install_url":"https://github.com/apps/)"
                                 R"(kb/installations/new"})"));

  const std::string hint = source_.AccessHint("https://github.com/o/r");

  EXPECT_NE(hint.find("https://github.com/apps/kb/installations/new"), std::string::npos) << hint;
}

}  // namespace
}  // namespace keybridge::gitproxy
