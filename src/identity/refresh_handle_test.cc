#include "identity/refresh_handle.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "crypto/system_random.h"
#include "support/fake_clock.h"
#include "support/in_memory_repositories.h"

namespace keybridge::identity {
namespace {

using keybridge::testing::FakeClock;
using std::chrono::seconds;

const core::ConnectionId kConnection("01HZZZZZZZZZZZZZZZZZZZZZZZ");
const core::ConnectionId kOtherConnection("01HYYYYYYYYYYYYYYYYYYYYYYY");
constexpr std::string_view kSessionToken = "kbs_session-token-for-tests";

class RefreshHandlesTest : public ::testing::Test {
 protected:
  RefreshHandlesTest() {
    core::SessionToken token;
    token.id = "st_000000000001";
    token.user_id = core::UserId("alice");
    token.session_name = "jupyter";
    token.token_hash = HashBearerToken(kSessionToken);
    token.connection_ids = {kConnection};
    token.created_at = clock_.Now();
    token.expires_at = clock_.Now() + seconds(3 * 24 * 3600);
    EXPECT_TRUE(session_rows_.Insert(token).ok());
  }

  core::Caller SessionCaller() { return sessions_.Authenticate(kSessionToken).value(); }

  FakeClock clock_;
  crypto::SystemRandom random_;
  std::unique_ptr<crypto::KeyRing> keys_ =
      crypto::KeyRing::FromKeys({{"0123abcd", std::string(32, 'k')}}, random_);
  testing::InMemorySessionTokenRepository session_rows_;
  SessionTokenAuthenticator sessions_{session_rows_, clock_};
  RefreshHandles handles_{*keys_, sessions_, clock_};
};

TEST_F(RefreshHandlesTest, AUserHandleActsForTheUserOnItsConnectionForADay) {
  const RefreshHandle handle =
      handles_.Issue(core::Caller::User(core::UserId("alice"), true), kConnection).value();
  EXPECT_TRUE(handle.value.Reveal().starts_with("kbr_"));
  EXPECT_EQ(handle.expires_at,
            std::chrono::floor<seconds>(clock_.Now()) + RefreshHandles::kUserHandleLifetime);

  const RefreshHandleHolder holder =
      handles_.Authenticate(handle.value.Reveal(), kConnection).value();

  EXPECT_EQ(holder.caller.user_id, core::UserId("alice"));
  EXPECT_FALSE(holder.caller.is_admin);  // a handle never carries administrator rights
  EXPECT_FALSE(holder.caller.IsSessionToken());
  EXPECT_EQ(holder.expires_at, handle.expires_at);

  clock_.Advance(RefreshHandles::kUserHandleLifetime);
  const auto expired = handles_.Authenticate(handle.value.Reveal(), kConnection);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code, core::ErrorCode::kUnauthenticated);
  EXPECT_NE(expired.error().message.find("expired"), std::string::npos);
}

TEST_F(RefreshHandlesTest, ASessionHandleKeepsTheSessionScopeAndEndsWithTheSessionToken) {
  const RefreshHandle handle = handles_.Issue(SessionCaller(), kConnection).value();
  EXPECT_EQ(handle.expires_at, std::chrono::floor<seconds>(clock_.Now() + seconds(3 * 24 * 3600)));

  const RefreshHandleHolder holder =
      handles_.Authenticate(handle.value.Reveal(), kConnection).value();
  ASSERT_TRUE(holder.caller.IsSessionToken());
  EXPECT_EQ(holder.caller.session_scope->token_id, "st_000000000001");
  EXPECT_EQ(holder.caller.session_scope->connection_ids, std::vector{kConnection});

  ASSERT_TRUE(session_rows_.Revoke("st_000000000001", core::UserId("alice"), clock_.Now()).value());
  const auto revoked = handles_.Authenticate(handle.value.Reveal(), kConnection);
  ASSERT_FALSE(revoked.ok());
  EXPECT_EQ(revoked.error().code, core::ErrorCode::kUnauthenticated);
  EXPECT_NE(revoked.error().message.find("session has ended"), std::string::npos);
}

TEST_F(RefreshHandlesTest, RefusesAnotherConnectionTamperingAnonymousCallersAndForeignValues) {
  const std::string handle =
      handles_.Issue(core::Caller::User(core::UserId("alice")), kConnection).value().value.Reveal();

  auto refused = [this](std::string_view presented, const core::ConnectionId& connection) {
    const auto result = handles_.Authenticate(presented, connection);
    EXPECT_FALSE(result.ok()) << presented;
    if (result.ok()) {
      return std::string();
    }
    EXPECT_EQ(result.error().code, core::ErrorCode::kUnauthenticated);
    // The reason never repeats the presented value.
    EXPECT_EQ(result.error().message.find(presented), std::string::npos);
    return result.error().message;
  };
  EXPECT_NE(refused(handle, kOtherConnection).find("another connection"), std::string::npos);
  std::string tampered = handle;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  refused(tampered, kConnection);
  refused("kbr_", kConnection);
  refused(handle.substr(4), kConnection);         // without the prefix
  refused("kbr_kb1.fedcba98.AAAA", kConnection);  // a key this ring never had
  refused(std::string(4096, 'k'), kConnection);
  // A value sealed by the same ring for another purpose (a database column) is no handle.
  refused("kbr_" + keys_->Seal(R"({"u":"alice","c":"x","e":9999999999})", "connections/x").value(),
          kConnection);

  const auto anonymous = handles_.Issue(core::Caller::Anonymous(), kConnection);
  ASSERT_FALSE(anonymous.ok());
  EXPECT_EQ(anonymous.error().code, core::ErrorCode::kUnauthenticated);
}

}  // namespace
}  // namespace keybridge::identity
