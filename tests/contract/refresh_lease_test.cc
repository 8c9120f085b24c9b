// The refresh lease of SqlConnectionRepository (migration 0005) on SQLite and PostgreSQL: a live
// lease of someone else is waited for (without a database connection) until it is released or
// expires, a killed replica's expired lease is taken at once, and every outcome clears it. Then
// two replicas (two pools, two TokenServices) on one PostgreSQL database with a slow provider:
// the second waits without holding a connection and adopts the first one's token.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "contract/contract_fixture.h"
#include "core/repositories.h"
#include "service/provider_gateway.h"
#include "service/provider_matcher.h"
#include "service/session_scope.h"
#include "service/token_service.h"
#include "storage/migrator.h"
#include "storage/postgres_database.h"
#include "storage/sql_connection_repository.h"
#include "storage/sql_provider_repository.h"
#include "support/fake_clock.h"
#include "support/scripted_http_client.h"

namespace keybridge::storage::contract_test {
namespace {

using namespace std::chrono_literals;  // NOLINT(google-build-using-namespace): literals only

const core::ConnectionId kConnectionId("01HZZZZZZZZZZZZZZZZZZZZZZ1");

core::TokenSet Token(const std::string& tag, core::TimePoint obtained_at) {
  core::TokenSet token;
  token.access_token = core::Secret("access-" + tag);
  token.refresh_token = core::Secret("refresh-" + tag);
  token.expires_in = 7200;
  token.obtained_at = obtained_at;
  token.expires_at = obtained_at + 7200s;
  return token;
}

template <typename Backend>
class RefreshLease : public StoreContract<Backend> {
 protected:
  void SetUp() override {
    StoreContract<Backend>::SetUp();
    if (this->IsSkipped() || this->HasFatalFailure()) {
      return;
    }
    ASSERT_TRUE(this->providers().Insert(MakeProvider("gitlab")).ok());
    core::Connection c;
    c.id = kConnectionId;
    c.user_id = core::UserId("alice");
    c.provider_id = core::ProviderId("gitlab");
    c.created_at = clock_.Now();
    ASSERT_TRUE(this->connections().FindOrInsert(c).ok());
    ASSERT_TRUE(this->connections()
                    .StoreToken(kConnectionId, Token("one", clock_.Now()), clock_.Now())
                    .ok());
    RefreshLeaseOptions options;
    options.clock = &clock_;
    options.max_wait = 60s;
    // Waiting moves the fake clock instead of sleeping: the lease expires deterministically.
    options.sleep = [this](std::chrono::milliseconds wait) {
      ++sleeps_;
      clock_.Advance(std::chrono::ceil<core::Seconds>(wait));
    };
    repo_ = std::make_unique<SqlConnectionRepository>(this->db(), this->keys(), options);
  }
  void TearDown() override {
    repo_.reset();
    StoreContract<Backend>::TearDown();
  }

  void SetLease(const std::string& owner, core::TimePoint until) {
    auto updated = this->db().Execute(
        "UPDATE oauth2_connections SET refresh_lease_owner = $2, refresh_lease_until = $3 "
        "WHERE id = $1",
        {kConnectionId.value(), owner, core::ToUnixSeconds(until)});
    ASSERT_TRUE(updated.ok() && *updated == 1);
  }
  std::string LeaseOwner() {
    return this->RawColumn("oauth2_connections", "refresh_lease_owner", "id",
                           kConnectionId.value());
  }

