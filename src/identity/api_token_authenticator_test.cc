#include "identity/api_token_authenticator.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <vector>

#include "crypto/hash.h"
#include "support/fake_clock.h"

namespace keybridge::identity {
namespace {

using keybridge::testing::FakeClock;
using std::chrono::seconds;

// Just enough ApiTokenRepository: a map keyed by hash that records what it was asked for.
class InMemoryApiTokens final : public core::ApiTokenRepository {
 public:
  core::Status Insert(const core::ApiToken& token) override {
    std::lock_guard lock(mu_);
    by_hash_[token.token_hash] = token;
    return core::OkStatus();
  }
  core::Result<core::ApiToken> FindByHash(const std::string& token_hash) override {
    std::lock_guard lock(mu_);
    lookups_.push_back(token_hash);
    if (failure_) {
      return *failure_;
    }
    const auto it = by_hash_.find(token_hash);
    if (it == by_hash_.end()) {
      return core::MakeError(core::ErrorCode::kNotFound, "no such token");
    }
    return it->second;
  }
  core::Result<std::vector<core::ApiToken>> List() override {
    std::lock_guard lock(mu_);
    std::vector<core::ApiToken> all;
    for (const auto& [hash, token] : by_hash_) {
      all.push_back(token);
    }
    return all;
  }
  core::Result<bool> Revoke(const std::string& id, core::TimePoint now) override {
    std::lock_guard lock(mu_);
    for (auto& [hash, token] : by_hash_) {
      if (token.id == id) {
        token.revoked_at = token.revoked_at.value_or(now);
        return true;
      }
    }
    return false;
  }

  void FailWith(core::Error error) { failure_ = std::move(error); }
  std::vector<std::string> lookups() const {
    std::lock_guard lock(mu_);
    return lookups_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, core::ApiToken> by_hash_;
  std::vector<std::string> lookups_;
  std::optional<core::Error> failure_;
};

// Returns the same byte for every position: deterministic tokens.
class FixedRandom final : public core::Random {
 public:
  explicit FixedRandom(char byte) : byte_(byte) {}
  std::string Bytes(std::size_t count) override { return std::string(count, byte_); }

 private:
  char byte_;
};

class ApiTokenAuthenticatorTest : public ::testing::Test {
 protected:
  // Stores a token for user-1 and returns its plaintext.
  std::string Issue(char seed, bool is_admin = false) {
    FixedRandom random(seed);
    std::string token = GenerateApiToken(random).Reveal();
    core::ApiToken stored;
    stored.id = std::string("id-") + seed;
    stored.user_id = core::UserId("user-1");
    stored.is_admin = is_admin;
    stored.token_hash = HashApiToken(token);
    stored.created_at = clock_.Now();
    EXPECT_TRUE(tokens_.Insert(stored).ok());
    return token;
  }

  FakeClock clock_;
  InMemoryApiTokens tokens_;
  ApiTokenAuthenticator authenticator_{tokens_, clock_};
};

TEST(GenerateApiToken, IsPrefixedBase64UrlOf32Bytes) {
  FixedRandom zeros('\0');

  const core::Secret token = GenerateApiToken(zeros);

  EXPECT_EQ(token.Reveal(), "kb_" + std::string(43, 'A'));
}

TEST(GenerateApiToken, UsesInjectedRandomness) {
  FixedRandom ones('\xff');

  const core::Secret token = GenerateApiToken(ones);

  EXPECT_EQ(token.Reveal(), "kb_" + std::string(42, '_') + "8");
}

TEST(HashApiToken, IsHexSha256OfWholeToken) {
  EXPECT_EQ(HashApiToken("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_NE(HashApiToken("kb_abc"), HashApiToken("abc"));
}

TEST_F(ApiTokenAuthenticatorTest, AcceptsValidToken) {
  const std::string token = Issue('a', /*is_admin=*/true);

  const auto caller = authenticator_.Authenticate(token);

  ASSERT_TRUE(caller.ok()) << caller.error().message;
  EXPECT_EQ(caller->user_id, "user-1");
  EXPECT_TRUE(caller->is_admin);
}

TEST_F(ApiTokenAuthenticatorTest, LooksUpByHashOnly) {
  const std::string token = Issue('a');

  ASSERT_TRUE(authenticator_.Authenticate(token).ok());

  ASSERT_EQ(tokens_.lookups().size(), 1U);
  EXPECT_EQ(tokens_.lookups()[0], crypto::Sha256Hex(token));
}

TEST_F(ApiTokenAuthenticatorTest, RejectsUnknownToken) {
  Issue('a');
  FixedRandom other('b');

  const auto caller = authenticator_.Authenticate(GenerateApiToken(other).Reveal());

  ASSERT_FALSE(caller.ok());
  EXPECT_EQ(caller.error().code, core::ErrorCode::kUnauthenticated);
  EXPECT_EQ(caller.error().message, "unknown token");
}

TEST_F(ApiTokenAuthenticatorTest, RejectsRevokedToken) {
  const std::string token = Issue('a');
  ASSERT_TRUE(tokens_.Revoke("id-a", clock_.Now()).ok());

  const auto caller = authenticator_.Authenticate(token);

  ASSERT_FALSE(caller.ok());
  EXPECT_EQ(caller.error().code, core::ErrorCode::kUnauthenticated);
  EXPECT_EQ(caller.error().message, "token revoked");
}

TEST_F(ApiTokenAuthenticatorTest, RejectsExpiredToken) {
  const std::string token = Issue('a');
  core::ApiToken stored = *tokens_.FindByHash(HashApiToken(token));
  stored.expires_at = clock_.Now() + seconds(10);
  ASSERT_TRUE(tokens_.Insert(stored).ok());

  const auto before = authenticator_.Authenticate(token);
  clock_.Advance(seconds(10));
  const auto at_expiry = authenticator_.Authenticate(token);

  EXPECT_TRUE(before.ok());
  ASSERT_FALSE(at_expiry.ok());
  EXPECT_EQ(at_expiry.error().code, core::ErrorCode::kUnauthenticated);
  EXPECT_EQ(at_expiry.error().message, "token expired");
}

TEST_F(ApiTokenAuthenticatorTest, RejectsTokensWithoutPrefixWithoutLookup) {
  const auto caller = authenticator_.Authenticate("eyJhbGciOiJSUzI1NiJ9.e30.c2ln");

  ASSERT_FALSE(caller.ok());
  EXPECT_EQ(caller.error().code, core::ErrorCode::kUnauthenticated);
  EXPECT_TRUE(tokens_.lookups().empty());
}

TEST_F(ApiTokenAuthenticatorTest, PropagatesRepositoryFailure) {
  const std::string token = Issue('a');
  tokens_.FailWith(core::MakeError(core::ErrorCode::kUnavailable, "database unavailable"));

  const auto caller = authenticator_.Authenticate(token);

  ASSERT_FALSE(caller.ok());
  EXPECT_EQ(caller.error().code, core::ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace keybridge::identity
