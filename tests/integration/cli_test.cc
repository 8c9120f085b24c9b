// The `keybridge` command line as an administrator uses it: API tokens (shown once, stored as a
// hash, listed without their value, revocable) and online key rotation against a running server.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "crypto/key_ring.h"
#include "crypto/system_random.h"
#include "integration/harness.h"
#include "integration/keybridge_process.h"
#include "storage/store.h"

namespace keybridge {
namespace {

using testing::CommandResult;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path()
           / ("keybridge-cli-" + std::to_string(::getpid()) + "-"
              + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    database_ = "sqlite://" + (dir_ / "kb.db").string();
    key_file_ = (dir_ / "kb.key").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs keybridge with `args` plus the test's --database and --key-file.
  CommandResult Run(const std::string& args) {
    return testing::RunShellCommand(std::string(KEYBRIDGE_BINARY_PATH) + " --log-format json "
                                        + args + " --database '" + database_ + "' --key-file '"
                                        + key_file_ + "'",
                                    (dir_ / "stderr.txt").string());
  }

  std::filesystem::path dir_;
  std::string database_;
  std::string key_file_;
};

TEST_F(CliTest, TokensAreShownOnceListedWithoutValueAndRevocable) {
  auto created = Run("tokens create --user alice --admin --name laptop --ttl 12h");

  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string token = created.out.substr(0, created.out.find('\n'));
  EXPECT_EQ(token.rfind("kb_", 0), 0U);
  auto list = Run("tokens list");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("alice"), std::string::npos);
  EXPECT_NE(list.out.find("laptop"), std::string::npos);
  EXPECT_NE(list.out.find("active"), std::string::npos);
  EXPECT_EQ(list.out.find(token), std::string::npos) << "the token value must never be listed";
  const std::string id = list.out.substr(list.out.find("tok_"), 16);

  auto revoked = Run("tokens revoke " + id);

