// Contract tests for key rotation (storage/key_rotation.h) on the SQL backends: re-encrypting
// every sealed value under the new key, never overwriting a concurrent write, passing again over
// values a server still wrote under the old key (and giving up on a row that keeps coming back),
// and retiring a key only once nothing needs it. Providers and API tokens are in
// repository_contract_test.cc.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "contract/repository_contract_support.h"
#include "crypto/key_ring.h"
#include "crypto/system_random.h"
#include "storage/key_rotation.h"
#include "storage/sealed_columns.h"
#include "storage/store.h"
#include "support/fake_clock.h"

namespace keybridge::storage::contract_test {
namespace {

using core::ErrorCode;

// Forwards every call to another Database; the decorators below stage concurrent writes by
// overriding the one call they watch.
class ForwardingDatabase : public Database {
 public:
  explicit ForwardingDatabase(Database& inner) : inner_(inner) {}

  core::Result<std::vector<Row>> Query(std::string_view sql, const Params& params) override {
    return inner_.Query(sql, params);
  }
  core::Result<std::int64_t> Execute(std::string_view sql, const Params& params) override {
    return inner_.Execute(sql, params);
  }
  core::Status ExecuteScript(std::string_view sql) override { return inner_.ExecuteScript(sql); }
  core::Status Transaction(const std::function<core::Status(Database&)>& body) override {
    return inner_.Transaction(body);
  }
  Dialect dialect() const override { return inner_.dialect(); }
  core::Status Ping() override { return inner_.Ping(); }

 private:
  Database& inner_;
};

// Runs a hook just before the first statement that rewrites a client secret, to stage a
// concurrent write at the worst moment.
class InterceptingDatabase final : public ForwardingDatabase {
 public:
  InterceptingDatabase(Database& inner, std::function<void()> hook)
      : ForwardingDatabase(inner), hook_(std::move(hook)) {}

  core::Result<std::int64_t> Execute(std::string_view sql, const Params& params) override {
    if (hook_ && sql.starts_with("UPDATE oauth2_clients SET client_secret")) {
      std::function<void()> hook = std::move(hook_);
      hook_ = nullptr;
      hook();
    }
    return ForwardingDatabase::Execute(sql, params);
  }

 private:
  std::function<void()> hook_;
};

// Runs a hook before every query of a re-encryption pass after the first (those that look only
// for values under an old key).
class BeforeEachCheckDatabase final : public ForwardingDatabase {
 public:
  BeforeEachCheckDatabase(Database& inner, std::function<void()> hook)
      : ForwardingDatabase(inner), hook_(std::move(hook)) {}

  core::Result<std::vector<Row>> Query(std::string_view sql, const Params& params) override {
    if (sql.find("NOT LIKE") != std::string_view::npos) {
      hook_();
    }
    return ForwardingDatabase::Query(sql, params);
  }

 private:
  std::function<void()> hook_;
};

// A server's key ring that has not looked at the key file since it was loaded (its clock never
// moves), and a store sealing with it: what a running server is until it notices a rotation.
struct StaleServer {
  testing::FakeClock clock;
  crypto::SystemRandom random;
  std::unique_ptr<crypto::KeyRing> keys;
  std::unique_ptr<Store> store;

