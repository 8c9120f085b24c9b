#include "service/session_token_service.h"

#include <gtest/gtest.h>

#include "identity/api_token_authenticator.h"
#include "identity/authenticator.h"
#include "support/fake_clock.h"
#include "support/in_memory_repositories.h"

namespace keybridge::service {
namespace {

using core::ErrorCode;

const core::ConnectionId kAliceConnection("01HAAAAAAAAAAAAAAAAAAAAAAA");
const core::ConnectionId kBobConnection("01HBBBBBBBBBBBBBBBBBBBBBBB");
constexpr const char* kRepo = "https://gitlab.example.org/group/project.git";

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

core::Connection MakeConnection(const core::ConnectionId& id, const std::string& user) {
  core::Connection c;
  c.id = id;
  c.user_id = core::UserId(user);
  c.provider_id = core::ProviderId("gitlab");
  return c;
}

class SessionTokenServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::Provider gitlab;
    gitlab.id = core::ProviderId("gitlab");
    gitlab.kind = core::ProviderKind::kGitLab;
    gitlab.display_name = "GitLab";
    gitlab.url = "https://gitlab.example.org";
    ASSERT_TRUE(providers_.Insert(gitlab).ok());
    ASSERT_TRUE(connections_.FindOrInsert(MakeConnection(kAliceConnection, "alice")).ok());
    ASSERT_TRUE(connections_.FindOrInsert(MakeConnection(kBobConnection, "bob")).ok());
  }

  static SessionTokenRequest Request() {
    SessionTokenRequest request;
    request.session_name = "my-session";
    request.repository_urls = {kRepo};
    return request;
  }
  static core::Caller Alice() { return core::Caller::User(core::UserId("alice")); }
  static core::Caller AliceSession() {
    core::Caller caller = Alice();
    caller.session_scope = core::SessionScope{"st_000000000001", "s", {kAliceConnection}, {}};
    return caller;
  }

  testing::FakeClock clock_;
  CountingRandom random_;
  testing::InMemorySessionTokenRepository tokens_;
  testing::InMemoryProviderRepository providers_;
  testing::InMemoryConnectionRepository connections_;
  ProviderMatcher matcher_{providers_};
  SessionScopePolicy scope_{connections_, matcher_};
  SessionTokenService service_{tokens_, scope_, random_, clock_, SessionTokenServiceOptions{}};
};

TEST_F(SessionTokenServiceTest, CreateStoresOnlyTheHashAndExpiresAfterTwelveHoursByDefault) {
  auto issued = service_.Create(Alice(), Request());

  ASSERT_TRUE(issued.ok()) << issued.error().message;
  EXPECT_EQ(issued->token.Reveal().rfind("kbs_", 0), 0U);
  EXPECT_EQ(issued->token.Reveal().size(), 4U + 43U);
  EXPECT_TRUE(IsSessionTokenId(issued->record.id)) << issued->record.id;
  const auto stored = tokens_.ListForUser(core::UserId("alice")).value().at(0);
  EXPECT_EQ(stored.token_hash, identity::HashBearerToken(issued->token.Reveal()));
  EXPECT_EQ(stored.token_hash.find(issued->token.Reveal()), std::string::npos);
  EXPECT_EQ(stored.expires_at, clock_.Now() + core::Seconds(12 * 3600));
  EXPECT_EQ(stored.repository_urls, std::vector<std::string>{kRepo});
  EXPECT_EQ(stored.session_name, "my-session");
}

