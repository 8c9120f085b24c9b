// BrowserSessionService: sessions end after the idle limit or the absolute lifetime (whichever
// comes first) and on sign-out; only hashes are stored; the CSRF token differs per session; the
// administrator link exists only while no administrator has a session, works once and expires; a
// session never outlives what created it (the local token's expiry and revocation, the identity
// provider's hourly re-check).
#include "service/browser_session_service.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "crypto/hash.h"
#include "crypto/system_random.h"
#include "support/fake_clock.h"
#include "support/in_memory_repositories.h"

namespace keybridge::service {
namespace {

class BrowserSessionServiceTest : public ::testing::Test {
 protected:
  BrowserSessionServiceTest()
      : local_(api_tokens_, clock_), service_(repo_, local_, random_, clock_, Options()) {}

  static BrowserSessionOptions Options() {
    BrowserSessionOptions options;
    options.idle_lifetime = core::Seconds(3600);
    options.absolute_lifetime = core::Seconds(4 * 3600);
    options.link_lifetime = core::Seconds(600);
    options.touch_interval = core::Seconds(60);
    options.identity_recheck_interval = core::Seconds(24 * 3600);  // beyond the lifetime here
    return options;
  }

  SignedIn SignInUser(const std::string& id, bool admin = false) {
    auto signed_in = service_.SignIn(core::Caller::User(core::UserId(id), admin));
    EXPECT_TRUE(signed_in.ok());
    return std::move(signed_in).value();
  }

  // A local token as `keybridge tokens create` stores it; returns the token's plaintext.
  std::string CreateLocalToken(const std::string& user, bool admin,
                               std::optional<core::TimePoint> expires_at) {
    std::string token = "kb_" + user + "-token";
    core::ApiToken stored;
    stored.id = user + "-id";
    stored.user_id = core::UserId(user);
    stored.is_admin = admin;
    stored.token_hash = identity::HashApiToken(token);
    stored.created_at = clock_.Now();
    stored.expires_at = expires_at;
    EXPECT_TRUE(api_tokens_.Insert(stored).ok());
    return token;
  }

  testing::FakeClock clock_;
  crypto::SystemRandom random_;
  testing::InMemoryApiTokenRepository api_tokens_;
  testing::InMemoryBrowserSessionRepository repo_;
  identity::ApiTokenAuthenticator local_;
  BrowserSessionService service_;
};

TEST_F(BrowserSessionServiceTest, SessionIsStoredHashedAndVerifiesAsItsUser) {
  const SignedIn session = SignInUser("alice");

  EXPECT_EQ(session.cookie_value.Reveal().size(), 43U);  // 256 bits, base64url
  EXPECT_TRUE(repo_.FindByHash(crypto::Sha256Hex(session.cookie_value.Reveal())).ok());
  EXPECT_FALSE(repo_.FindByHash(session.cookie_value.Reveal()).ok());
  auto caller = service_.VerifySession(session.cookie_value.Reveal());
  ASSERT_TRUE(caller.ok());
  EXPECT_EQ(caller->user_id, "alice");
  EXPECT_TRUE(caller->browser_session);
  EXPECT_EQ(session.csrf_token, BrowserSessionService::CsrfToken(session.cookie_value.Reveal()));
  EXPECT_NE(session.csrf_token, SignInUser("alice").csrf_token);
}

TEST_F(BrowserSessionServiceTest, IdleSessionEndsButActivityKeepsItAlive) {
  const SignedIn session = SignInUser("alice");
  clock_.Advance(core::Seconds(50 * 60));
  ASSERT_TRUE(service_.VerifySession(session.cookie_value.Reveal()).ok());  // touches
  clock_.Advance(core::Seconds(50 * 60));
  EXPECT_TRUE(service_.VerifySession(session.cookie_value.Reveal()).ok()) << "active, not idle";

  clock_.Advance(core::Seconds(3600));

  auto idle = service_.VerifySession(session.cookie_value.Reveal());
  EXPECT_EQ(idle.error().code, core::ErrorCode::kUnauthenticated);
}

TEST_F(BrowserSessionServiceTest, AbsoluteLifetimeEndsEvenAnActiveSession) {
  const SignedIn session = SignInUser("alice");
  for (int i = 0; i < 7; ++i) {
    clock_.Advance(core::Seconds(30 * 60));
    ASSERT_TRUE(service_.VerifySession(session.cookie_value.Reveal()).ok()) << i;
  }
  clock_.Advance(core::Seconds(30 * 60));
  EXPECT_EQ(service_.VerifySession(session.cookie_value.Reveal()).error().code,
            core::ErrorCode::kUnauthenticated);
}

TEST_F(BrowserSessionServiceTest, SignOutEndsTheSession) {
  const SignedIn session = SignInUser("alice");
  ASSERT_TRUE(service_.SignOut(session.cookie_value.Reveal()).ok());
  EXPECT_FALSE(service_.VerifySession(session.cookie_value.Reveal()).ok());
  EXPECT_TRUE(service_.SignOut(session.cookie_value.Reveal()).ok()) << "twice is fine";
}

TEST_F(BrowserSessionServiceTest, AdminLinkOnlyWhileNoAdminHasASessionSingleUseAndExpiring) {
  auto link = service_.IssueAdminLinkIfNoAdmin();
  ASSERT_TRUE(link.ok());
  ASSERT_TRUE(link->has_value());
  auto expired_link = service_.IssueAdminLinkIfNoAdmin();
  ASSERT_TRUE(expired_link.ok() && expired_link->has_value());

  auto admin = service_.SignInWithLink((*link)->Reveal());
  ASSERT_TRUE(admin.ok());
  EXPECT_TRUE(admin->caller.is_admin);
  EXPECT_FALSE(service_.SignInWithLink((*link)->Reveal()).ok()) << "single use";
  auto none = service_.IssueAdminLinkIfNoAdmin();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value()) << "an administrator has a session";

