// Contract tests for ProviderRepository and ApiTokenRepository (core/repositories.h): one typed
// suite holds every backend of contract_fixture.h (in-memory, SQLite, PostgreSQL) to the same
// behaviour, and a second one the SQL backends to what only a database has (secrets at rest).
// The Database layer and migrations are in database_contract_test.cc, key rotation in
// key_rotation_contract_test.cc, connections and flows in connection_contract_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "contract/repository_contract_support.h"
#include "crypto/key_ring.h"

namespace keybridge::storage::contract_test {
namespace {

using core::ErrorCode;

void ExpectSameProvider(const core::Provider& actual, const core::Provider& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.kind, expected.kind);
  EXPECT_EQ(actual.app_slug, expected.app_slug);
  EXPECT_EQ(actual.client_id, expected.client_id);
  EXPECT_EQ(actual.client_secret.has_value(), expected.client_secret.has_value());
  if (actual.client_secret && expected.client_secret) {
    EXPECT_EQ(actual.client_secret->Reveal(), expected.client_secret->Reveal());
  }
  EXPECT_EQ(actual.display_name, expected.display_name);
  EXPECT_EQ(actual.scope, expected.scope);
  EXPECT_EQ(actual.url, expected.url);
  EXPECT_EQ(actual.use_pkce, expected.use_pkce);
  EXPECT_EQ(actual.image_registry_url, expected.image_registry_url);
  EXPECT_EQ(actual.oidc_issuer_url, expected.oidc_issuer_url);
  EXPECT_EQ(actual.created_by, expected.created_by);
  EXPECT_EQ(actual.created_at, expected.created_at);
  EXPECT_EQ(actual.updated_at, expected.updated_at);
  EXPECT_EQ(actual.managed_by_file, expected.managed_by_file);
  EXPECT_EQ(actual.secret_reference, expected.secret_reference);
}

TYPED_TEST_SUITE(RepositoryContract, AllBackends, BackendNames);
TYPED_TEST_SUITE(RepositoryStorageContract, SqlBackends, BackendNames);

// Providers.

TYPED_TEST(RepositoryContract, InsertedProviderIsFoundWithEveryField) {
  const core::Provider provider = MakeProvider("gitlab.example");

  ASSERT_TRUE(this->providers().Insert(provider).ok());
  auto found = this->providers().Find(core::ProviderId("gitlab.example"));

  ASSERT_TRUE(found.ok()) << found.error().message;
  ExpectSameProvider(*found, provider);
}

TYPED_TEST(RepositoryContract, FindOfUnknownProviderIsNotFound) {
  auto found = this->providers().Find(core::ProviderId("nobody.example"));

  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code, ErrorCode::kNotFound);
}

TYPED_TEST(RepositoryContract, ListIsOrderedByIdBytewise) {
  const std::vector<std::string> ids = {"gitlab.example", "a-c", "ab", "a.b", "github.com", "a_b"};
  for (const std::string& id : ids) {
    ASSERT_TRUE(this->providers().Insert(MakeProvider(id)).ok());
  }
  std::vector<std::string> expected = ids;
  std::sort(expected.begin(), expected.end());

  auto listed = this->providers().List();

  ASSERT_TRUE(listed.ok()) << listed.error().message;
  std::vector<std::string> listed_ids;
  for (const core::Provider& provider : *listed) {
    listed_ids.push_back(provider.id.value());
  }
  EXPECT_EQ(listed_ids, expected);
}

TYPED_TEST(RepositoryContract, DuplicateProviderIdIsConflict) {
  ASSERT_TRUE(this->providers().Insert(MakeProvider("github.com")).ok());

  core::Status again = this->providers().Insert(MakeProvider("github.com"));

  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_NE(again.error().message.find("github.com"), std::string::npos);
}