  testing::FakeClock clock_;
  int sleeps_ = 0;
  std::unique_ptr<SqlConnectionRepository> repo_;
};

TYPED_TEST_SUITE(RefreshLease, SqlBackends, BackendNames);

TYPED_TEST(RefreshLease, ALiveLeaseIsWaitedForUntilItExpires) {
  const core::TimePoint until = this->clock_.Now() + 20s;
  this->SetLease("another-replica", until);
  std::optional<core::TimePoint> ran_at;
  std::string lease_while_running;

  auto result = this->repo_->WithRefreshLock(kConnectionId, [&](const core::Connection&) {
    ran_at = this->clock_.Now();
    lease_while_running = this->LeaseOwner();
    return core::Result<core::RefreshOutcome>(
        core::RefreshNewToken{Token("two", this->clock_.Now())});
  });

  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_TRUE(ran_at.has_value());
  EXPECT_GE(*ran_at, until);
  EXPECT_GT(this->sleeps_, 1);  // polled with back-off, not one long sleep
  EXPECT_NE(lease_while_running, "another-replica");
  EXPECT_NE(lease_while_running, "<NULL>");
  EXPECT_EQ(result->token->access_token.Reveal(), "access-two");
  EXPECT_EQ(this->LeaseOwner(), "<NULL>");  // the token write cleared the lease
}

// A waiter does not hold its request thread until a dead holder's lease expires.
TYPED_TEST(RefreshLease, AWaiterGivesUpAfterMaxWait) {
  this->SetLease("another-replica", this->clock_.Now() + 20s);
  RefreshLeaseOptions options;
  options.clock = &this->clock_;
  options.max_wait = 3s;
  options.sleep = [this](std::chrono::milliseconds wait) {
    this->clock_.Advance(std::chrono::ceil<core::Seconds>(wait));
  };
  SqlConnectionRepository impatient(this->db(), this->keys(), options);
  bool ran = false;

  auto result = impatient.WithRefreshLock(kConnectionId, [&](const core::Connection&) {
    ran = true;
    return core::Result<core::RefreshOutcome>(core::RefreshNoChange{});
  });

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, core::ErrorCode::kUnavailable);
  EXPECT_TRUE(result.error().detail.starts_with("retry_after=")) << result.error().detail;
  EXPECT_FALSE(ran);
  EXPECT_EQ(this->LeaseOwner(), "another-replica");
}

TYPED_TEST(RefreshLease, AKilledReplicasExpiredLeaseIsTakenAtOnce) {
  this->SetLease("killed-replica", this->clock_.Now() - 1s);
  bool ran = false;

  auto result = this->repo_->WithRefreshLock(kConnectionId, [&](const core::Connection&) {
    ran = true;
    return core::Result<core::RefreshOutcome>(core::RefreshNoChange{});
  });

  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_TRUE(ran);
  EXPECT_EQ(this->sleeps_, 0);
  EXPECT_EQ(this->LeaseOwner(), "<NULL>");
}

TYPED_TEST(RefreshLease, EveryOutcomeReleasesTheLease) {
  const std::vector<core::Result<core::RefreshOutcome>> outcomes = {
      core::Result<core::RefreshOutcome>(core::RefreshNoChange{}),
      core::Result<core::RefreshOutcome>(core::RefreshNoteReason{"lost"}),
      core::Result<core::RefreshOutcome>(core::MakeError(core::ErrorCode::kUnavailable, "503")),
      core::Result<core::RefreshOutcome>(core::RefreshMarkInvalid{"revoked"}),
  };
  for (const auto& outcome : outcomes) {
    static_cast<void>(this->repo_->WithRefreshLock(
        kConnectionId, [&](const core::Connection&) { return outcome; }));
    EXPECT_EQ(this->LeaseOwner(), "<NULL>");
  }
  EXPECT_THROW(static_cast<void>(this->repo_->WithRefreshLock(
                   kConnectionId,
                   [](const core::Connection&) -> core::Result<core::RefreshOutcome> {
                     throw std::runtime_error("boom");
                   })),
               std::runtime_error);
  EXPECT_EQ(this->LeaseOwner(), "<NULL>");
  EXPECT_EQ(this->sleeps_, 0);
}

// A holder whose lease expired and was taken over must not overwrite what the new holder wrote:
// the token write is a compare-and-set on the lease owner too.
TYPED_TEST(RefreshLease, AHolderThatLostItsLeaseCannotWrite) {
  auto result = this->repo_->WithRefreshLock(kConnectionId, [&](const core::Connection&) {
    this->SetLease("took-over", this->clock_.Now() + 60s);  // as if ours had expired meanwhile
    return core::Result<core::RefreshOutcome>(
        core::RefreshNewToken{Token("late", this->clock_.Now())});
  });

  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->token->access_token.Reveal(), "access-one");
  EXPECT_EQ(result->token_version, 1);
  EXPECT_EQ(this->LeaseOwner(), "took-over");
}

// --- Two replicas on one PostgreSQL database.

// A provider whose token endpoint answers only when the test lets it.
class SlowProvider final : public core::HttpClient {
 public:
  core::Result<core::HttpResponse> Send(const core::HttpRequest& /*request*/) override {
    if (calls_.fetch_add(1) == 0) {
      in_call_.set_value();
    }
    release_.wait();
    return keybridge::testing::JsonResponse(
        200, R"({"access_token":"new-access","token_type":"Bearer","expires_in":7200,)"
             R"("refresh_token":"new-refresh"})");
  }
  std::future<void> InCall() { return in_call_.get_future(); }
  void Release() { release_promise_.set_value(); }
  int calls() const { return calls_.load(); }

 private:
  std::atomic<int> calls_{0};
  std::promise<void> in_call_;
  std::promise<void> release_promise_;
  std::shared_future<void> release_ = release_promise_.get_future().share();
};