  EXPECT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_NE(Run("tokens list").out.find("revoked"), std::string::npos);
  EXPECT_NE(Run("tokens revoke tok_000000000000").exit_code, 0);
}

TEST_F(CliTest, RevokingATokenSignsItsUserOutOfTheWebUi) {
  auto created = Run("tokens create --user carol");
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string token = created.out.substr(0, created.out.find('\n'));
  testing::KeybridgeProcess server({"--database", database_, "--key-file", key_file_},
                                   (dir_ / "server.log").string());
  ASSERT_FALSE(server.base_url().empty());
  testing::HttpCaller call(server.base_url());
  auto signed_in =
      call.Call("POST", "/api/data/auth/token", "", nlohmann::json{{"token", token}}.dump(),
                {{"Origin", server.base_url()}});
  ASSERT_EQ(signed_in.status, 200) << signed_in.body;
  const std::string cookie = testing::CookiePair(signed_in);
  ASSERT_EQ(call.Call("GET", "/api/data/user", "", "", {{"Cookie", cookie}}).status, 200);
  auto list = Run("tokens list");
  const std::string id = list.out.substr(list.out.find("tok_"), 16);

  auto revoked = Run("tokens revoke " + id);

  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_NE(revoked.err.find("out of 1 browser session"), std::string::npos) << revoked.err;
  EXPECT_EQ(call.Call("GET", "/api/data/user", "", "", {{"Cookie", cookie}}).status, 401)
      << "the browser session made with the revoked token must end with it";
}

TEST_F(CliTest, ATokenRevokedFromTheCommandLineIsRefusedByTheRunningServerWithinTheSecond) {
  // The server caches callers in memory; on SQLite another process's write is seen through the
  // database file's data_version (storage/change_feed.h) within the 1 s promise.
  auto created = Run("tokens create --user dave");
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string token = created.out.substr(0, created.out.find('\n'));
  testing::KeybridgeProcess server({"--database", database_, "--key-file", key_file_},
                                   (dir_ / "server.log").string());
  ASSERT_FALSE(server.base_url().empty());
  testing::HttpCaller call(server.base_url());
  ASSERT_EQ(call.Call("GET", "/api/data/user", token).status, 200);
  ASSERT_EQ(call.Call("GET", "/api/data/user", token).status, 200);
  auto list = Run("tokens list");
  const std::string id = list.out.substr(list.out.find("tok_"), 16);

  ASSERT_EQ(Run("tokens revoke " + id).exit_code, 0);
  const auto revoked_at = std::chrono::steady_clock::now();
  int status = 200;
  // The promise, plus a slack for this test's own requests on a loaded machine.
  while (status != 401
         && std::chrono::steady_clock::now() < revoked_at + std::chrono::milliseconds(1500)) {
    status = call.Call("GET", "/api/data/user", token).status;
  }

  EXPECT_EQ(status, 401) << "the server kept accepting the revoked token";
}

TEST_F(CliTest, BadFlagsFailWithAMessage) {
  auto r = Run("tokens create --user alice --ttl soon");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--ttl"), std::string::npos) << r.err;
}

TEST_F(CliTest, KeysRotateReencryptsWhileAServerRuns) {
  auto admin = Run("tokens create --user root --admin");
  ASSERT_EQ(admin.exit_code, 0) << admin.err;
  const std::string token = admin.out.substr(0, admin.out.find('\n'));
  testing::KeybridgeProcess server({"--database", database_, "--key-file", key_file_},
                                   (dir_ / "server.log").string());
  ASSERT_FALSE(server.base_url().empty());
  testing::HttpCaller call(server.base_url());
  nlohmann::json provider = {{"id", "gl"},
                             {"kind", "gitlab"},
                             {"client_id", "c"},
                             {"client_secret", "rotate-me-secret"},
                             {"display_name", "G"},
                             {"scope", "api"},
                             {"url", "https://gitlab.example.org"}};
  ASSERT_EQ(call.Call("POST", "/api/data/oauth2/providers", token, provider.dump()).status, 201);

  auto rotated = Run("keys rotate");

  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  EXPECT_NE(rotated.err.find("re-encrypted 1"), std::string::npos) << rotated.err;
  std::ifstream keys(key_file_);
  std::string line;
  std::vector<std::string> key_ids;
  while (std::getline(keys, line)) {
    key_ids.push_back(line.substr(0, line.find(' ')));
  }
  ASSERT_EQ(key_ids.size(), 2U);
  auto db = storage::OpenDatabase(database_);
  ASSERT_TRUE(db.ok());
  auto rows = (*db)->Query("SELECT client_secret FROM oauth2_clients", {});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(crypto::KeyRing::KeyIdOf(std::get<std::string>(rows->at(0).at(0))), key_ids[1]);
  // The running server (which loaded only the old key) still serves and updates the provider.
  EXPECT_EQ(call.Call("GET", "/api/data/oauth2/providers/gl", token).status, 200);
  auto patched = call.Call("PATCH", "/api/data/oauth2/providers/gl", token,
                           R"({"client_secret":"second-secret"})");
  EXPECT_EQ(patched.status, 200) << patched.body;
  auto reread = (*db)->Query("SELECT client_secret FROM oauth2_clients", {});
  ASSERT_TRUE(reread.ok());
  EXPECT_EQ(crypto::KeyRing::KeyIdOf(std::get<std::string>(reread->at(0).at(0))), key_ids[1])
      << "a server that saw the rotation seals with the new key";
}

TEST_F(CliTest, ARunningServerSealsWithTheRotatedKeyAndTheOldOneCanBeRetired) {
  auto admin = Run("tokens create --user root --admin");
  ASSERT_EQ(admin.exit_code, 0) << admin.err;
  const std::string token = admin.out.substr(0, admin.out.find('\n'));
  testing::KeybridgeProcess server({"--database", database_, "--key-file", key_file_},
                                   (dir_ / "server.log").string());
  ASSERT_FALSE(server.base_url().empty());
  testing::HttpCaller call(server.base_url());
  const auto provider = [](const std::string& id) {
    return nlohmann::json{{"id", id},
                          {"kind", "gitlab"},
                          {"client_id", "c"},
                          {"client_secret", "secret-of-" + id},
                          {"display_name", id},
                          {"scope", "api"},
                          {"url", "https://" + id + ".example.org"}}
        .dump();
  };
  ASSERT_EQ(call.Call("POST", "/api/data/oauth2/providers", token, provider("before")).status, 201);
  const auto key_ids = [this] {
    std::ifstream keys(key_file_);
    std::vector<std::string> ids;
    for (std::string line; std::getline(keys, line);) {
      ids.push_back(line.substr(0, line.find(' ')));
    }
    return ids;
  };
  auto db = storage::OpenDatabase(database_);
  ASSERT_TRUE(db.ok());
  const auto key_of = [&db](const std::string& id) {
    auto rows = (*db)->Query("SELECT client_secret FROM oauth2_clients WHERE id = $1", {id});
    return rows.ok() && rows->size() == 1
               ? crypto::KeyRing::KeyIdOf(std::get<std::string>(rows->at(0).at(0)))
               : std::string("<no row>");
  };

  auto rotated = Run("keys rotate");
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  const std::vector<std::string> ids = key_ids();
  ASSERT_EQ(ids.size(), 2U);
  const std::string& old_key = ids[0];
  const std::string& new_key = ids[1];
  // The rotation has waited out the server's reload interval: the next secret the server seals,
  // without ever having met a value under the new key, is sealed with it.
  ASSERT_EQ(call.Call("POST", "/api/data/oauth2/providers", token, provider("after")).status, 201);

  EXPECT_EQ(key_of("after"), new_key) << "the running server still sealed with the old key";
  EXPECT_EQ(key_of("before"), new_key);
  auto listed = Run("keys list");
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find(old_key + "\tno\t0\n"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find(new_key + "\tyes\t2\n"), std::string::npos) << listed.out;
  auto retire_active = Run("keys retire " + new_key);
  EXPECT_EQ(retire_active.exit_code, 1);
  EXPECT_NE(retire_active.err.find("is the active key"), std::string::npos) << retire_active.err;
  auto retired = Run("keys retire " + old_key);
  ASSERT_EQ(retired.exit_code, 0) << retired.err;
  EXPECT_EQ(key_ids(), std::vector<std::string>{new_key});
  // The server still opens every secret: a write makes it read the integrations again.
  auto patched = call.Call("PATCH", "/api/data/oauth2/providers/before", token,
                           R"({"display_name":"renamed after the retirement"})");
  EXPECT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(call.Call("GET", "/api/data/oauth2/providers/before", token).status, 200);
  EXPECT_EQ(call.Call("GET", "/api/data/oauth2/providers/after", token).status, 200);
  auto all = call.Call("GET", "/api/data/oauth2/providers", token);
  EXPECT_EQ(all.status, 200) << all.body;
}

TEST_F(CliTest, KeysRetireRefusesAKeyStoredSecretsStillNeed) {
  auto admin = Run("tokens create --user root --admin");
  ASSERT_EQ(admin.exit_code, 0) << admin.err;
  const std::string token = admin.out.substr(0, admin.out.find('\n'));
  {
    testing::KeybridgeProcess server({"--database", database_, "--key-file", key_file_},
                                     (dir_ / "server.log").string());
    ASSERT_FALSE(server.base_url().empty());
    nlohmann::json provider = {{"id", "gl"},
                               {"kind", "gitlab"},
                               {"client_id", "c"},
                               {"client_secret", "s"},
                               {"display_name", "G"},
                               {"scope", "api"},
                               {"url", "https://gitlab.example.org"}};
    ASSERT_EQ(testing::HttpCaller(server.base_url())
                  .Call("POST", "/api/data/oauth2/providers", token, provider.dump())
                  .status,
              201);
  }
  std::ifstream keys(key_file_);
  std::string line;
  ASSERT_TRUE(std::getline(keys, line));
  const std::string old_key = line.substr(0, line.find(' '));
  // A new active key without re-encryption: what a rotation that stopped half-way leaves.
  crypto::SystemRandom random;
  auto ring = crypto::KeyRing::LoadOrCreate(key_file_, random);
  ASSERT_TRUE(ring.ok());
  ASSERT_TRUE((*ring)->Rotate().ok());

  auto refused = Run("keys retire " + old_key);
  auto unknown = Run("keys retire 0badc0de");

  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("1 stored value (1 in oauth2_clients.client_secret)"),
            std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("keybridge keys rotate"), std::string::npos) << refused.err;
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("not in the key file"), std::string::npos) << unknown.err;
  auto list = Run("keys list");
  EXPECT_NE(list.out.find(old_key + "\tno\t1\n"), std::string::npos) << list.out;
}