TYPED_TEST(RepositoryContract, UpdateReplacesEveryField) {
  ASSERT_TRUE(this->providers().Insert(MakeProvider("gitlab.example")).ok());
  core::Provider changed = MakeProvider("gitlab.example");
  changed.kind = core::ProviderKind::kGenericOidc;
  changed.app_slug = "";
  changed.client_id = "new-client";
  changed.client_secret = core::Secret("new-secret");
  changed.display_name = "Renamed";
  changed.scope = "openid";
  changed.url = "https://login.example/";
  changed.use_pkce = false;
  changed.image_registry_url = std::nullopt;
  changed.oidc_issuer_url = "https://login.example/realms/x";
  changed.created_by = core::UserId("admin-2");
  changed.created_at = core::FromUnixSeconds(1'600'000'000);
  changed.updated_at = core::FromUnixSeconds(1'800'000'000);

  ASSERT_TRUE(this->providers().Update(changed).ok());
  auto found = this->providers().Find(core::ProviderId("gitlab.example"));

  ASSERT_TRUE(found.ok()) << found.error().message;
  ExpectSameProvider(*found, changed);
}

TYPED_TEST(RepositoryContract, UpdateOfUnknownProviderIsNotFound) {
  core::Status updated = this->providers().Update(MakeProvider("nobody.example"));

  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.error().code, ErrorCode::kNotFound);
}

TYPED_TEST(RepositoryContract, DeleteReportsWhetherARowWasDeleted) {
  ASSERT_TRUE(this->providers().Insert(MakeProvider("gitlab.example")).ok());

  auto first = this->providers().Delete(core::ProviderId("gitlab.example"));
  auto second = this->providers().Delete(core::ProviderId("gitlab.example"));

  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*second);
  EXPECT_EQ(this->providers().Find(core::ProviderId("gitlab.example")).error().code,
            ErrorCode::kNotFound);
}

TYPED_TEST(RepositoryContract, AbsentOptionalsRoundTripAbsent) {
  core::Provider provider = MakeProvider("public-client.example");
  provider.client_secret = std::nullopt;
  provider.image_registry_url = std::nullopt;
  provider.oidc_issuer_url = std::nullopt;

  ASSERT_TRUE(this->providers().Insert(provider).ok());
  auto found = this->providers().Find(provider.id);

  ASSERT_TRUE(found.ok()) << found.error().message;
  ExpectSameProvider(*found, provider);
}

// Migration 0013: an integration applied from an integrations file keeps that mark and the
// reference its secret came from, whichever source, across inserts and updates.
TYPED_TEST(RepositoryContract, IntegrationsFileMarkAndSecretReferenceRoundTrip) {
  core::Provider provider = MakeProvider("gitlab.example");
  provider.managed_by_file = true;
  provider.secret_reference =
      core::SecretReference{core::SecretReference::Source::kFile, "secrets/gitlab.txt"};
  ASSERT_TRUE(this->providers().Insert(provider).ok());
  auto inserted = this->providers().Find(provider.id);
  core::Provider by_env = provider;
  by_env.secret_reference = core::SecretReference{core::SecretReference::Source::kEnv, "GL_SECRET"};
  ASSERT_TRUE(this->providers().Update(by_env).ok());
  auto updated = this->providers().Find(provider.id);
  core::Provider released = provider;
  released.managed_by_file = false;
  released.secret_reference = std::nullopt;
  ASSERT_TRUE(this->providers().Update(released).ok());
  auto unmanaged = this->providers().Find(provider.id);

  ASSERT_TRUE(inserted.ok() && updated.ok() && unmanaged.ok());
  ExpectSameProvider(*inserted, provider);
  ExpectSameProvider(*updated, by_env);
  ExpectSameProvider(*unmanaged, released);
  EXPECT_FALSE(MakeProvider("x").managed_by_file) << "integrations are not file-managed by default";
}

TYPED_TEST(RepositoryStorageContract, AbsentClientSecretIsStoredAsNull) {
  core::Provider provider = MakeProvider("public-client.example");
  provider.client_secret = std::nullopt;

  ASSERT_TRUE(this->providers().Insert(provider).ok());

  EXPECT_EQ(this->RawClientSecret(provider.id.value()), "<NULL>");
}