// One replica: its own pool (one connection, short acquire deadline, so "a connection is free"
// is a plain query that succeeds), repositories and TokenService.
struct Replica {
  Replica(const std::string& url, crypto::KeyRing& keys, core::HttpClient& http,
          RefreshLeaseOptions lease) {
    PostgresPoolOptions pool;
    pool.max_connections = 1;
    pool.acquire_timeout = 500ms;
    auto opened = OpenPostgresDatabase(url, pool);
    KEYBRIDGE_CHECK(opened.ok(), "cannot open the test database");
    database = std::move(opened).value();
    providers = std::make_unique<SqlProviderRepository>(*database, keys);
    connections = std::make_unique<SqlConnectionRepository>(*database, keys, std::move(lease));
    gateway = std::make_unique<service::ProviderGateway>(http, clock);
    matcher = std::make_unique<service::ProviderMatcher>(*providers);
    scope = std::make_unique<service::SessionScopePolicy>(*connections, *matcher);
    tokens = std::make_unique<service::TokenService>(
        *connections, *providers, *gateway, clock, *scope,
        service::TokenServiceOptions{300s, core::PublicUrls("https://kb.example.org")});
  }

  core::SystemClock clock;
  std::unique_ptr<Database> database;
  std::unique_ptr<SqlProviderRepository> providers;
  std::unique_ptr<SqlConnectionRepository> connections;
  std::unique_ptr<service::ProviderGateway> gateway;
  std::unique_ptr<service::ProviderMatcher> matcher;
  std::unique_ptr<service::SessionScopePolicy> scope;
  std::unique_ptr<service::TokenService> tokens;
};

TEST(TwoReplicas, TheSecondWaitsWithoutAConnectionAndAdoptsTheFirstOnesToken) {
  PostgresBackend backend;
  backend.SetUp();
  if (::testing::Test::IsSkipped() || ::testing::Test::HasFatalFailure()) {
    return;
  }
  const std::string url = backend.NewDatabaseUrl();
  TempDir dir;
  crypto::SystemRandom random;
  auto keys = crypto::KeyRing::LoadOrCreate((dir.path() / "keys").string(), random);
  ASSERT_TRUE(keys.ok());
  SlowProvider provider;
  std::promise<void> b_waiting;
  std::promise<void> a_done;
  std::shared_future<void> a_finished = a_done.get_future().share();
  std::atomic<int> b_polls{0};
  RefreshLeaseOptions b_lease;
  // Replica B's first wait for the lease is where the test checks both pools; it then waits for
  // replica A to finish, so B's next look at the row finds the lease released.
  b_lease.sleep = [&](std::chrono::milliseconds) {
    if (b_polls.fetch_add(1) == 0) {
      b_waiting.set_value();
      a_finished.wait();
    }
  };
  Replica a(url, **keys, provider, {});
  Replica b(url, **keys, provider, b_lease);
  ASSERT_TRUE(Migrate(*a.database).ok());
  ASSERT_TRUE(a.providers->Insert(MakeProvider("gitlab")).ok());
  core::Connection c;
  c.id = kConnectionId;
  c.user_id = core::UserId("alice");
  c.provider_id = core::ProviderId("gitlab");
  c.created_at = a.clock.Now();
  ASSERT_TRUE(a.connections->FindOrInsert(c).ok());
  // Expired 800 s ago: every read must refresh.
  ASSERT_TRUE(
      a.connections->StoreToken(kConnectionId, Token("old", a.clock.Now() - 8000s), a.clock.Now())
          .ok());
  const core::Caller alice = core::Caller::User(core::UserId("alice"));

  std::optional<core::Result<core::Connection>> a_result;
  std::optional<core::Result<core::Connection>> b_result;
  std::future<void> in_call = provider.InCall();
  std::thread first([&] { a_result = a.tokens->FreshConnection(alice, kConnectionId, 0s); });
  in_call.wait();
  std::thread second([&] { b_result = b.tokens->FreshConnection(alice, kConnectionId, 0s); });
  b_waiting.get_future().wait();

  // A is inside the provider call and B is waiting for the lease: each replica's only pooled
  // connection is free, and no session sits in a transaction.
  EXPECT_TRUE(a.database->Query("SELECT 1", {}).ok());
  EXPECT_TRUE(b.database->Query("SELECT 1", {}).ok());
  auto in_transaction = a.database->Query(
      "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE "
      "'idle in transaction%'",
      {});
  ASSERT_TRUE(in_transaction.ok());
  EXPECT_EQ(std::get<std::int64_t>(in_transaction->front().at(0)), 0);

  provider.Release();
  first.join();
  a_done.set_value();
  second.join();

  ASSERT_TRUE(a_result.has_value() && a_result->ok()) << a_result->error().message;
  ASSERT_TRUE(b_result.has_value() && b_result->ok()) << b_result->error().message;
  EXPECT_EQ((*a_result)->token->access_token.Reveal(), "new-access");
  EXPECT_EQ((*b_result)->token->access_token.Reveal(), "new-access");
  EXPECT_EQ((*b_result)->token_version, (*a_result)->token_version);
  EXPECT_EQ(provider.calls(), 1);
  EXPECT_GE(b_polls.load(), 1);
}

}  // namespace
}  // namespace keybridge::storage::contract_test
