// Real git through keybridge: the git CLI, configured exactly as a session would be (the
// `keybridge git-credential` helper and a session token), clones from and pushes to the fake
// GitLab, whose repositories are served by `git http-backend` and demand a currently valid
// OAuth token, just like GitLab.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>

#include "fakes/fake_github.h"
#include "fakes/fake_gitlab.h"
#include "fakes/git_http_backend.h"
#include "integration/harness.h"
#include "integration/keybridge_process.h"
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
  std::vector<std::string> argv = {
      "git",
      "-C",
      (cwd.empty() ? home : cwd).string(),
      "-c",
      std::string("credential.helper=!") + KEYBRIDGE_BINARY_PATH + " git-credential",
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

// Runs the real git CLI pointed at keybridge git-proxy as a session would be: an insteadOf rule
// maps the integration's URL to the proxy; git itself never sees a token or a credential helper.
fakes::ProcessResult GitThroughProxy(const fs::path& home, const std::string& proxy_url,
                                     const std::string& provider_id,
                                     const std::string& provider_url, std::vector<std::string> args,
                                     const fs::path& cwd = {}) {
  std::vector<std::string> argv = {
      "git",
      "-C",
      (cwd.empty() ? home : cwd).string(),
      "-c",
      "url." + proxy_url + "/" + provider_id + "/.insteadOf=" + provider_url + "/",
      "-c",
      "user.name=Alice",
      "-c",
      "user.email=alice@example.org"};
  argv.insert(argv.end(), args.begin(), args.end());
  return fakes::RunProcess(argv, {"HOME=" + home.string(), "PATH=/usr/bin:/bin",
                                  "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1"});
}

// `keybridge git-proxy` as a session starts it: KEYBRIDGE_URL and the session token.
std::unique_ptr<testing::KeybridgeProcess> StartGitProxy(const std::string& keybridge_url,
                                                         const std::string& session_token,
                                                         const fs::path& log) {
  return std::make_unique<testing::KeybridgeProcess>(
      std::vector<std::string>{"--log-format", "json", "--log-level", "debug", "git-proxy",
                               "--listen", "127.0.0.1:0"},
      log.string(), "keybridge git-proxy ready on ",
      std::vector<std::string>{"KEYBRIDGE_URL=" + keybridge_url,
                               "KEYBRIDGE_TOKEN=" + session_token});
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Incompressible bytes, so the pack is as large as the file and git streams it chunked.
std::string RandomBytes(std::size_t size) {
  std::string bytes(size, '\0');
  std::uint64_t state = 0x9E3779B97F4A7C15ULL;
  for (char& c : bytes) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    c = static_cast<char>(state & 0xff);
  }
  return bytes;
}

// Mints a session token for alice scoped to `repositories`; "" (and a test failure) if refused.
std::string MintSessionToken(testing::KeybridgeHarness& kb, const std::string& session_name,
                             const std::vector<std::string>& repositories) {
  const json mint = {
      {"session_name", session_name}, {"ttl_seconds", 3600}, {"repository_urls", repositories}};
  auto minted =
      kb.Call("POST", "/api/data/sessions/tokens", kb.issuer().TokenFor("alice"), mint.dump());
  EXPECT_EQ(minted.status, 201) << minted.body;
  return minted.status == 201 ? json::parse(minted.body).value("token", "") : "";
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

    // GitLab issues two-second tokens here, so keybridge must refresh during the tests.
    gitlab_.SetAccessTokenLifetime(testing::kShortTokenLifetime);
    const std::string alice = kb_.issuer().TokenFor("alice");
    ASSERT_EQ(kb_.Connect(alice, "gitlab").status, 200);
    session_token_ = MintSessionToken(
        kb_, "jupyter-1", {gitlab_.GitUrl("group/writable"), gitlab_.GitUrl("group/readonly")});
    ASSERT_FALSE(session_token_.empty());

    home_ = kb_.dir() / "home";
    fs::create_directories(home_);
  }

  fakes::ProcessResult Git(std::vector<std::string> args, const fs::path& cwd = {}) {
    return GitInSession(home_, kb_.BaseUrl(), session_token_, std::move(args), cwd);
  }
  fakes::ProcessResult ProxiedGit(const testing::KeybridgeProcess& proxy,
                                  std::vector<std::string> args, const fs::path& cwd = {}) {
    return GitThroughProxy(home_, proxy.base_url(), "gitlab", gitlab_.BaseUrl(), std::move(args),
                           cwd);
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
  testing::WaitUntilShortTokensNeedRefresh();  // and on keybridge's clock
  const int refreshes = gitlab_.RefreshRequestCount();
  std::ofstream(work / "notes.txt") << "second\n";
  ASSERT_TRUE(Git({"commit", "-am", "second"}, work).ok());

  auto later = Git({"push", "origin", "HEAD"}, work);

  ASSERT_TRUE(later.ok()) << later.err;
  EXPECT_EQ(gitlab_.ReadFileFromHead("group/writable", "notes.txt"), "second\n");
  EXPECT_GT(gitlab_.RefreshRequestCount(), refreshes) << "keybridge refreshed behind git's back";
  EXPECT_EQ(later.err.find(session_token_), std::string::npos);

  gitlab_.SeedRepository("group/writable", {{"upstream.txt", "from elsewhere\n"}}, "elsewhere");
  auto pull = Git({"pull", "--ff-only", "origin", "main"}, work);
  ASSERT_TRUE(pull.ok()) << pull.err;
  EXPECT_EQ(ReadFile(work / "upstream.txt"), "from elsewhere\n");
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

TEST_F(GitEndToEndTest, ThroughTheProxyCloneCommitPushPullAfterTheTokenExpired) {
  const fs::path log = kb_.dir() / "git-proxy.log";
  auto proxy = StartGitProxy(kb_.BaseUrl(), session_token_, log);
  ASSERT_FALSE(proxy->base_url().empty()) << ReadFile(log);

  auto clone = ProxiedGit(*proxy, {"clone", gitlab_.GitUrl("group/writable"), "viaproxy"});
  ASSERT_TRUE(clone.ok()) << clone.err << ReadFile(log);
  const fs::path work = home_ / "viaproxy";
  // 3 MiB of noise: more than git's 1 MiB http.postBuffer, so the push is a chunked upload.
  std::ofstream(work / "data.bin", std::ios::binary) << RandomBytes(std::size_t{3} << 20);
  ASSERT_TRUE(ProxiedGit(*proxy, {"add", "data.bin"}, work).ok());
  ASSERT_TRUE(ProxiedGit(*proxy, {"commit", "-m", "data"}, work).ok());

  auto push = ProxiedGit(*proxy, {"push", "origin", "HEAD"}, work);

  ASSERT_TRUE(push.ok()) << push.err << ReadFile(log);
  EXPECT_EQ(gitlab_.ReadFileFromHead("group/writable", "data.bin")->size(), std::size_t{3} << 20);

  // Every token GitLab issued so far dies; the proxy's cached one too.
  provider_clock_.Advance(core::Seconds(120));
  testing::WaitUntilShortTokensNeedRefresh();  // and on keybridge's clock
  const int refreshes = gitlab_.RefreshRequestCount();
  std::ofstream(work / "notes.txt") << "through the proxy\n";
  ASSERT_TRUE(ProxiedGit(*proxy, {"add", "notes.txt"}, work).ok());
  ASSERT_TRUE(ProxiedGit(*proxy, {"commit", "-m", "notes"}, work).ok());
  auto later = ProxiedGit(*proxy, {"push", "origin", "HEAD"}, work);
  ASSERT_TRUE(later.ok()) << later.err << ReadFile(log);
  EXPECT_EQ(gitlab_.ReadFileFromHead("group/writable", "notes.txt"), "through the proxy\n");
  EXPECT_GT(gitlab_.RefreshRequestCount(), refreshes);

  // Someone else pushes; pull brings it in.
  gitlab_.SeedRepository("group/writable", {{"upstream.txt", "from elsewhere\n"}}, "elsewhere");
  auto pull = ProxiedGit(*proxy, {"pull", "--ff-only", "origin", "main"}, work);
  ASSERT_TRUE(pull.ok()) << pull.err;
  EXPECT_EQ(ReadFile(work / "upstream.txt"), "from elsewhere\n");

  // GitLab saw the proxy's Basic oauth2 credentials; git and the log never saw a token.
  bool saw_basic = false;
  for (const auto& request : gitlab_.Requests()) {
    saw_basic = saw_basic || request.Header("authorization").starts_with("Basic ");
  }
  EXPECT_TRUE(saw_basic);
  const std::string proxy_log = ReadFile(log);
  EXPECT_NE(proxy_log.find("git-receive-pack"), std::string::npos) << "one line per request";
  EXPECT_EQ(proxy_log.find(session_token_), std::string::npos);
  EXPECT_EQ(proxy_log.find("Basic "), std::string::npos);
  EXPECT_EQ(proxy_log.find("Bearer "), std::string::npos);
  EXPECT_EQ(push.err.find("oauth2"), std::string::npos);
}

TEST_F(GitEndToEndTest, ThroughTheProxyAPushWithoutPermissionFailsWithGitLabsMessage) {
  auto proxy = StartGitProxy(kb_.BaseUrl(), session_token_, kb_.dir() / "proxy.log");
  ASSERT_TRUE(ProxiedGit(*proxy, {"clone", gitlab_.GitUrl("group/readonly"), "ro"}).ok());
  const fs::path work = home_ / "ro";
  std::ofstream(work / "x.txt") << "x\n";
  ASSERT_TRUE(ProxiedGit(*proxy, {"add", "x.txt"}, work).ok());
  ASSERT_TRUE(ProxiedGit(*proxy, {"commit", "-m", "x"}, work).ok());

  auto push = ProxiedGit(*proxy, {"push", "origin", "HEAD"}, work);

  EXPECT_FALSE(push.ok());
  EXPECT_NE(push.err.find("You are not allowed to push code to this project."), std::string::npos)
      << push.err;
  EXPECT_EQ(gitlab_.ReadFileFromHead("group/readonly", "x.txt"), std::nullopt);
}

TEST_F(GitEndToEndTest, ASessionScopedToRepositoryAGetsNoTokenForRepositoryB) {
  const std::string only_writable =
      MintSessionToken(kb_, "scoped", {gitlab_.GitUrl("group/writable")});
  auto proxy = StartGitProxy(kb_.BaseUrl(), only_writable, kb_.dir() / "scoped-proxy.log");

  auto allowed = ProxiedGit(*proxy, {"clone", gitlab_.GitUrl("group/writable"), "a"});
  auto proxied = ProxiedGit(*proxy, {"clone", gitlab_.GitUrl("group/readonly"), "b1"});
  auto helped = GitInSession(home_, kb_.BaseUrl(), only_writable,
                             {"clone", gitlab_.GitUrl("group/readonly"), "b2"});

  EXPECT_TRUE(allowed.ok()) << allowed.err;
  EXPECT_FALSE(proxied.ok());
  EXPECT_NE(proxied.err.find("scoped to other repositories"), std::string::npos) << proxied.err;
  EXPECT_FALSE(helped.ok());
  EXPECT_NE(helped.err.find("scoped to other repositories"), std::string::npos) << helped.err;
  EXPECT_FALSE(fs::exists(home_ / "b1" / "README.md"));
  EXPECT_FALSE(fs::exists(home_ / "b2" / "README.md"));
}

TEST_F(GitEndToEndTest, TheProxyRefusesPathsThatLeaveTheIntegration) {
  auto proxy = StartGitProxy(kb_.BaseUrl(), session_token_, kb_.dir() / "paths.log");
  for (const std::string path :
       {"/gitlab/group/..%2fwritable/info/refs?service=git-upload-pack",
        "/gitlab/../gitlab/group/writable/info/refs?service=git-upload-pack",
        "/gitlab/api/v4/user"}) {
    auto response = fakes::RunProcess({"curl", "-s", "--path-as-is", "-o", "/dev/null", "-w",
                                       "%{http_code}", proxy->base_url() + path},
                                      {"PATH=/usr/bin:/bin"});
    EXPECT_EQ(response.out, "400") << path;
  }
  EXPECT_TRUE(gitlab_.Requests().empty() || gitlab_.RequestsTo("/user").empty());
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
    // A private repository of an organisation that has not installed the App.
    fakes::GitHubRepository outside;
    outside.full_name = "bob-org/private";
    outside.collaborators = {{1, write}};
    github_.AddRepository(outside);
    github_.SeedRepository("bob-org/private", {{"README.md", "secret\n"}});
    github_.SetAccessTokenLifetime(testing::kShortTokenLifetime);
    const std::string alice = kb_.issuer().TokenFor("alice");
    ASSERT_EQ(kb_.Connect(alice, "ghe").status, 200);
    session_token_ = MintSessionToken(
        kb_, "jupyter-2", {github_.GitUrl("alice/notes"), github_.GitUrl("bob-org/private")});
    ASSERT_FALSE(session_token_.empty());
    home_ = kb_.dir() / "home";
    fs::create_directories(home_);
  }

  fakes::ProcessResult Git(std::vector<std::string> args, const fs::path& cwd = {}) {
    return GitInSession(home_, kb_.BaseUrl(), session_token_, std::move(args), cwd);
  }

  fakes::ProcessResult ProxiedGit(const testing::KeybridgeProcess& proxy,
                                  std::vector<std::string> args, const fs::path& cwd = {}) {
    return GitThroughProxy(home_, proxy.base_url(), "ghe", github_.BaseUrl(), std::move(args), cwd);
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
  testing::WaitUntilShortTokensNeedRefresh();  // and on keybridge's clock

  auto push = Git({"push", "origin", "HEAD"}, work);

  ASSERT_TRUE(push.ok()) << push.err;
  EXPECT_EQ(github_.ReadFileFromHead("alice/notes", "todo.txt"), "ship it\n");
  const auto users = github_.GitUsernames();
  ASSERT_FALSE(users.empty());
  for (const auto& user : users) {
    EXPECT_EQ(user, "x-access-token");
  }
}

TEST_F(GitHubEnterpriseGitTest, ThroughTheProxyCloneAndPushWithTheAppsUserToken) {
  auto proxy = StartGitProxy(kb_.BaseUrl(), session_token_, kb_.dir() / "ghe-proxy.log");
  ASSERT_TRUE(ProxiedGit(*proxy, {"clone", github_.GitUrl("alice/notes"), "pnotes"}).ok());
  const fs::path work = home_ / "pnotes";
  std::ofstream(work / "proxy.txt") << "via proxy\n";
  ASSERT_TRUE(ProxiedGit(*proxy, {"add", "proxy.txt"}, work).ok());
  ASSERT_TRUE(ProxiedGit(*proxy, {"commit", "-m", "proxy"}, work).ok());
  provider_clock_.Advance(core::Seconds(120));
  testing::WaitUntilShortTokensNeedRefresh();  // and on keybridge's clock

  auto push = ProxiedGit(*proxy, {"push", "origin", "HEAD"}, work);

  ASSERT_TRUE(push.ok()) << push.err;
  EXPECT_EQ(github_.ReadFileFromHead("alice/notes", "proxy.txt"), "via proxy\n");
  for (const auto& user : github_.GitUsernames()) {
    EXPECT_EQ(user, "x-access-token");
  }
}

// GHES install URLs live under /github-apps/<slug> (GitHub Enterprise Server docs: "Installing your
// own GitHub App").
TEST_F(GitHubEnterpriseGitTest, ARepositoryOutsideTheInstallationNamesTheInstallUrl) {
  const std::string install_url =
      github_.BaseUrl() + "/github-apps/keybridge-test/installations/new";
  auto proxy = StartGitProxy(kb_.BaseUrl(), session_token_, kb_.dir() / "ghe-outside.log");

  ASSERT_TRUE(Git({"clone", github_.GitUrl("alice/notes"), "mine"}).ok());
  const fs::path work = home_ / "mine";

  auto proxied = ProxiedGit(*proxy, {"clone", github_.GitUrl("bob-org/private"), "p1"});
  auto helped = Git({"clone", github_.GitUrl("bob-org/private"), "p2"});
  auto proxied_push =
      ProxiedGit(*proxy, {"push", github_.GitUrl("bob-org/private"), "HEAD:refs/heads/x"}, work);
  auto helped_push = Git({"push", github_.GitUrl("bob-org/private"), "HEAD:refs/heads/x"}, work);

  for (const auto* result : {&proxied, &helped, &proxied_push, &helped_push}) {
    EXPECT_FALSE(result->ok());
    EXPECT_NE(result->err.find(install_url), std::string::npos) << result->err;
  }
  EXPECT_EQ(github_.ReadFileFromHead("bob-org/private", "README.md"), "secret\n");
}

}  // namespace
}  // namespace keybridge