  clock_.Advance(core::Seconds(601));
  EXPECT_EQ(service_.SignInWithLink((*expired_link)->Reveal()).error().code,
            core::ErrorCode::kUnauthenticated);
}

TEST_F(BrowserSessionServiceTest, OnlyApiTokensSignIn) {
  EXPECT_EQ(service_.SignInWithApiToken("kbs_session").error().code,
            core::ErrorCode::kUnauthenticated);
  EXPECT_EQ(service_.SignInWithApiToken("eyJhbGciOi.jwt").error().code,
            core::ErrorCode::kUnauthenticated);
  EXPECT_EQ(service_.SignInWithApiToken("kb_unknown").error().code,
            core::ErrorCode::kUnauthenticated);
}

TEST_F(BrowserSessionServiceTest, LocalTokenSessionEndsWhenTheTokenExpires) {
  const std::string token = CreateLocalToken("root", true, clock_.Now() + core::Seconds(1800));
  auto session = service_.SignInWithApiToken(token);
  ASSERT_TRUE(session.ok()) << session.error().message;
  const std::string cookie(session->cookie_value.Reveal());
  auto stored = repo_.FindByHash(crypto::Sha256Hex(cookie));
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->expires_at, clock_.Now() + core::Seconds(1800)) << "capped at the token's";
  clock_.Advance(core::Seconds(1799));
  auto admin = service_.VerifySession(cookie);
  ASSERT_TRUE(admin.ok());
  EXPECT_TRUE(admin->is_admin);

  clock_.Advance(core::Seconds(1));

  EXPECT_EQ(service_.VerifySession(cookie).error().code, core::ErrorCode::kUnauthenticated);
}

TEST_F(BrowserSessionServiceTest, LocalTokenSessionEndsWhenTheTokenIsRevoked) {
  const std::string token = CreateLocalToken("root", true, std::nullopt);
  auto session = service_.SignInWithApiToken(token);
  ASSERT_TRUE(session.ok()) << session.error().message;
  const std::string cookie(session->cookie_value.Reveal());
  ASSERT_TRUE(service_.VerifySession(cookie).ok());

  ASSERT_TRUE(api_tokens_.Revoke("root-id", clock_.Now()).ok());

  auto ended = service_.VerifySession(cookie);
  ASSERT_FALSE(ended.ok());
  EXPECT_EQ(ended.error().code, core::ErrorCode::kUnauthenticated);
  EXPECT_NE(ended.error().message.find("token revoked"), std::string::npos)
      << ended.error().message;
  EXPECT_FALSE(repo_.FindByHash(crypto::Sha256Hex(cookie)).ok()) << "the session is gone";
}

TEST_F(BrowserSessionServiceTest, IdentityProviderSessionIsRecheckedWithinTheHour) {
  BrowserSessionOptions options = Options();
  options.identity_recheck_interval = core::Seconds(3600);
  BrowserSessionService hourly(repo_, local_, random_, clock_, options);
  auto session = hourly.SignIn(core::Caller::User(core::UserId("alice"), true));
  ASSERT_TRUE(session.ok());
  const std::string cookie(session->cookie_value.Reveal());
  clock_.Advance(core::Seconds(3599));
  auto admin = hourly.VerifySession(cookie);
  ASSERT_TRUE(admin.ok());
  EXPECT_TRUE(admin->is_admin);

  clock_.Advance(core::Seconds(1));

  auto recheck = hourly.VerifySession(cookie);
  ASSERT_FALSE(recheck.ok());
  EXPECT_EQ(recheck.error().code, core::ErrorCode::kUnauthenticated);
  EXPECT_NE(recheck.error().message.find("identity provider"), std::string::npos);
}

}  // namespace
}  // namespace keybridge::service