  StaleServer(const std::string& key_file, const std::string& url) {
    crypto::KeyRing::Options options;
    options.clock = &clock;
    keys = std::move(crypto::KeyRing::LoadOrCreate(key_file, random, options)).value();
    store = std::move(OpenStore(url, *keys)).value();
  }
};

ReencryptOptions WithoutWaiting() {
  ReencryptOptions options;
  options.wait_for_servers = [](std::chrono::nanoseconds /*remaining*/) {
  };
  return options;
}

TYPED_TEST_SUITE(RepositoryStorageContract, SqlBackends, BackendNames);

TYPED_TEST(RepositoryStorageContract, ReencryptSecretsMovesEveryCiphertextToTheNewKey) {
  for (const char* id : {"a.example", "b.example", "c.example"}) {
    ASSERT_TRUE(this->providers().Insert(MakeProvider(id)).ok());
  }
  core::Provider public_client = MakeProvider("public.example");
  public_client.client_secret = std::nullopt;
  ASSERT_TRUE(this->providers().Insert(public_client).ok());
  const std::string old_key = this->keys().ActiveKeyId();
  auto new_key = this->keys().Rotate();
  ASSERT_TRUE(new_key.ok()) << new_key.error().message;
  ASSERT_NE(*new_key, old_key);

  auto report = ReencryptSecrets(this->store(), this->keys());
  auto again = ReencryptSecrets(this->store(), this->keys());

  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->reencrypted, 3);
  EXPECT_EQ(report->already_current, 0);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->reencrypted, 0);
  EXPECT_EQ(again->already_current, 3);
  for (const char* id : {"a.example", "b.example", "c.example"}) {
    EXPECT_EQ(crypto::KeyRing::KeyIdOf(this->RawClientSecret(id)), *new_key) << id;
    auto found = this->providers().Find(core::ProviderId(id));
    ASSERT_TRUE(found.ok()) << found.error().message;
    ASSERT_TRUE(found->client_secret.has_value());
    EXPECT_EQ(found->client_secret->Reveal(), std::string("secret-for-") + id);
  }
  EXPECT_EQ(this->RawClientSecret("public.example"), "<NULL>");
}

TYPED_TEST(RepositoryStorageContract, ReencryptSecretsNeverOverwritesAConcurrentWrite) {
  ASSERT_TRUE(this->providers().Insert(MakeProvider("a.example")).ok());
  ASSERT_TRUE(this->providers().Insert(MakeProvider("b.example")).ok());
  ASSERT_TRUE(this->keys().Rotate().ok());
  // An administrator changes a.example's secret after the rotation read the old ciphertext.
  InterceptingDatabase racing(this->db(), [this] {
    core::Provider rewritten = MakeProvider("a.example");
    rewritten.client_secret = core::Secret("written-concurrently");
    ASSERT_TRUE(this->providers().Update(rewritten).ok());
  });

  auto report = ReencryptSecrets(racing, this->keys());

  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->reencrypted, 1);
  EXPECT_EQ(report->already_current, 1);
  auto found = this->providers().Find(core::ProviderId("a.example"));
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->client_secret->Reveal(), "written-concurrently");
  EXPECT_EQ(crypto::KeyRing::KeyIdOf(this->RawClientSecret("b.example")),
            this->keys().ActiveKeyId());
}

TYPED_TEST(RepositoryStorageContract,
           ReencryptSecretsPassesAgainOverValuesAServerWroteUnderTheOldKey) {
  ASSERT_TRUE(this->providers().Insert(MakeProvider("a.example")).ok());
  ASSERT_TRUE(this->providers().Insert(MakeProvider("b.example")).ok());
  StaleServer server(this->key_file(), this->url());
  const std::string old_key = this->keys().ActiveKeyId();
  auto new_key = this->keys().Rotate();
  ASSERT_TRUE(new_key.ok()) << new_key.error().message;
  ReencryptOptions options;
  int waits = 0;
  std::chrono::nanoseconds left{-1};
  // While the rotation waits for the servers, one that has not reloaded yet rewrites a secret.
  options.wait_for_servers = [&](std::chrono::nanoseconds remaining) {
    ++waits;
    left = remaining;
    core::Provider rewritten = MakeProvider("a.example");
    rewritten.client_secret = core::Secret("written-by-a-stale-server");
    ASSERT_TRUE(server.store->providers->Update(rewritten).ok());
    ASSERT_EQ(crypto::KeyRing::KeyIdOf(this->RawClientSecret("a.example")), old_key);
  };

  auto report = ReencryptSecrets(this->store(), this->keys(), options);

  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(waits, 1);
  EXPECT_GT(left, std::chrono::nanoseconds::zero());
  EXPECT_LE(left, options.settle);
  EXPECT_EQ(report->passes, 3) << "the first, the one re-sealing the stale write, an empty one";
  EXPECT_EQ(report->reencrypted, 3);
  const std::string raw = this->RawClientSecret("a.example");
  EXPECT_EQ(crypto::KeyRing::KeyIdOf(raw), *new_key);
  auto opened = this->keys().Open(raw, kProviderClientSecret.AssociatedData("a.example"));
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, "written-by-a-stale-server");
  EXPECT_EQ(crypto::KeyRing::KeyIdOf(this->RawClientSecret("b.example")), *new_key);
}

