// Contract tests for AuditRepository (core/audit.h) on every backend of contract_fixture.h
// (in-memory, SQLite, PostgreSQL): events round-trip with every field, list newest first, filter
// by user, integration, kind and time, page with a total, and retention deletes by time.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "contract/contract_fixture.h"
#include "core/audit.h"

namespace keybridge::storage::contract_test {
namespace {

constexpr std::int64_t kT0 = 1'700'000'000;

core::AuditEvent MakeEvent(std::int64_t at, core::AuditKind kind, const std::string& user,
                           const std::string& provider) {
  core::AuditEvent event;
  event.time = core::FromUnixSeconds(at);
  event.kind = kind;
  event.actor = core::UserId(user);
  event.caller_kind = "session-token";
  event.session_token_id = "st-" + user;
  event.consumer = "git-credential";
  event.connection_id = "conn-" + user + "-" + provider;
  event.provider_id = provider;
  event.target = "https://" + provider + "/group/project";
  event.token_fingerprint = "0123456789ab";
  event.changes = R"({"display_name":{"before":"a","after":"b"}})";
  return event;
}

template <typename Backend>
class AuditContract : public Contract<Backend> {};

TYPED_TEST_SUITE(AuditContract, AllBackends, BackendNames);

TYPED_TEST(AuditContract, AppendedEventIsListedWithEveryField) {
  const core::AuditEvent event = MakeEvent(kT0, core::AuditKind::kTokenHandout, "u1", "gitlab");
  ASSERT_TRUE(this->audit().Append({event}).ok());
  auto page = this->audit().List({});
  ASSERT_TRUE(page.ok()) << page.error().detail;
  ASSERT_EQ(page->total, 1);
  ASSERT_EQ(page->events.size(), 1u);
  const core::AuditEvent& got = page->events.front();
  EXPECT_GT(got.id, 0);
  EXPECT_EQ(core::ToUnixSeconds(got.time), kT0);
  EXPECT_EQ(got.kind, core::AuditKind::kTokenHandout);
  EXPECT_EQ(got.actor.value(), "u1");
  EXPECT_EQ(got.caller_kind, "session-token");
  EXPECT_EQ(got.session_token_id, "st-u1");
  EXPECT_EQ(got.consumer, "git-credential");
  EXPECT_EQ(got.connection_id, "conn-u1-gitlab");
  EXPECT_EQ(got.provider_id, "gitlab");
  EXPECT_EQ(got.target, "https://gitlab/group/project");
  EXPECT_EQ(got.token_fingerprint, "0123456789ab");
  EXPECT_EQ(got.changes, event.changes);
}

TYPED_TEST(AuditContract, ListsNewestFirstAndPages) {
  // Two events in the same second keep their order of appending (newest = appended last).
  ASSERT_TRUE(this->audit()
                  .Append({MakeEvent(kT0, core::AuditKind::kConnected, "u1", "a"),
                           MakeEvent(kT0 + 10, core::AuditKind::kTokenHandout, "u1", "b"),
                           MakeEvent(kT0 + 10, core::AuditKind::kDisconnected, "u1", "c")})
                  .ok());
  core::AuditQuery query;
  query.limit = 2;
  auto first = this->audit().List(query);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->total, 3);
  ASSERT_EQ(first->events.size(), 2u);
  EXPECT_EQ(first->events[0].provider_id, "c");
  EXPECT_EQ(first->events[1].provider_id, "b");
  query.offset = 2;
  auto second = this->audit().List(query);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->events.size(), 1u);
  EXPECT_EQ(second->events[0].provider_id, "a");
}

TYPED_TEST(AuditContract, FiltersByUserProviderKindAndTime) {
  ASSERT_TRUE(this->audit()
                  .Append({MakeEvent(kT0, core::AuditKind::kTokenHandout, "u1", "a"),
                           MakeEvent(kT0 + 100, core::AuditKind::kConnected, "u1", "b"),
                           MakeEvent(kT0 + 200, core::AuditKind::kTokenHandout, "u2", "a"),
                           MakeEvent(kT0 + 300, core::AuditKind::kSignedIn, "u2", "")})
                  .ok());
  auto count = [&](const core::AuditQuery& query) {
    auto page = this->audit().List(query);
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->total : -1;
  };
  core::AuditQuery by_user;
  by_user.user = core::UserId("u2");
  EXPECT_EQ(count(by_user), 2);
  core::AuditQuery by_provider;
  by_provider.provider = core::ProviderId("a");
  EXPECT_EQ(count(by_provider), 2);
  core::AuditQuery by_kind;
  by_kind.kind = core::AuditKind::kTokenHandout;
  EXPECT_EQ(count(by_kind), 2);
  core::AuditQuery by_time;
  by_time.since = core::FromUnixSeconds(kT0 + 100);
  by_time.until = core::FromUnixSeconds(kT0 + 200);
  EXPECT_EQ(count(by_time), 2);
  core::AuditQuery combined = by_user;
  combined.kind = core::AuditKind::kTokenHandout;
  auto page = this->audit().List(combined);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 1u);
  EXPECT_EQ(core::ToUnixSeconds(page->events[0].time), kT0 + 200);
}

TYPED_TEST(AuditContract, DeleteBeforeRemovesOnlyOlderEvents) {
  ASSERT_TRUE(this->audit()
                  .Append({MakeEvent(kT0, core::AuditKind::kTokenHandout, "u1", "a"),
                           MakeEvent(kT0 + 100, core::AuditKind::kTokenHandout, "u1", "a")})
                  .ok());
  auto deleted = this->audit().DeleteBefore(core::FromUnixSeconds(kT0 + 100));
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1);
  auto page = this->audit().List({});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 1u);
  EXPECT_EQ(core::ToUnixSeconds(page->events[0].time), kT0 + 100);
}

}  // namespace
}  // namespace keybridge::storage::contract_test
