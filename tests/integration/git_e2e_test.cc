// Real git through keybridge: the git CLI, configured exactly as a session would be (the
// `keybridge git-credential` helper and a session token), clones from and pushes to the fake
// GitLab, whose repositories are served by `git http-backend` and demand a currently valid
// OAuth token, just like GitLab.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fakes/fake_github.h"
#include "fakes/fake_gitlab.h"
#include "fakes/git_http_backend.h"
#include "integration/harness.h"
#include "support/fake_clock.h"

namespace keybridge {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Runs the real git CLI as a session would: the keybridge credential helper (with path-aware
// matching) and a session token in the environment. `cwd` empty means `home`.
fakes::ProcessResult GitInSession(const fs::path& home, const std::string& keybridge_url,
                                  const std::string& session_token, std::vector<std::string> args,
                                  const fs::path& cwd = {}) {
  std::vector<std::string> argv = {"git",
                                   "-C",
                                   (cwd.empty() ? home : cwd).string(),
                                   "-c",
                                   "credential.helper=!" KEYBRIDGE_BINARY_PATH " git-credential",
                                   "-c",
                                   "credential.useHttpPath=true",
                                   "-c",
                                   "user.name=Alice",
                                   "-c",
                                   "user.email=alice@example.org"};
  argv.insert(argv.end(), args.begin(), args.end());
  return fakes::RunProcess(argv,
                           {"HOME=" + home.string(), "PATH=/usr/bin:/bin", "GIT_TERMINAL_PROMPT=0",
                            "GIT_CONFIG_NOSYSTEM=1", "KEYBRIDGE_URL=" + keybridge_url,
                            "KEYBRIDGE_TOKEN=" + session_token});
}

class GitEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gitlab_.SetRedirectUris({kb_.BaseUrl() + "/api/data/oauth2/callback"});
    kb_.CreateProvider({{"id", "gitlab"},
                        {"kind", "gitlab"},
                        {"client_id", gitlab_.AppOptions().client_id},
                        {"client_secret", gitlab_.AppOptions().client_secret},
                        {"display_name", "Fake GitLab"},
                        {"scope", "api"},
                        {"url", gitlab_.BaseUrl()}});
    fakes::GitLabProject writable;
    writable.path_with_namespace = "group/writable";
    writable.members = {{1, fakes::kGitLabDeveloper}};
    gitlab_.AddProject(writable);
    gitlab_.SeedRepository("group/writable", {{"README.md", "hello\n"}});
    fakes::GitLabProject readonly;
    readonly.path_with_namespace = "group/readonly";
    readonly.members = {{1, fakes::kGitLabReporter}};
    gitlab_.AddProject(readonly);
    gitlab_.SeedRepository("group/readonly", {{"README.md", "read me\n"}});

    // GitLab issues one-minute tokens here: every git operation needs keybridge to refresh.
    gitlab_.SetAccessTokenLifetime(core::Seconds(60));
    const std::string alice = kb_.issuer().TokenFor("alice");
    ASSERT_EQ(kb_.Connect(alice, "gitlab").status, 200);
    json mint = {
        {"session_name", "jupyter-1"},
        {"ttl_seconds", 3600},
        {"repository_urls", {gitlab_.GitUrl("group/writable"), gitlab_.GitUrl("group/readonly")}}};
    auto minted = kb_.Call("POST", "/api/data/sessions/tokens", alice, mint.dump());
    ASSERT_EQ(minted.status, 201) << minted.body;
    session_token_ = json::parse(minted.body)["token"];

    home_ = kb_.dir() / "home";
    fs::create_directories(home_);
  }

  fakes::ProcessResult Git(std::vector<std::string> args, const fs::path& cwd = {}) {
    return GitInSession(home_, kb_.BaseUrl(), session_token_, std::move(args), cwd);
  }

  testing::FakeClock provider_clock_{std::chrono::system_clock::now()};
  fakes::FakeGitLab gitlab_{provider_clock_};
  testing::KeybridgeHarness kb_;
  std::string session_token_;
  fs::path home_;
};

TEST_F(GitEndToEndTest, CloneCommitPushAndPushAgainAfterTheTokenExpired) {
  auto clone = Git({"clone", gitlab_.GitUrl("group/writable"), "work"});
  ASSERT_TRUE(clone.ok()) << clone.err;
  const fs::path work = home_ / "work";
  std::ofstream(work / "notes.txt") << "first\n";
  ASSERT_TRUE(Git({"add", "notes.txt"}, work).ok());
  ASSERT_TRUE(Git({"commit", "-m", "first"}, work).ok());

  auto push = Git({"push", "origin", "HEAD"}, work);

  ASSERT_TRUE(push.ok()) << push.err;
  EXPECT_EQ(gitlab_.ReadFileFromHead("group/writable", "notes.txt"), "first\n");

  // Two minutes later at GitLab every token keybridge handed out so far is dead.
  provider_clock_.Advance(core::Seconds(120));
  const int refreshes = gitlab_.RefreshRequestCount();
  std::ofstream(work / "notes.txt") << "second\n";
  ASSERT_TRUE(Git({"commit", "-am", "second"}, work).ok());

  auto later = Git({"push", "origin", "HEAD"}, work);

  ASSERT_TRUE(later.ok()) << later.err;
  EXPECT_EQ(gitlab_.ReadFileFromHead("group/writable", "notes.txt"), "second\n");
  EXPECT_GT(gitlab_.RefreshRequestCount(), refreshes) << "keybridge refreshed behind git's back";
  EXPECT_EQ(later.err.find(session_token_), std::string::npos);
}