TYPED_TEST(RepositoryContract, EmptyClientSecretIsKeptDistinctFromNone) {
  core::Provider provider = MakeProvider("gitlab.example");
  provider.client_secret = core::Secret("");

  ASSERT_TRUE(this->providers().Insert(provider).ok());
  auto found = this->providers().Find(provider.id);

  ASSERT_TRUE(found.ok()) << found.error().message;
  ExpectSameProvider(*found, provider);
}

TYPED_TEST(RepositoryStorageContract, ClientSecretIsStoredSealedWithTheActiveKey) {
  ASSERT_TRUE(this->providers().Insert(MakeProvider("gitlab.example")).ok());

  const std::string raw = this->RawClientSecret("gitlab.example");

  EXPECT_TRUE(raw.starts_with("kb1.")) << raw;
  EXPECT_EQ(crypto::KeyRing::KeyIdOf(raw), this->keys().ActiveKeyId());
  EXPECT_EQ(raw.find("secret-for-gitlab.example"), std::string::npos);
}

TYPED_TEST(RepositoryStorageContract,
           CiphertextMovedToAnotherRowIsDecryptionFailureNamingTheProvider) {
  ASSERT_TRUE(this->providers().Insert(MakeProvider("github.com")).ok());
  ASSERT_TRUE(this->providers().Insert(MakeProvider("gitlab.example")).ok());
  const std::string stolen = this->RawClientSecret("github.com");
  ASSERT_TRUE(this->db()
                  .Execute("UPDATE oauth2_clients SET client_secret = $1 WHERE id = $2",
                           {stolen, std::string("gitlab.example")})
                  .ok());

  auto found = this->providers().Find(core::ProviderId("gitlab.example"));

  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code, ErrorCode::kDecryptionFailed);
  EXPECT_NE(found.error().message.find("gitlab.example"), std::string::npos);
  EXPECT_EQ(found.error().message.find(stolen), std::string::npos);
  EXPECT_EQ(found.error().detail.find(stolen), std::string::npos);
}

// API tokens.

