// Integrations as code with the real binary: `keybridge integrations apply|list|check` and
// `keybridge serve --integrations-file` (service/integration_file.h), as an operator who keeps
// the integrations file in git runs them.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "crypto/key_ring.h"
#include "crypto/system_random.h"
#include "fakes/fake_gitlab.h"
#include "integration/harness.h"
#include "integration/keybridge_process.h"
#include "storage/store.h"
#include "support/fake_clock.h"

namespace keybridge {
namespace {

using nlohmann::json;

using testing::CommandResult;

class IntegrationsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path()
           / ("keybridge-intfile-" + std::to_string(::getpid()) + "-"
              + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "secrets");
    database_ = "sqlite://" + (dir_ / "kb.db").string();
    key_file_ = (dir_ / "kb.key").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `env` keybridge `args` with the test's --database and --key-file.
  CommandResult Run(const std::string& args, const std::string& env = "") {
    return testing::RunShellCommand(env + " " + std::string(KEYBRIDGE_BINARY_PATH)
                                        + " --log-format json " + args + " --database '" + database_
                                        + "' --key-file '" + key_file_ + "'",
                                    (dir_ / "stderr.txt").string());
  }

  std::string Write(const std::string& name, const std::string& text) {
    const std::filesystem::path path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  static json GitLab(const std::string& display_name = "Our GitLab") {
    return {{"id", "gl"},
            {"kind", "gitlab"},
            {"display_name", display_name},
            {"url", "https://gitlab.example.org"},
            {"client_id", "gl-client"},
            {"client_secret_env", "TEST_GL_SECRET"},
            {"scope", "read_api read_repository"}};
  }
  static json Zenodo() {
    return {{"id", "zenodo"},
            {"kind", "zenodo"},
            {"display_name", "Zenodo"},
            {"url", "https://zenodo.org"},
            {"client_id", "zen-client"},
            {"client_secret_file", "secrets/zenodo.txt"},
            {"scope", "deposit:write deposit:actions"}};
  }
  std::string File(const std::vector<json>& entries) {
    return Write("integrations.json", json{{"integrations", json(entries)}}.dump(2));
  }

  // The stored secret of `id`, read with the key file (never printed by keybridge).
  std::string StoredSecret(const std::string& id) {
    crypto::SystemRandom random;
    auto keys = crypto::KeyRing::LoadOrCreate(key_file_, random);
    EXPECT_TRUE(keys.ok());
    auto store = storage::OpenStore(database_, **keys);
    EXPECT_TRUE(store.ok());
    auto found = (*store)->providers->Find(core::ProviderId(id));
    if (!found.ok() || !found->client_secret) {
      return "<none>";
    }
    return found->client_secret->Reveal();
  }

  static constexpr const char* kEnv = "TEST_GL_SECRET=gl-secret-from-env";

  std::filesystem::path dir_;
  std::string database_;
  std::string key_file_;
};

TEST_F(IntegrationsFileTest, ApplyIsIdempotentAndListFormatFileAppliesWithoutChange) {
  Write("secrets/zenodo.txt", "zenodo-secret-from-file\n");
  const std::string file = File({GitLab(), Zenodo()});

  auto first = Run("integrations apply -f '" + file + "'", kEnv);
  auto second = Run("integrations apply -f '" + file + "'", kEnv);
  auto listed = Run("integrations list --format file");
  const std::string again = Write("listed.json", listed.out);
  auto third = Run("integrations apply -f '" + again + "'", kEnv);

  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, "create gl\ncreate zenodo\n");
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, "no changes\n");
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find(R"("client_secret_env": "TEST_GL_SECRET")"), std::string::npos)
      << listed.out;
  EXPECT_NE(listed.out.find(R"("client_secret_file": "secrets/zenodo.txt")"), std::string::npos)
      << listed.out;
  EXPECT_EQ(third.exit_code, 0) << third.err;
  EXPECT_EQ(third.out, "no changes\n");
  EXPECT_EQ(StoredSecret("gl"), "gl-secret-from-env");
  EXPECT_EQ(StoredSecret("zenodo"), "zenodo-secret-from-file") << "one trailing newline dropped";
  for (const auto* result : {&first, &second, &listed, &third}) {
    EXPECT_EQ(result->out.find("secret-from"), std::string::npos) << result->out;
    EXPECT_EQ(result->err.find("secret-from"), std::string::npos) << result->err;
  }
  auto changed = Run("integrations apply -f '" + file + "'", "TEST_GL_SECRET=rotated-secret");
  EXPECT_EQ(changed.out, "update gl: client_secret: changed\n") << changed.err;
  EXPECT_EQ(StoredSecret("gl"), "rotated-secret");
}

TEST_F(IntegrationsFileTest, DryRunChangesNothingAndOnlyPruneDeletes) {
  Write("secrets/zenodo.txt", "zenodo-secret");
  ASSERT_EQ(Run("integrations apply -f '" + File({GitLab(), Zenodo()}) + "'", kEnv).exit_code, 0);
  const std::string renamed = File({GitLab("Renamed GitLab")});

  auto dry = Run("integrations apply --dry-run --prune -f '" + renamed + "'", kEnv);
  auto after_dry = Run("integrations list --format json");
  auto kept = Run("integrations apply -f '" + renamed + "'", kEnv);
  auto pruned = Run("integrations apply --prune -f '" + renamed + "'", kEnv);
  auto listed = Run("integrations list");

  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(dry.out,
            "update gl: display_name: \"Our GitLab\" -> \"Renamed GitLab\"\ndelete zenodo\n");
  EXPECT_NE(after_dry.out.find("\"Our GitLab\""), std::string::npos) << after_dry.out;
  EXPECT_NE(after_dry.out.find("\"zenodo\""), std::string::npos) << after_dry.out;
  EXPECT_EQ(kept.out, "update gl: display_name: \"Our GitLab\" -> \"Renamed GitLab\"\n");
  EXPECT_EQ(pruned.out, "delete zenodo\n") << pruned.err;
  EXPECT_NE(listed.out.find("gl\tgitlab"), std::string::npos) << listed.out;
  EXPECT_EQ(listed.out.find("zenodo"), std::string::npos) << listed.out;
}

