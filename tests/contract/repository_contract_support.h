// Shared by the ProviderRepository and ApiTokenRepository contract tests
// (repository_contract_test.cc), the Database layer and migrations (database_contract_test.cc) and
// key rotation (key_rotation_contract_test.cc): API tokens to store and the two suites on top of
// contract_fixture.h.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "contract/contract_fixture.h"
#include "core/api_token.h"
#include "core/check.h"
#include "storage/database.h"

namespace keybridge::storage::contract_test {

inline core::ApiToken MakeToken(const std::string& id, std::int64_t created_at) {
  core::ApiToken token;
  token.id = id;
  token.user_id = core::UserId("user-" + id);
  token.name = "token " + id;
  token.is_admin = false;
  token.token_hash = "hash-of-" + id;
  token.created_at = core::FromUnixSeconds(created_at);
  return token;
}

template <typename Backend>
class RepositoryContract : public Contract<Backend> {};

template <typename Backend>
class RepositoryStorageContract : public StoreContract<Backend> {
 protected:
  std::string RawClientSecret(const std::string& id) {
    return this->RawColumn("oauth2_clients", "client_secret", "id", id);
  }

  // The versions recorded in schema_migrations, ascending.
  std::vector<std::int64_t> AppliedMigrations(Database& database) {
    auto rows = database.Query("SELECT version FROM schema_migrations ORDER BY version", {});
    KEYBRIDGE_CHECK(rows.ok(), "schema_migrations unreadable");
    std::vector<std::int64_t> versions;
    for (const Row& row : *rows) {
      RowReader reader(row, "schema_migrations");
      versions.push_back(reader.Int(0));
    }
    return versions;
  }
};

}  // namespace keybridge::storage::contract_test