TEST_F(SessionTokenServiceTest, TtlMustStayWithinTheConfiguredBounds) {
  SessionTokenRequest too_long = Request();
  too_long.ttl = core::Seconds(7 * 24 * 3600 + 1);
  SessionTokenRequest too_short = Request();
  too_short.ttl = core::Seconds(59);
  SessionTokenRequest longest = Request();
  longest.ttl = core::Seconds(7 * 24 * 3600);

  EXPECT_EQ(service_.Create(Alice(), too_long).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(service_.Create(Alice(), too_short).error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(service_.Create(Alice(), longest).ok());
}

TEST_F(SessionTokenServiceTest, DefaultTtlNeverExceedsAShorterMaximum) {
  SessionTokenServiceOptions options;
  options.max_ttl = core::Seconds(3600);
  SessionTokenService short_lived(tokens_, scope_, random_, clock_, options);

  auto issued = short_lived.Create(Alice(), Request());

  ASSERT_TRUE(issued.ok()) << issued.error().message;
  EXPECT_EQ(issued->record.expires_at, clock_.Now() + core::Seconds(3600));
}

TEST_F(SessionTokenServiceTest, SessionCallersCanNeitherMintNorListNorRevoke) {
  EXPECT_EQ(service_.Create(AliceSession(), Request()).error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(service_.List(AliceSession()).error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(service_.Revoke(AliceSession(), "st_000000000001").error().code,
            ErrorCode::kPermissionDenied);
}

TEST_F(SessionTokenServiceTest, AnonymousCallersAreUnauthenticated) {
  EXPECT_EQ(service_.Create(core::Caller::Anonymous(), Request()).error().code,
            ErrorCode::kUnauthenticated);
  EXPECT_EQ(service_.List(core::Caller::Anonymous()).error().code, ErrorCode::kUnauthenticated);
}

TEST_F(SessionTokenServiceTest, ConnectionIdsMustBeTheCallersOwn) {
  SessionTokenRequest own = Request();
  own.connection_ids = {kAliceConnection};
  SessionTokenRequest foreign = Request();
  foreign.connection_ids = {kBobConnection};
  SessionTokenRequest unknown = Request();
  unknown.connection_ids = {core::ConnectionId("01HCCCCCCCCCCCCCCCCCCCCCCC")};

  auto denied = service_.Create(Alice(), foreign);
  auto absent = service_.Create(Alice(), unknown);

  EXPECT_TRUE(service_.Create(Alice(), own).ok());
  ASSERT_FALSE(denied.ok());
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(denied.error().code, ErrorCode::kInvalidArgument);
  // Someone else's connection reads exactly like one that does not exist.
  EXPECT_EQ(denied.error().message,
            "connection_ids entry '" + kBobConnection.value() + "' is not one of your connections");
  EXPECT_EQ(absent.error().message,
            "connection_ids entry '01HCCCCCCCCCCCCCCCCCCCCCCC' is not one of your connections");
}

TEST_F(SessionTokenServiceTest, RepositoryUrlsMustBeServedHttpUrlsWithoutCredentials) {
  for (const char* url : {"ftp://gitlab.example.org/group/project.git", "not a url",
                          "https://user:pw@gitlab.example.org/group/project.git",
                          "https://gitlab.example.org/group/project.git?x=1",
                          "https://elsewhere.example.org/group/project.git"}) {
    SessionTokenRequest request = Request();
    request.repository_urls = {url};

    auto created = service_.Create(Alice(), request);

    ASSERT_FALSE(created.ok()) << url;
    EXPECT_EQ(created.error().code, ErrorCode::kInvalidArgument) << url;
  }
}

TEST_F(SessionTokenServiceTest, AnEmptyScopeIsRejectedAndDuplicatesAreDropped) {
  SessionTokenRequest empty = Request();
  empty.repository_urls.clear();
  SessionTokenRequest twice = Request();
  twice.repository_urls = {kRepo, kRepo};

  EXPECT_EQ(service_.Create(Alice(), empty).error().code, ErrorCode::kInvalidArgument);
  auto issued = service_.Create(Alice(), twice);
  ASSERT_TRUE(issued.ok());
  EXPECT_EQ(issued->record.repository_urls.size(), 1U);
}

TEST_F(SessionTokenServiceTest, SessionNamesAreTrimmedAndMayNotForgeLogLines) {
  SessionTokenRequest padded = Request();
  padded.session_name = "  jupyter  ";
  SessionTokenRequest forged = Request();
  forged.session_name = "a\ntoken handed out: user=admin";
  SessionTokenRequest blank = Request();
  blank.session_name = "   ";

  EXPECT_EQ(service_.Create(Alice(), padded)->record.session_name, "jupyter");
  EXPECT_EQ(service_.Create(Alice(), forged).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(service_.Create(Alice(), blank).error().code, ErrorCode::kInvalidArgument);
}

TEST_F(SessionTokenServiceTest, ListShowsOnlyTheCallersTokensWithTheirState) {
  auto active = service_.Create(Alice(), Request());
  SessionTokenRequest short_lived = Request();
  short_lived.ttl = core::Seconds(60);
  auto expiring = service_.Create(Alice(), short_lived);
  auto revoked = service_.Create(Alice(), Request());
  ASSERT_TRUE(active.ok() && expiring.ok() && revoked.ok());
  ASSERT_TRUE(service_.Revoke(Alice(), revoked->record.id).ok());
  clock_.Advance(core::Seconds(61));

  auto listed = service_.List(Alice());

  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 3U);
  EXPECT_EQ((*listed)[0].state, SessionTokenState::kActive);
  EXPECT_EQ((*listed)[1].state, SessionTokenState::kExpired);
  EXPECT_EQ((*listed)[2].state, SessionTokenState::kRevoked);
  EXPECT_TRUE(service_.List(core::Caller::User(core::UserId("bob")))->empty());
}

TEST_F(SessionTokenServiceTest, OnlyTheOwnerCanRevoke) {
  auto issued = service_.Create(Alice(), Request());
  ASSERT_TRUE(issued.ok());

  EXPECT_EQ(
      service_.Revoke(core::Caller::User(core::UserId("bob")), issued->record.id).error().code,
      ErrorCode::kNotFound);
  EXPECT_TRUE(service_.Revoke(Alice(), issued->record.id).ok());
  EXPECT_TRUE(service_.Revoke(Alice(), issued->record.id).ok()) << "revoking twice is fine";
}

TEST(SessionTokenId, AcceptsOnlyTheGeneratedShape) {
  EXPECT_TRUE(IsSessionTokenId("st_0123456789ab"));
  EXPECT_FALSE(IsSessionTokenId("st_0123456789AB"));
  EXPECT_FALSE(IsSessionTokenId("st_0123456789a"));
  EXPECT_FALSE(IsSessionTokenId("tok_0123456789a"));
}

// The authenticator side (identity::SessionTokenAuthenticator behind identity::Authenticator):
// minted tokens act as their owner within their scope until they expire or are revoked. The
// application has no injectable clock, so expiry is tested here with the FakeClock.
class SessionTokenAuthenticationTest : public SessionTokenServiceTest {
 protected:
  // These tests send no cookies.
  class NoBrowserSessions final : public identity::BrowserSessionVerifier {
   public:
    core::Result<core::Caller> VerifySession(std::string_view) override {
      return core::MakeError(core::ErrorCode::kUnauthenticated, "signed out");
    }
  };

  core::Caller Authenticate(const std::string& token) {
    return authenticator_.Authenticate("Bearer " + token).value();
  }

  testing::InMemoryApiTokenRepository api_tokens_;
  identity::ApiTokenAuthenticator local_{api_tokens_, clock_};
  identity::SessionTokenAuthenticator sessions_{tokens_, clock_};
  NoBrowserSessions browser_sessions_;
  identity::Authenticator authenticator_{nullptr, local_, sessions_, browser_sessions_};
};

TEST_F(SessionTokenAuthenticationTest, AMintedTokenActsAsItsOwnerWithinItsScope) {
  auto issued =
      service_.Create(core::Caller::User(core::UserId("alice"), /*admin=*/true), Request());
  ASSERT_TRUE(issued.ok());

  const core::Caller caller = Authenticate(issued->token.Reveal());

  EXPECT_EQ(caller.user_id, "alice");
  EXPECT_FALSE(caller.is_admin) << "a session never inherits admin rights";
  ASSERT_TRUE(caller.IsSessionToken());
  EXPECT_EQ(caller.session_scope->token_id, issued->record.id);
  EXPECT_EQ(caller.session_scope->session_name, "my-session");
  EXPECT_EQ(caller.session_scope->repository_urls, std::vector<std::string>{kRepo});
}

TEST_F(SessionTokenAuthenticationTest, AnExpiredTokenIsRejectedWithTheReason) {
  SessionTokenRequest request = Request();
  request.ttl = core::Seconds(60);
  auto issued = service_.Create(Alice(), request);
  ASSERT_TRUE(issued.ok());
  clock_.Advance(core::Seconds(59));
  EXPECT_TRUE(Authenticate(issued->token.Reveal()).IsAuthenticated());
  clock_.Advance(core::Seconds(1));

  const core::Caller caller = Authenticate(issued->token.Reveal());

  EXPECT_FALSE(caller.IsAuthenticated());
  EXPECT_FALSE(caller.IsSessionToken());
  EXPECT_EQ(caller.rejected_reason, "session token expired");
}

TEST_F(SessionTokenAuthenticationTest, ARevokedTokenIsRejectedWithTheReason) {
  auto issued = service_.Create(Alice(), Request());
  ASSERT_TRUE(issued.ok());
  ASSERT_TRUE(service_.Revoke(Alice(), issued->record.id).ok());

  const core::Caller caller = Authenticate(issued->token.Reveal());

  EXPECT_FALSE(caller.IsAuthenticated());
  EXPECT_EQ(caller.rejected_reason, "session token revoked");
}

TEST_F(SessionTokenAuthenticationTest, UnknownAndTamperedTokensAreRejected) {
  auto issued = service_.Create(Alice(), Request());
  ASSERT_TRUE(issued.ok());
  std::string tampered = issued->token.Reveal();
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';

  EXPECT_EQ(Authenticate(tampered).rejected_reason, "unknown session token");
  EXPECT_EQ(Authenticate("kbs_" + std::string(43, 'x')).rejected_reason, "unknown session token");
}

}  // namespace
}  // namespace keybridge::service
