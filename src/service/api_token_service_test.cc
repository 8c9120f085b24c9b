#include "service/api_token_service.h"

#include <gtest/gtest.h>

#include "identity/api_token_authenticator.h"
#include "support/fake_clock.h"
#include "support/in_memory_repositories.h"

namespace keybridge::service {
namespace {

class CountingRandom final : public core::Random {
 public:
  std::string Bytes(std::size_t count) override {
    std::string out(count, '\0');
    for (auto& c : out) {
      c = static_cast<char>(next_++);
    }
    return out;
  }

 private:
  unsigned char next_ = 1;
};

TEST(ApiTokenService, StoresOnlyTheHashAndHonoursTtl) {
  testing::InMemoryApiTokenRepository repo;
  CountingRandom random;
  testing::FakeClock clock;
  ApiTokenService service(repo, random, clock);

  auto issued = service.Create(core::UserId("alice"), true, "laptop", core::Seconds(3600));

  ASSERT_TRUE(issued.ok());
  const auto stored = repo.List().value().at(0);
  EXPECT_EQ(stored.token_hash, identity::HashApiToken(issued->token.Reveal()));
  EXPECT_NE(stored.token_hash, issued->token.Reveal());
  EXPECT_TRUE(stored.is_admin);
  EXPECT_EQ(stored.expires_at, clock.Now() + core::Seconds(3600));
}

TEST(ApiTokenService, RevokeUnknownIsNotFound) {
  testing::InMemoryApiTokenRepository repo;
  CountingRandom random;
  testing::FakeClock clock;
  ApiTokenService service(repo, random, clock);
  auto issued = service.Create(core::UserId("alice"), false, "", std::nullopt);
  ASSERT_TRUE(issued.ok());

  EXPECT_TRUE(service.Revoke(issued->record.id).ok());
  EXPECT_EQ(service.Revoke("tok_nope").error().code, core::ErrorCode::kNotFound);
  EXPECT_TRUE(repo.List().value().at(0).revoked_at.has_value());
}

TEST(ApiTokenService, RejectsEmptyUserAndNonPositiveTtl) {
  testing::InMemoryApiTokenRepository repo;
  CountingRandom random;
  testing::FakeClock clock;
  ApiTokenService service(repo, random, clock);

  EXPECT_FALSE(service.Create(core::UserId(""), false, "", std::nullopt).ok());
  EXPECT_FALSE(service.Create(core::UserId("a"), false, "", core::Seconds(0)).ok());
}

core::BrowserSession SessionOf(const std::string& user_id, const std::string& id_hash) {
  core::BrowserSession session;
  session.id_hash = id_hash;
  session.user_id = core::UserId(user_id);
  return session;
}

TEST(ApiTokenService, RevokingSignsTheOwnerOutOfEveryBrowser) {
  testing::InMemoryApiTokenRepository repo;
  testing::InMemoryBrowserSessionRepository sessions;
  CountingRandom random;
  testing::FakeClock clock;
  ApiTokenService service(repo, random, clock);
  auto issued = service.Create(core::UserId("alice"), false, "", std::nullopt);
  ASSERT_TRUE(issued.ok());
  ASSERT_TRUE(sessions.Insert(SessionOf("alice", "a1")).ok());
  ASSERT_TRUE(sessions.Insert(SessionOf("alice", "a2")).ok());
  ASSERT_TRUE(sessions.Insert(SessionOf("bob", "b1")).ok());

  auto revoked = service.RevokeAndSignOut(issued->record.id, sessions);

  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->user_id, "alice");
  EXPECT_EQ(revoked->browser_sessions_ended, 2);
  EXPECT_FALSE(revoked->sign_out_error.has_value());
  EXPECT_TRUE(repo.List().value().at(0).revoked_at.has_value());
  EXPECT_FALSE(sessions.FindByHash("a1").ok());
  EXPECT_FALSE(sessions.FindByHash("a2").ok());
  EXPECT_TRUE(sessions.FindByHash("b1").ok()) << "another user's session stays";
}

TEST(ApiTokenService, RevokingAnUnknownTokenSignsNobodyOut) {
  testing::InMemoryApiTokenRepository repo;
  testing::InMemoryBrowserSessionRepository sessions;
  CountingRandom random;
  testing::FakeClock clock;
  ApiTokenService service(repo, random, clock);
  ASSERT_TRUE(sessions.Insert(SessionOf("alice", "a1")).ok());

  auto revoked = service.RevokeAndSignOut("tok_nope", sessions);

  EXPECT_EQ(revoked.error().code, core::ErrorCode::kNotFound);
  EXPECT_TRUE(sessions.FindByHash("a1").ok());
}

}  // namespace
}  // namespace keybridge::service
