// Contract tests for SessionTokenRepository (core/repositories.h) on every backend of
// contract_fixture.h: every field round-trips, lookups by hash, per-user listing order, revocation
// that only the owner can do and that keeps the first time. On the SQL backends also: the scope is
// stored as JSON text, and a malformed stored scope is refused rather than read as "no
// restriction".
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <tuple>
#include <vector>

#include "contract/contract_fixture.h"
#include "core/repositories.h"
#include "core/session_token.h"

namespace keybridge::storage::contract_test {
namespace {

using core::ErrorCode;

core::SessionToken MakeSessionToken(const std::string& id, const std::string& user,
                                    std::int64_t created_at) {
  core::SessionToken token;
  token.id = id;
  token.user_id = core::UserId(user);
  token.session_name = "session of " + id;
  token.token_hash = "hash-" + id;
  token.connection_ids = {core::ConnectionId("01HAAAAAAAAAAAAAAAAAAAAAAA"),
                          core::ConnectionId("01HBBBBBBBBBBBBBBBBBBBBBBB")};
  token.repository_urls = {"https://gitlab.example.org/group/" + id + ".git"};
  token.created_at = core::FromUnixSeconds(created_at);
  token.expires_at = core::FromUnixSeconds(created_at) + std::chrono::hours(12);
  return token;
}

template <typename Base>
class SessionTokenSuite : public Base {
 protected:
  core::SessionTokenRepository& sessions() { return this->session_tokens(); }
};

template <typename Backend>
class SessionTokenContract : public SessionTokenSuite<Contract<Backend>> {};

template <typename Backend>
class SessionTokenStorageContract : public SessionTokenSuite<StoreContract<Backend>> {};

TYPED_TEST_SUITE(SessionTokenContract, AllBackends, BackendNames);
TYPED_TEST_SUITE(SessionTokenStorageContract, SqlBackends, BackendNames);

TYPED_TEST(SessionTokenContract, InsertedTokenIsFoundByHashWithEveryField) {
  core::SessionToken token = MakeSessionToken("st_000000000001", "alice", 1'700'000'000);
  token.session_name = "naïve 'quoted' \"session\" \\ ; DROP TABLE session_tokens; --";
  token.repository_urls.push_back("https://h.example/a b/\"c\".git");
  token.image_repositories = {"registry.example.org/group", "registry.example.org:5000"};
  token.revoked_at = core::FromUnixSeconds(1'700'000'500);
  ASSERT_TRUE(this->sessions().Insert(token).ok());

  auto found = this->sessions().FindByHash(token.token_hash);

  ASSERT_TRUE(found.ok()) << found.error().message << " / " << found.error().detail;
  EXPECT_EQ(found->id, token.id);
  EXPECT_EQ(found->user_id, "alice");
  EXPECT_EQ(found->session_name, token.session_name);
  EXPECT_EQ(found->token_hash, token.token_hash);
  EXPECT_EQ(found->connection_ids, token.connection_ids);
  EXPECT_EQ(found->repository_urls, token.repository_urls);
  EXPECT_EQ(found->image_repositories, token.image_repositories);
  EXPECT_EQ(found->created_at, token.created_at);
  EXPECT_EQ(found->expires_at, token.expires_at);
  EXPECT_EQ(found->revoked_at, token.revoked_at);
}

TYPED_TEST(SessionTokenContract, EmptyScopeListsRoundTrip) {
  core::SessionToken token = MakeSessionToken("st_000000000001", "alice", 1'700'000'000);
  token.connection_ids.clear();
  ASSERT_TRUE(this->sessions().Insert(token).ok());

  auto found = this->sessions().FindByHash(token.token_hash);

  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->connection_ids.empty());
  EXPECT_FALSE(found->revoked_at.has_value());
}

TYPED_TEST(SessionTokenStorageContract, ScopesAreStoredAsJson) {
  core::SessionToken token = MakeSessionToken("st_000000000001", "alice", 1'700'000'000);
  token.connection_ids.clear();
  ASSERT_TRUE(this->sessions().Insert(token).ok());

  EXPECT_EQ(this->RawColumn("session_tokens", "connection_ids", "id", token.id), "[]");
  EXPECT_EQ(this->RawColumn("session_tokens", "repository_urls", "id", token.id),
            R"(["https://gitlab.example.org/group/st_000000000001.git"])");
}

TYPED_TEST(SessionTokenContract, UnknownHashIsNotFound) {
  ASSERT_TRUE(
      this->sessions().Insert(MakeSessionToken("st_000000000001", "alice", 1'700'000'000)).ok());

  auto found = this->sessions().FindByHash("hash-st_00000000000");

  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code, ErrorCode::kNotFound);
}

TYPED_TEST(SessionTokenContract, DuplicateIdOrHashIsConflict) {
  ASSERT_TRUE(
      this->sessions().Insert(MakeSessionToken("st_000000000001", "alice", 1'700'000'000)).ok());
  core::SessionToken same_id = MakeSessionToken("st_000000000001", "bob", 1'700'000'000);
  same_id.token_hash = "another-hash";
  core::SessionToken same_hash = MakeSessionToken("st_000000000002", "bob", 1'700'000'000);
  same_hash.token_hash = "hash-st_000000000001";

  core::Status by_id = this->sessions().Insert(same_id);
  core::Status by_hash = this->sessions().Insert(same_hash);

  ASSERT_FALSE(by_id.ok());
  EXPECT_EQ(by_id.error().code, ErrorCode::kConflict);
  ASSERT_FALSE(by_hash.ok());
  EXPECT_EQ(by_hash.error().code, ErrorCode::kConflict);
  EXPECT_EQ(by_hash.error().message.find("hash-st_"), std::string::npos)
      << "errors never echo the hash";
}

TYPED_TEST(SessionTokenContract, ListForUserHasOnlyThatUsersTokensByCreationTimeThenId) {
  for (const auto& [id, user, at] : std::vector<std::tuple<std::string, std::string, std::int64_t>>{
           {"st_00000000000c", "alice", 1'700'000'000},
           {"st_00000000000a", "alice", 1'700'000'100},
           {"st_00000000000b", "alice", 1'700'000'000},
           {"st_00000000000d", "bob", 1'600'000'000}}) {
    ASSERT_TRUE(this->sessions().Insert(MakeSessionToken(id, user, at)).ok());
  }

  auto alice = this->sessions().ListForUser(core::UserId("alice"));
  auto nobody = this->sessions().ListForUser(core::UserId("carol"));

  ASSERT_TRUE(alice.ok());
  std::vector<std::string> ids;
  for (const core::SessionToken& token : *alice) {
    ids.push_back(token.id);
  }
  EXPECT_EQ(ids,
            (std::vector<std::string>{"st_00000000000b", "st_00000000000c", "st_00000000000a"}));
  ASSERT_TRUE(nobody.ok());
  EXPECT_TRUE(nobody->empty());
}

TYPED_TEST(SessionTokenContract, OnlyTheOwnerRevokesAndTheFirstTimeIsKept) {
  core::SessionToken token = MakeSessionToken("st_000000000001", "alice", 1'700'000'000);
  ASSERT_TRUE(this->sessions().Insert(token).ok());

  auto by_bob =
      this->sessions().Revoke(token.id, core::UserId("bob"), core::FromUnixSeconds(1'700'000'100));
  auto first = this->sessions().Revoke(token.id, core::UserId("alice"),
                                       core::FromUnixSeconds(1'700'000'200));
  auto second = this->sessions().Revoke(token.id, core::UserId("alice"),
                                        core::FromUnixSeconds(1'700'000'300));
  auto unknown = this->sessions().Revoke("st_000000000009", core::UserId("alice"),
                                         core::FromUnixSeconds(1'700'000'300));

  ASSERT_TRUE(by_bob.ok() && first.ok() && second.ok() && unknown.ok());
  EXPECT_FALSE(*by_bob);
  EXPECT_TRUE(*first);
  EXPECT_TRUE(*second);
  EXPECT_FALSE(*unknown);
  auto found = this->sessions().FindByHash(token.token_hash);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->revoked_at, core::FromUnixSeconds(1'700'000'200));
}

TYPED_TEST(SessionTokenStorageContract, AMalformedStoredScopeIsRefusedNotWidened) {
  core::SessionToken token = MakeSessionToken("st_000000000001", "alice", 1'700'000'000);
  ASSERT_TRUE(this->sessions().Insert(token).ok());
  ASSERT_TRUE(this->db()
                  .Execute("UPDATE session_tokens SET repository_urls = $1 WHERE id = $2",
                           {std::string("not json"), token.id})
                  .ok());

  auto found = this->sessions().FindByHash(token.token_hash);
  auto listed = this->sessions().ListForUser(core::UserId("alice"));

  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code, ErrorCode::kInternal);
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.error().code, ErrorCode::kInternal);
}

}  // namespace
}  // namespace keybridge::storage::contract_test