TYPED_TEST(RepositoryStorageContract, ReencryptSecretsGivesUpNamingTheRowThatKeepsComingBack) {
  ASSERT_TRUE(this->providers().Insert(MakeProvider("a.example")).ok());
  StaleServer server(this->key_file(), this->url());
  ASSERT_TRUE(this->keys().Rotate().ok());
  BeforeEachCheckDatabase rewriting(this->db(), [&server] {
    core::Provider rewritten = MakeProvider("a.example");
    rewritten.display_name = "rewritten by a server that never reloads";
    ASSERT_TRUE(server.store->providers->Update(rewritten).ok());
  });
  ReencryptOptions options = WithoutWaiting();
  options.max_passes = 4;

  auto report = ReencryptSecrets(rewriting, this->keys(), options);

  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(report.error().message.find("oauth2_clients row 'a.example'"), std::string::npos)
      << report.error().message;
  EXPECT_NE(report.error().message.find("4 passes"), std::string::npos) << report.error().message;
}

TYPED_TEST(RepositoryStorageContract, RetireKeyRefusesWhileAValueNeedsItThenRemovesIt) {
  ASSERT_TRUE(this->providers().Insert(MakeProvider("a.example")).ok());
  ASSERT_TRUE(this->providers().Insert(MakeProvider("b.example")).ok());
  const std::string old_key = this->keys().ActiveKeyId();
  auto new_key = this->keys().Rotate();
  ASSERT_TRUE(new_key.ok()) << new_key.error().message;

  const core::Status needed = RetireKey(this->store(), this->keys(), old_key);
  const core::Status active = RetireKey(this->store(), this->keys(), *new_key);
  const core::Status unknown = RetireKey(this->store(), this->keys(), "0badc0de");

  ASSERT_FALSE(needed.ok());
  EXPECT_EQ(needed.error().code, ErrorCode::kConflict);
  EXPECT_NE(needed.error().message.find("2 stored values (2 in oauth2_clients.client_secret)"),
            std::string::npos)
      << needed.error().message;
  EXPECT_NE(needed.error().message.find("keybridge keys rotate"), std::string::npos);
  ASSERT_FALSE(active.ok());
  EXPECT_EQ(active.error().code, ErrorCode::kConflict);
  EXPECT_NE(active.error().message.find("active key"), std::string::npos);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(this->keys().KeyIds(), (std::vector<std::string>{old_key, *new_key}));

  ASSERT_TRUE(ReencryptSecrets(this->store(), this->keys(), WithoutWaiting()).ok());
  const core::Status retired = RetireKey(this->store(), this->keys(), old_key);

  ASSERT_TRUE(retired.ok()) << retired.error().message;
  EXPECT_EQ(this->keys().KeyIds(), std::vector<std::string>{*new_key});
  auto counts = CountSealedValues(this->db());
  ASSERT_TRUE(counts.ok()) << counts.error().message;
  ASSERT_EQ(counts->size(), 1U);
  EXPECT_EQ(counts->front().key_id, *new_key);
  EXPECT_EQ(counts->front().table, "oauth2_clients");
  EXPECT_EQ(counts->front().values, 2);
  crypto::SystemRandom random;
  auto reloaded = crypto::KeyRing::LoadOrCreate(this->key_file(), random);
  ASSERT_TRUE(reloaded.ok());
  auto opened = (*reloaded)->Open(this->RawClientSecret("b.example"),
                                  kProviderClientSecret.AssociatedData("b.example"));
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, "secret-for-b.example");
}

}  // namespace
}  // namespace keybridge::storage::contract_test
