// BrowserSessionService: sessions end after the idle limit or the absolute lifetime (whichever
// comes first) and on sign-out; only hashes are stored; the CSRF token differs per session; the
// administrator link exists only while no administrator has a session, works once and expires.
#include "service/browser_session_service.h"

#include <gtest/gtest.h>

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
    return options;
  }

  SignedIn SignInUser(const std::string& id, bool admin = false) {
    auto signed_in = service_.SignIn(core::Caller::User(core::UserId(id), admin));
    EXPECT_TRUE(signed_in.ok());
    return std::move(signed_in).value();
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

}  // namespace
}  // namespace keybridge::service
