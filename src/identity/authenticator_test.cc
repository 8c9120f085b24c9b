#include "identity/authenticator.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "support/fake_clock.h"
#include "support/in_memory_repositories.h"
#include "support/scripted_http_client.h"
#include "support/test_jwt_issuer.h"

namespace keybridge::identity {
namespace {

using keybridge::testing::FakeClock;
using keybridge::testing::JsonResponse;
using keybridge::testing::ScriptedHttpClient;
using keybridge::testing::TestJwtIssuer;

constexpr char kIssuer[] = "https://keycloak.test/realms/renku";
constexpr char kApiToken[] = "kb_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

// One stored API token (kApiToken, user "local-user"); can be made to fail like a database.
class OneTokenRepository final : public core::ApiTokenRepository {
 public:
  core::Status Insert(const core::ApiToken&) override { return core::OkStatus(); }
  core::Result<core::ApiToken> FindByHash(const std::string& token_hash) override {
    if (failure) {
      return *failure;
    }
    if (token_hash != HashApiToken(kApiToken)) {
      return core::MakeError(core::ErrorCode::kNotFound, "no such token");
    }
    core::ApiToken token;
    token.id = "t1";
    token.user_id = core::UserId("local-user");
    token.token_hash = token_hash;
    return token;
  }
  core::Result<std::vector<core::ApiToken>> List() override {
    return std::vector<core::ApiToken>{};
  }
  core::Result<bool> Revoke(const std::string&, core::TimePoint) override { return false; }

  std::optional<core::Error> failure;
};

// Accepts one cookie value as a browser session of "cookie-user".
class OneBrowserSession final : public BrowserSessionVerifier {
 public:
  core::Result<core::Caller> VerifySession(std::string_view cookie_value) override {
    if (cookie_value != "good-cookie") {
      return core::MakeError(core::ErrorCode::kUnauthenticated, "signed out");
    }
    core::Caller caller = core::Caller::User(core::UserId("cookie-user"));
    caller.browser_session = true;
    return caller;
  }
};

class AuthenticatorTest : public ::testing::Test {
 protected:
  AuthenticatorTest() {
    http_.Always("GET", issuer_.DiscoveryUrl(),
                 JsonResponse(200, issuer_.DiscoveryJson(issuer_.JwksUrl())));
    http_.Always("GET", issuer_.JwksUrl(), JsonResponse(200, issuer_.JwksJson()));
  }

  static JwtVerifier::Options Options() {
    JwtVerifier::Options options;
    options.issuer = kIssuer;
    options.audiences = {"renku"};
    return options;
  }

  std::string Jwt() const {
    return issuer_.Mint(issuer_.DefaultClaims("jwt-user", {"renku-admin"}, clock_.Now()));
  }