TEST_F(IntegrationsFileTest, ABadFileNamesTheEntryAndTheFieldAndChangesNothing) {
  json zenodo = Zenodo();
  zenodo["colour"] = "blue";
  auto unknown = Run("integrations apply -f '" + File({GitLab(), zenodo}) + "'", kEnv);
  auto no_env = Run("integrations apply -f '" + File({GitLab()}) + "'");

  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("entry 2 (id 'zenodo')"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("unknown field 'colour'"), std::string::npos) << unknown.err;
  EXPECT_EQ(no_env.exit_code, 1);
  EXPECT_NE(no_env.err.find("TEST_GL_SECRET is not set"), std::string::npos) << no_env.err;
  EXPECT_EQ(Run("integrations list").out.find("gl\t"), std::string::npos)
      << "nothing of an invalid file is applied";
}

TEST_F(IntegrationsFileTest, CheckExitsWithOneWhenACheckFails) {
  testing::FakeClock clock{std::chrono::system_clock::now()};
  fakes::FakeGitLab gitlab(clock);
  json entry = {{"id", "fake-gitlab"},
                {"kind", "gitlab"},
                {"display_name", "Fake GitLab"},
                {"url", gitlab.BaseUrl()},
                {"client_id", gitlab.AppOptions().client_id},
                {"client_secret_file", "secrets/gitlab.txt"},
                {"scope", "api"}};
  const std::string file = File({entry});
  Write("secrets/gitlab.txt", gitlab.AppOptions().client_secret);
  ASSERT_EQ(Run("integrations apply -f '" + file + "'").exit_code, 0);

  auto good = Run("integrations check fake-gitlab");
  Write("secrets/gitlab.txt", "test-only-wrong-secret");
  ASSERT_EQ(Run("integrations apply -f '" + file + "'").out,
            "update fake-gitlab: client_secret: changed\n");
  auto bad = Run("integrations check fake-gitlab --json");

  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_NE(good.out.find("client_credentials\tpass"), std::string::npos) << good.out;
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  const json report = json::parse(bad.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << bad.out;
  EXPECT_EQ(report["ok"], false);
  EXPECT_EQ(bad.out.find("test-only-wrong-secret"), std::string::npos);
  EXPECT_EQ(Run("integrations check nobody").exit_code, 2);
}

TEST_F(IntegrationsFileTest, ServeAppliesTheFileAndTheApiRefusesToChangeWhatItManages) {
  auto admin = Run("tokens create --user root --admin");
  ASSERT_EQ(admin.exit_code, 0) << admin.err;
  const std::string token = admin.out.substr(0, admin.out.find('\n'));
  Write("secrets/zenodo.txt", "zenodo-secret");
  const std::string file = File({Zenodo()});
  testing::KeybridgeProcess server(
      {"--database", database_, "--key-file", key_file_, "--integrations-file", file},
      (dir_ / "server.log").string());
  ASSERT_FALSE(server.base_url().empty());
  testing::HttpCaller call(server.base_url());
  nlohmann::json by_hand = {{"id", "by-hand"},
                            {"kind", "gitlab"},
                            {"client_id", "c"},
                            {"client_secret", "s"},
                            {"display_name", "H"},
                            {"scope", "api"},
                            {"url", "https://gitlab.example.org"}};
  ASSERT_EQ(call.Call("POST", "/api/data/oauth2/providers", token, by_hand.dump()).status, 201);

  auto got = call.Call("GET", "/api/data/oauth2/providers/zenodo", token);
  auto patched = call.Call("PATCH", "/api/data/oauth2/providers/zenodo", token,
                           R"({"display_name":"edited by hand"})");
  auto deleted = call.Call("DELETE", "/api/data/oauth2/providers/zenodo", token);
  auto other = call.Call("PATCH", "/api/data/oauth2/providers/by-hand", token,
                         R"({"display_name":"edited by hand"})");

  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(json::parse(got.body)["managed_by_file"], true);
  EXPECT_EQ(patched.status, 409) << patched.body;
  EXPECT_NE(patched.body.find("managed by the integrations file; change it there and run "
                              "`keybridge integrations apply`"),
            std::string::npos)
      << patched.body;
  EXPECT_EQ(deleted.status, 409) << deleted.body;
  EXPECT_EQ(other.status, 200) << "integrations made by hand stay editable";
  auto listed = Run("integrations list --format file");
  EXPECT_NE(listed.err.find("by-hand was not applied from an integrations file"), std::string::npos)
      << listed.err;
  EXPECT_NE(listed.out.find(R"("client_secret_env": "KEYBRIDGE_SECRET_BY_HAND")"),
            std::string::npos)
      << listed.out;
}

TEST_F(IntegrationsFileTest, ServeRefusesToStartWithAnInvalidFile) {
  json zenodo = Zenodo();
  zenodo["url"] = "ftp://zenodo.org";
  Write("secrets/zenodo.txt", "zenodo-secret");
  const std::string log = (dir_ / "server.log").string();
  {
    testing::KeybridgeProcess server(
        {"--database", database_, "--key-file", key_file_, "--integrations-file", File({zenodo})},
        log);
    EXPECT_TRUE(server.base_url().empty());
  }
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("--integrations-file"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("entry 1 (id 'zenodo')"), std::string::npos) << text.str();
}

}  // namespace
}  // namespace keybridge