TEST_F(GitEndToEndTest, PushWithoutPermissionFailsWithGitsNormalError) {
  ASSERT_TRUE(Git({"clone", gitlab_.GitUrl("group/readonly"), "ro"}).ok());
  const fs::path work = home_ / "ro";
  std::ofstream(work / "x.txt") << "x\n";
  ASSERT_TRUE(Git({"add", "x.txt"}, work).ok());
  ASSERT_TRUE(Git({"commit", "-m", "x"}, work).ok());

  auto push = Git({"push", "origin", "HEAD"}, work);

  EXPECT_FALSE(push.ok());
  EXPECT_NE(push.err.find("You are not allowed to push code to this project."), std::string::npos)
      << push.err;
  EXPECT_EQ(gitlab_.ReadFileFromHead("group/readonly", "x.txt"), std::nullopt);
}

// The same through a GitHub App on GitHub Enterprise Server (git user name x-access-token).
class GitHubEnterpriseGitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    github_.SetRedirectUris({kb_.BaseUrl() + "/api/data/oauth2/callback"});
    kb_.CreateProvider({{"id", "ghe"},
                        {"kind", "github"},
                        {"app_slug", "keybridge-test"},
                        {"client_id", github_.AppOptions().client_id},
                        {"client_secret", github_.AppOptions().client_secret},
                        {"display_name", "Fake GHE"},
                        {"scope", ""},
                        {"url", github_.BaseUrl()}});
    fakes::GitHubInstallation installation;
    installation.account_login = "alice";
    installation.account_id = 1;
    installation.user_ids = {1};
    const auto installation_id = github_.AddInstallation(installation);
    fakes::GitHubRepository repo;
    repo.full_name = "alice/notes";
    repo.installation_id = installation_id;
    fakes::GitHubRepoPermissions write;
    write.push = true;
    repo.collaborators = {{1, write}};
    github_.AddRepository(repo);
    github_.SeedRepository("alice/notes", {{"README.md", "hi\n"}});
    github_.SetAccessTokenLifetime(core::Seconds(60));
    const std::string alice = kb_.issuer().TokenFor("alice");
    ASSERT_EQ(kb_.Connect(alice, "ghe").status, 200);
    json mint = {{"session_name", "jupyter-2"},
                 {"ttl_seconds", 3600},
                 {"repository_urls", {github_.GitUrl("alice/notes")}}};
    auto minted = kb_.Call("POST", "/api/data/sessions/tokens", alice, mint.dump());
    ASSERT_EQ(minted.status, 201) << minted.body;
    session_token_ = json::parse(minted.body)["token"];
    home_ = kb_.dir() / "home";
    fs::create_directories(home_);
  }

  fakes::ProcessResult Git(std::vector<std::string> args, const fs::path& cwd = {}) {
    return GitInSession(home_, kb_.BaseUrl(), session_token_, std::move(args), cwd);
  }

  testing::FakeClock provider_clock_{std::chrono::system_clock::now()};
  fakes::FakeGitHub github_{provider_clock_, [] {
                              fakes::FakeGitHub::Options o;
                              o.enterprise = true;
                              return o;
                            }()};
  testing::KeybridgeHarness kb_;
  std::string session_token_;
  fs::path home_;
};

TEST_F(GitHubEnterpriseGitTest, CloneAndPushWithTheAppsUserToken) {
  ASSERT_TRUE(Git({"clone", github_.GitUrl("alice/notes"), "notes"}).ok());
  const fs::path work = home_ / "notes";
  std::ofstream(work / "todo.txt") << "ship it\n";
  ASSERT_TRUE(Git({"add", "todo.txt"}, work).ok());
  ASSERT_TRUE(Git({"commit", "-m", "todo"}, work).ok());
  provider_clock_.Advance(core::Seconds(120));

  auto push = Git({"push", "origin", "HEAD"}, work);

  ASSERT_TRUE(push.ok()) << push.err;
  EXPECT_EQ(github_.ReadFileFromHead("alice/notes", "todo.txt"), "ship it\n");
  const auto users = github_.GitUsernames();
  ASSERT_FALSE(users.empty());
  for (const auto& user : users) {
    EXPECT_EQ(user, "x-access-token");
  }
}

}  // namespace
}  // namespace keybridge