  FakeClock clock_;
  ScriptedHttpClient http_;
  TestJwtIssuer issuer_{kIssuer};
  JwtVerifier verifier_{Options(), http_, clock_};
  OneTokenRepository tokens_;
  ApiTokenAuthenticator local_{tokens_, clock_};
  keybridge::testing::InMemorySessionTokenRepository session_tokens_;
  SessionTokenAuthenticator sessions_{session_tokens_, clock_};
  OneBrowserSession browser_sessions_;
  Authenticator authenticator_{&verifier_, local_, sessions_, browser_sessions_};
};

TEST_F(AuthenticatorTest, NoHeaderIsAnonymousWithoutReason) {
  const core::Caller caller = authenticator_.Authenticate("").value();

  EXPECT_FALSE(caller.IsAuthenticated());
  EXPECT_TRUE(caller.rejected_reason.empty());
  EXPECT_TRUE(http_.Requests().empty());
}

TEST_F(AuthenticatorTest, ApiTokenGoesToTheApiTokenAuthenticator) {
  const core::Caller caller =
      authenticator_.Authenticate(std::string("Bearer ") + kApiToken).value();

  EXPECT_EQ(caller.user_id, "local-user");
  EXPECT_TRUE(http_.Requests().empty());
}

TEST_F(AuthenticatorTest, SchemeIsCaseInsensitive) {
  EXPECT_EQ(authenticator_.Authenticate(std::string("bearer ") + kApiToken).value().user_id,
            "local-user");
  EXPECT_EQ(authenticator_.Authenticate(std::string("BEARER  ") + kApiToken + " ").value().user_id,
            "local-user");
}

TEST_F(AuthenticatorTest, JwtGoesToVerifier) {
  const core::Caller caller = authenticator_.Authenticate("Bearer " + Jwt()).value();

  EXPECT_EQ(caller.user_id, "jwt-user");
  EXPECT_TRUE(caller.is_admin);
  EXPECT_EQ(caller.email, "jwt-user@example.org");
}

TEST_F(AuthenticatorTest, RejectedJwtIsAnonymousWithReason) {
  const std::string jwt = Jwt();
  clock_.Advance(std::chrono::hours(1));

  const core::Caller caller = authenticator_.Authenticate("Bearer " + jwt).value();

  EXPECT_FALSE(caller.IsAuthenticated());
  EXPECT_FALSE(caller.is_admin);
  EXPECT_EQ(caller.rejected_reason, "token expired");
}

TEST_F(AuthenticatorTest, RejectedApiTokenIsAnonymousWithReason) {
  const std::string unknown = "kb_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

  const core::Caller caller = authenticator_.Authenticate("Bearer " + unknown).value();

  EXPECT_FALSE(caller.IsAuthenticated());
  EXPECT_EQ(caller.rejected_reason, "unknown token");
  EXPECT_EQ(caller.rejected_reason.find(unknown), std::string::npos);
}

TEST_F(AuthenticatorTest, UnavailableIssuerIsAnonymousWithReason) {
  ScriptedHttpClient down;
  JwtVerifier verifier(Options(), down, clock_);
  Authenticator authenticator(&verifier, local_, sessions_, browser_sessions_);

  const core::Caller caller = authenticator.Authenticate("Bearer " + Jwt()).value();

  EXPECT_FALSE(caller.IsAuthenticated());
  EXPECT_EQ(caller.rejected_reason, "identity issuer unavailable");
}

TEST_F(AuthenticatorTest, JwtWithoutConfiguredIssuerIsRejected) {
  Authenticator local_only(nullptr, local_, sessions_, browser_sessions_);

  const core::Caller jwt_caller = local_only.Authenticate("Bearer " + Jwt()).value();
  const core::Caller local_caller =
      local_only.Authenticate(std::string("Bearer ") + kApiToken).value();

  EXPECT_FALSE(jwt_caller.IsAuthenticated());
  EXPECT_FALSE(jwt_caller.rejected_reason.empty());
  EXPECT_EQ(local_caller.user_id, "local-user");
  EXPECT_TRUE(http_.Requests().empty());
}

TEST_F(AuthenticatorTest, OtherSchemesAreRejected) {
  const core::Caller basic = authenticator_.Authenticate("Basic dXNlcjpwYXNz").value();
  const core::Caller bare = authenticator_.Authenticate(kApiToken).value();

  EXPECT_FALSE(basic.IsAuthenticated());
  EXPECT_EQ(basic.rejected_reason, "unsupported authorization scheme");
  EXPECT_FALSE(bare.IsAuthenticated());
  EXPECT_EQ(bare.rejected_reason, "unsupported authorization scheme");
}

TEST_F(AuthenticatorTest, EmptyBearerIsRejected) {
  EXPECT_EQ(authenticator_.Authenticate("Bearer").value().rejected_reason, "missing bearer token");
  EXPECT_EQ(authenticator_.Authenticate("bearer    ").value().rejected_reason,
            "missing bearer token");
  EXPECT_EQ(authenticator_.Authenticate("Bearer \t x").value().rejected_reason, "malformed token");
}

TEST_F(AuthenticatorTest, TokenStoreFailureIsRetryNotRejection) {
  // The database being away says nothing about the credential: 503 (retry), not 401.
  tokens_.failure = core::MakeError(core::ErrorCode::kUnavailable, "database down");

  const core::Result<core::Caller> caller =
      authenticator_.Authenticate(std::string("Bearer ") + kApiToken);

  ASSERT_FALSE(caller.ok());
  EXPECT_EQ(caller.error().code, core::ErrorCode::kUnavailable);
}

TEST_F(AuthenticatorTest, OnAMemoryOnlyThreadAStoreLookupWouldWait) {
  tokens_.failure = core::MakeError(core::ErrorCode::kWouldWait, "", "not in memory");

  const core::Result<core::Caller> caller =
      authenticator_.Authenticate(std::string("Bearer ") + kApiToken);

  ASSERT_FALSE(caller.ok());
  EXPECT_EQ(caller.error().code, core::ErrorCode::kWouldWait);
}

TEST_F(AuthenticatorTest, CookieCountsOnlyWithoutAnAuthorizationHeader) {
  const core::Caller by_cookie = authenticator_.Authenticate("", "good-cookie").value();
  const core::Caller bearer_wins =
      authenticator_.Authenticate(std::string("Bearer ") + kApiToken, "good-cookie").value();
  const core::Caller signed_out = authenticator_.Authenticate("", "old-cookie").value();

  EXPECT_EQ(by_cookie.user_id, "cookie-user");
  EXPECT_TRUE(by_cookie.browser_session);
  EXPECT_EQ(bearer_wins.user_id, "local-user");
  EXPECT_FALSE(bearer_wins.browser_session);
  EXPECT_FALSE(signed_out.IsAuthenticated());
  EXPECT_EQ(signed_out.rejected_reason, "signed out");
}

}  // namespace
}  // namespace keybridge::identity