TYPED_TEST(RepositoryContract, ApiTokenIsFoundByHashWithEveryField) {
  core::ApiToken token = MakeToken("tok1", 1'700'000'000);
  token.is_admin = true;
  token.expires_at = core::FromUnixSeconds(1'800'000'000);

  ASSERT_TRUE(this->tokens().Insert(token).ok());
  auto found = this->tokens().FindByHash("hash-of-tok1");

  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->id, "tok1");
  EXPECT_EQ(found->user_id, "user-tok1");
  EXPECT_EQ(found->name, "token tok1");
  EXPECT_TRUE(found->is_admin);
  EXPECT_EQ(found->token_hash, "hash-of-tok1");
  EXPECT_EQ(found->created_at, core::FromUnixSeconds(1'700'000'000));
  EXPECT_EQ(found->expires_at, core::FromUnixSeconds(1'800'000'000));
  EXPECT_EQ(found->revoked_at, std::nullopt);
}

TYPED_TEST(RepositoryContract, UnknownApiTokenHashIsNotFound) {
  auto found = this->tokens().FindByHash("hash-of-nothing");

  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code, ErrorCode::kNotFound);
}

TYPED_TEST(RepositoryContract, DuplicateApiTokenIdOrHashIsConflict) {
  ASSERT_TRUE(this->tokens().Insert(MakeToken("tok1", 1'700'000'000)).ok());
  core::ApiToken same_id = MakeToken("tok1", 1'700'000'000);
  same_id.token_hash = "another-hash";
  core::ApiToken same_hash = MakeToken("tok2", 1'700'000'000);
  same_hash.token_hash = "hash-of-tok1";

  core::Status by_id = this->tokens().Insert(same_id);
  core::Status by_hash = this->tokens().Insert(same_hash);

  ASSERT_FALSE(by_id.ok());
  EXPECT_EQ(by_id.error().code, ErrorCode::kConflict);
  ASSERT_FALSE(by_hash.ok());
  EXPECT_EQ(by_hash.error().code, ErrorCode::kConflict);
}

TYPED_TEST(RepositoryContract, ErrorsNeverEchoParameterValues) {
  core::ApiToken token = MakeToken("tok1", 1'700'000'000);
  token.token_hash = "distinctive-hash-value-9d2e";
  ASSERT_TRUE(this->tokens().Insert(token).ok());
  token.id = "tok2";

  core::Status duplicate = this->tokens().Insert(token);

  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().message.find("distinctive-hash-value"), std::string::npos);
  EXPECT_EQ(duplicate.error().detail.find("distinctive-hash-value"), std::string::npos);
}

TYPED_TEST(RepositoryContract, ApiTokensAreListedByCreationTimeThenId) {
  ASSERT_TRUE(this->tokens().Insert(MakeToken("tok-c", 1'700'000'200)).ok());
  ASSERT_TRUE(this->tokens().Insert(MakeToken("tok-b", 1'700'000'100)).ok());
  ASSERT_TRUE(this->tokens().Insert(MakeToken("tok-a", 1'700'000'200)).ok());

  auto listed = this->tokens().List();

  ASSERT_TRUE(listed.ok()) << listed.error().message;
  std::vector<std::string> ids;
  for (const core::ApiToken& token : *listed) {
    ids.push_back(token.id);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"tok-b", "tok-a", "tok-c"}));
}

TYPED_TEST(RepositoryContract, RevokeKeepsTheFirstRevocationTime) {
  ASSERT_TRUE(this->tokens().Insert(MakeToken("tok1", 1'700'000'000)).ok());

  auto first = this->tokens().Revoke("tok1", core::FromUnixSeconds(1'700'000'500));
  auto second = this->tokens().Revoke("tok1", core::FromUnixSeconds(1'700'000'900));
  auto unknown = this->tokens().Revoke("tok-unknown", core::FromUnixSeconds(1'700'000'900));

  ASSERT_TRUE(first.ok() && second.ok() && unknown.ok());
  EXPECT_TRUE(*first);
  EXPECT_TRUE(*second);
  EXPECT_FALSE(*unknown);
  auto found = this->tokens().FindByHash("hash-of-tok1");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->revoked_at, core::FromUnixSeconds(1'700'000'500));
}

// Concurrency.

TYPED_TEST(RepositoryContract, FiftyConcurrentWritersAndReadersDoNotError) {
  constexpr int kThreads = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;

  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([this, i, &failures] {
      const std::string id = "concurrent-" + std::to_string(i) + ".example";
      const auto count = [&failures](bool ok) {
        if (!ok) {
          ++failures;
        }
      };
      count(this->providers().Insert(MakeProvider(id)).ok());
      count(this->tokens().Insert(MakeToken("tok-" + std::to_string(i), 1'700'000'000 + i)).ok());
      count(this->providers().Find(core::ProviderId(id)).ok());
      count(this->providers().List().ok());
      count(this->tokens().List().ok());
      core::Provider updated = MakeProvider(id);
      updated.display_name = "updated";
      count(this->providers().Update(updated).ok());
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }

  EXPECT_EQ(failures.load(), 0);
  auto providers = this->providers().List();
  ASSERT_TRUE(providers.ok());
  EXPECT_EQ(providers->size(), static_cast<std::size_t>(kThreads));
  auto tokens = this->tokens().List();
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->size(), static_cast<std::size_t>(kThreads));
}

// Secrets are sealed at rest (storage/sealed_columns.h): neither the database files nor a dump hold
// the plaintext client secret, while the (non-secret) provider id is there.
TYPED_TEST(RepositoryStorageContract, ClientSecretNeverAppearsAtRest) {
  const std::string secret = "kb-distinctive-client-secret-7f3a91c2";
  core::Provider provider = MakeProvider("at-rest-probe.example");
  provider.client_secret = core::Secret(secret);
  ASSERT_TRUE(this->providers().Insert(provider).ok());
  provider.display_name = "updated once";
  ASSERT_TRUE(this->providers().Update(provider).ok());

  const std::string raw = this->RawBytesAtRest();

  ASSERT_FALSE(raw.empty());
  EXPECT_NE(raw.find("at-rest-probe.example"), std::string::npos);
  EXPECT_EQ(raw.find(secret), std::string::npos);
}

}  // namespace
}  // namespace keybridge::storage::contract_test
