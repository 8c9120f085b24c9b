// Contract tests for BrowserSessionRepository (core/repositories.h) on every backend of
// contract_fixture.h (in-memory, SQLite, PostgreSQL):
// sessions round-trip and are found by hash only, touch and delete, expiry sweeps, the "is there
// an administrator" question, and single use of sign-in links and login flows.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "contract/contract_fixture.h"
#include "core/browser_session.h"
#include "core/repositories.h"

namespace keybridge::storage::contract_test {
namespace {

using core::ErrorCode;

constexpr std::int64_t kDay = 86400;  // seconds

core::BrowserSession MakeSession(const std::string& hash, bool admin, std::int64_t created_at) {
  core::BrowserSession session;
  session.id_hash = hash;
  session.user_id = core::UserId("user-" + hash);
  session.name = "Ada 'quoted' \"name\"; DROP TABLE browser_sessions; --";
  session.is_admin = admin;
  session.created_at = core::FromUnixSeconds(created_at);
  session.last_seen_at = core::FromUnixSeconds(created_at + 5);
  session.expires_at = core::FromUnixSeconds(created_at + 7 * kDay);
  return session;
}

template <typename Backend>
class BrowserSessionContract : public Contract<Backend> {
 protected:
  core::BrowserSessionRepository& sessions() { return this->browser_sessions(); }
};

TYPED_TEST_SUITE(BrowserSessionContract, AllBackends, BackendNames);

TYPED_TEST(BrowserSessionContract, InsertedSessionIsFoundByHashWithEveryField) {
  const core::BrowserSession session = MakeSession("h1", true, 1'700'000'000);
  ASSERT_TRUE(this->sessions().Insert(session).ok());

  auto found = this->sessions().FindByHash("h1");

  ASSERT_TRUE(found.ok()) << found.error().message << " / " << found.error().detail;
  EXPECT_EQ(found->id_hash, "h1");
  EXPECT_EQ(found->user_id, session.user_id);
  EXPECT_EQ(found->name, session.name);
  EXPECT_TRUE(found->is_admin);
  EXPECT_EQ(found->created_at, session.created_at);
  EXPECT_EQ(found->last_seen_at, session.last_seen_at);
  EXPECT_EQ(found->expires_at, session.expires_at);
  EXPECT_EQ(found->source_token_hash, "");
  EXPECT_FALSE(found->identity_recheck_at.has_value());
  EXPECT_EQ(this->sessions().FindByHash("h2").error().code, ErrorCode::kNotFound);
}

TYPED_TEST(BrowserSessionContract, WhatTheSessionRestsOnIsStored) {
  core::BrowserSession from_token = MakeSession("h1", true, 1'700'000'000);
  from_token.source_token_hash = std::string(64, 'a');
  core::BrowserSession from_oidc = MakeSession("h2", false, 1'700'000'000);
  from_oidc.identity_recheck_at = core::FromUnixSeconds(1'700'003'600);
  ASSERT_TRUE(this->sessions().Insert(from_token).ok());
  ASSERT_TRUE(this->sessions().Insert(from_oidc).ok());

  auto token_session = this->sessions().FindByHash("h1");
  auto oidc_session = this->sessions().FindByHash("h2");

  ASSERT_TRUE(token_session.ok() && oidc_session.ok());
  EXPECT_EQ(token_session->source_token_hash, std::string(64, 'a'));
  EXPECT_FALSE(token_session->identity_recheck_at.has_value());
  EXPECT_EQ(oidc_session->source_token_hash, "");
  EXPECT_EQ(oidc_session->identity_recheck_at, core::FromUnixSeconds(1'700'003'600));
}

TYPED_TEST(BrowserSessionContract, DuplicateHashIsAConflict) {
  ASSERT_TRUE(this->sessions().Insert(MakeSession("h1", false, 1'700'000'000)).ok());
  EXPECT_EQ(this->sessions().Insert(MakeSession("h1", true, 1'700'000'001)).error().code,
            ErrorCode::kConflict);
}

TYPED_TEST(BrowserSessionContract, TouchMovesLastSeenAndDeleteRemovesOnlyThatSession) {
  ASSERT_TRUE(this->sessions().Insert(MakeSession("h1", false, 1'700'000'000)).ok());
  ASSERT_TRUE(this->sessions().Insert(MakeSession("h2", false, 1'700'000'000)).ok());

  ASSERT_TRUE(this->sessions().Touch("h1", core::FromUnixSeconds(1'700'000'900)).ok());
  EXPECT_TRUE(this->sessions().Touch("absent", core::FromUnixSeconds(1'700'000'900)).ok());
  EXPECT_EQ(this->sessions().FindByHash("h1")->last_seen_at, core::FromUnixSeconds(1'700'000'900));

  EXPECT_TRUE(this->sessions().Delete("h1").value());
  EXPECT_FALSE(this->sessions().Delete("h1").value());
  EXPECT_EQ(this->sessions().FindByHash("h1").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(this->sessions().FindByHash("h2").ok());
}

TYPED_TEST(BrowserSessionContract, DeleteForUserSignsOutEveryBrowserOfThatUserOnly) {
  core::BrowserSession first = MakeSession("h1", false, 1'700'000'000);
  core::BrowserSession second = MakeSession("h2", false, 1'700'000'100);
  second.user_id = first.user_id;
  ASSERT_TRUE(this->sessions().Insert(first).ok());
  ASSERT_TRUE(this->sessions().Insert(second).ok());
  ASSERT_TRUE(this->sessions().Insert(MakeSession("h3", false, 1'700'000'000)).ok());

  auto deleted = this->sessions().DeleteForUser(first.user_id);

  ASSERT_TRUE(deleted.ok()) << deleted.error().detail;
  EXPECT_EQ(*deleted, 2);
  EXPECT_EQ(this->sessions().FindByHash("h1").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(this->sessions().FindByHash("h2").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(this->sessions().FindByHash("h3").ok());
  EXPECT_EQ(this->sessions().DeleteForUser(core::UserId("nobody")).value(), 0);
}

TYPED_TEST(BrowserSessionContract, AnAdministratorsSignInIsRememberedAfterTheSessionIsGone) {
  const std::int64_t t0 = 1'700'000'000;
  EXPECT_FALSE(this->sessions().AdminEverSignedIn().value());
  ASSERT_TRUE(this->sessions().Insert(MakeSession("user", false, t0)).ok());
  EXPECT_FALSE(this->sessions().AdminEverSignedIn().value());
  ASSERT_TRUE(this->sessions().Insert(MakeSession("admin", true, t0)).ok());
  EXPECT_TRUE(this->sessions().AdminEverSignedIn().value());
  ASSERT_TRUE(this->sessions().Insert(MakeSession("admin-again", true, t0 + 1)).ok());

  ASSERT_TRUE(this->sessions().DeleteExpired(core::FromUnixSeconds(t0 + 8 * kDay)).ok());
  ASSERT_EQ(this->sessions().FindByHash("admin").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(this->sessions().AdminEverSignedIn().value());
}

TYPED_TEST(BrowserSessionContract, PendingLoginFlowsAreBoundedOldestFirst) {
  // Anonymous callers start sign-ins; no number of them grows storage past the bound.
  for (int i = 0; i < 10; ++i) {
    core::BrowserLoginFlow flow;
    flow.state_hash = "state-" + std::to_string(i);
    flow.browser_binding_hash = "b";
    flow.next_path = "/";
    flow.expires_at = core::FromUnixSeconds(1'700'000'000 + i / 2);  // pairs share a second
    ASSERT_TRUE(this->sessions().InsertLoginFlow(flow, 4).ok());
  }

  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(this->sessions().TakeLoginFlow("state-" + std::to_string(i)).error().code,
              ErrorCode::kNotFound)
        << i;
  }
  for (int i = 6; i < 10; ++i) {
    EXPECT_TRUE(this->sessions().TakeLoginFlow("state-" + std::to_string(i)).ok()) << i;
  }
}

TYPED_TEST(BrowserSessionContract, SignInLinkIsSingleUse) {
  const auto created = core::FromUnixSeconds(1'700'000'000);
  const auto expires = core::FromUnixSeconds(1'700'003'600);
  ASSERT_TRUE(this->sessions().InsertSignInLink("link", created, expires).ok());
  EXPECT_EQ(this->sessions().InsertSignInLink("link", created, expires).error().code,
            ErrorCode::kConflict);

  auto first = this->sessions().TakeSignInLink("link");
  auto second = this->sessions().TakeSignInLink("link");

  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, expires);
  EXPECT_EQ(second.error().code, ErrorCode::kNotFound);
}

TYPED_TEST(BrowserSessionContract, LoginFlowIsSingleUseWithEveryField) {
  core::BrowserLoginFlow flow;
  flow.state_hash = "state";
  flow.browser_binding_hash = "binding";
  flow.next_path = "/#/admin";
  flow.expires_at = core::FromUnixSeconds(1'700'000'600);
  ASSERT_TRUE(this->sessions().InsertLoginFlow(flow, 100).ok());

  auto taken = this->sessions().TakeLoginFlow("state");

  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_EQ(taken->browser_binding_hash, "binding");
  EXPECT_EQ(taken->next_path, "/#/admin");
  EXPECT_EQ(taken->expires_at, flow.expires_at);
  EXPECT_EQ(this->sessions().TakeLoginFlow("state").error().code, ErrorCode::kNotFound);
}

TYPED_TEST(BrowserSessionContract, DeleteExpiredSweepsAllThreeTables) {
  const std::int64_t t0 = 1'700'000'000;
  ASSERT_TRUE(this->sessions().Insert(MakeSession("old", false, t0 - 8 * kDay)).ok());
  ASSERT_TRUE(this->sessions().Insert(MakeSession("new", false, t0)).ok());
  ASSERT_TRUE(this->sessions()
                  .InsertSignInLink("old-link", core::FromUnixSeconds(t0 - 7200),
                                    core::FromUnixSeconds(t0 - 3600))
                  .ok());
  core::BrowserLoginFlow flow;
  flow.state_hash = "old-state";
  flow.browser_binding_hash = "b";
  flow.next_path = "/";
  flow.expires_at = core::FromUnixSeconds(t0 - 1);
  ASSERT_TRUE(this->sessions().InsertLoginFlow(flow, 100).ok());

  auto deleted = this->sessions().DeleteExpired(core::FromUnixSeconds(t0));

  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 3);
  EXPECT_EQ(this->sessions().FindByHash("old").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(this->sessions().FindByHash("new").ok());
}

}  // namespace
}  // namespace keybridge::storage::contract_test