// Rotation in steps (replicas with copies of the key file): stage, activate, re-encrypt, retire,
// each visible in `keys list`.
TEST_F(CliTest, AKeyIsStagedActivatedReencryptedUnderAndTheOldOneRetired) {
  {
    std::ofstream(dir_ / "gl-secret") << "secret-of-gl\n";
    std::ofstream(dir_ / "integrations.json")
        << R"({"integrations": [{"id": "gl", "kind": "gitlab", "display_name": "G",
             "url": "https://gitlab.example.org", "client_id": "c", "scope": "api",
             "client_secret_file": "gl-secret"}]})";
  }
  auto applied = Run("integrations apply -f '" + (dir_ / "integrations.json").string() + "'");
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  auto before = Run("keys list");
  const std::string old_key = before.out.substr(before.out.find('\n') + 1, 8);

  auto staged = Run("keys stage");
  ASSERT_EQ(staged.exit_code, 0) << staged.err;
  const std::string new_key = staged.out.substr(0, staged.out.find('\n'));
  auto after_stage = Run("keys list");
  auto activate_unknown = Run("keys activate 0badc0de");
  auto activated = Run("keys activate " + new_key);
  auto after_activate = Run("keys list");
  auto reencrypted = Run("keys reencrypt");
  auto after_reencrypt = Run("keys list");
  auto retired = Run("keys retire " + old_key);
  auto after_retire = Run("keys list");

  ASSERT_EQ(new_key.size(), 8U) << staged.out;
  EXPECT_NE(staged.err.find("keybridge keys activate " + new_key), std::string::npos) << staged.err;
  EXPECT_NE(after_stage.out.find(old_key + "\tyes\t1\n"), std::string::npos) << after_stage.out;
  EXPECT_NE(after_stage.out.find(new_key + "\tno\t0\n"), std::string::npos) << after_stage.out;
  EXPECT_EQ(activate_unknown.exit_code, 1);
  EXPECT_NE(activate_unknown.err.find("not in the key file"), std::string::npos);
  ASSERT_EQ(activated.exit_code, 0) << activated.err;
  EXPECT_NE(after_activate.out.find(new_key + "\tyes\t0\n"), std::string::npos)
      << after_activate.out;
  EXPECT_NE(after_activate.out.find(old_key + "\tno\t1\n"), std::string::npos)
      << after_activate.out;
  ASSERT_EQ(reencrypted.exit_code, 0) << reencrypted.err;
  EXPECT_NE(reencrypted.err.find("re-encrypted 1 secrets"), std::string::npos) << reencrypted.err;
  EXPECT_NE(after_reencrypt.out.find(new_key + "\tyes\t1\n"), std::string::npos)
      << after_reencrypt.out;
  ASSERT_EQ(retired.exit_code, 0) << retired.err;
  EXPECT_EQ(after_retire.out, "KEY\tACTIVE\tVALUES\n" + new_key + "\tyes\t1\n");
}

}  // namespace
}  // namespace keybridge
