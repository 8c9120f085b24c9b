// Runs the keybridge-fake-providers executable the way scripts do: read its one JSON line, talk
// to the fakes, then stop it by closing stdin or with SIGTERM and expect exit status 0.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fakes/fake_test_client.h"

namespace keybridge::fakes {
namespace {

using json = nlohmann::json;

constexpr char kCallback[] = "http://127.0.0.1:9/api/data/oauth2/callback";

// The child with a pipe on its stdin and its stdout; stderr is inherited (visible in ctest).
class FakeProvidersProcess {
 public:
  explicit FakeProvidersProcess(std::vector<std::string> args) {
    args.insert(args.begin(), KEYBRIDGE_FAKE_PROVIDERS_PATH);
    std::vector<char*> argv;
    for (auto& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    int in[2];
    int out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
      return;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = ::fdopen(out[0], "r");
    if (rc != 0) {
      pid_ = -1;
    }
  }
  ~FakeProvidersProcess() {
    CloseStdin();
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
    if (stdout_ != nullptr) {
      std::fclose(stdout_);
    }
  }
  FakeProvidersProcess(const FakeProvidersProcess&) = delete;
  FakeProvidersProcess& operator=(const FakeProvidersProcess&) = delete;

  // The first line of stdout ("" on EOF).
  std::string ReadLine() {
    std::string line;
    int c = 0;
    while (stdout_ != nullptr && (c = std::fgetc(stdout_)) != EOF && c != '\n') {
      line.push_back(static_cast<char>(c));
    }
    return line;
  }
  // Everything after the first line (the contract is exactly one line).
  std::string ReadRest() {
    std::string rest;
    int c = 0;
    while (stdout_ != nullptr && (c = std::fgetc(stdout_)) != EOF) {
      rest.push_back(static_cast<char>(c));
    }
    return rest;
  }
  void CloseStdin() {
    if (stdin_ >= 0) {
      ::close(stdin_);
      stdin_ = -1;
    }
  }
  void Signal(int signal_number) { ::kill(pid_, signal_number); }
  // The exit status, or -1 if it did not exit normally.
  int Wait() {
    int status = 0;
    if (pid_ <= 0 || ::waitpid(pid_, &status, 0) != pid_) {
      return -1;
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  bool started() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  std::FILE* stdout_ = nullptr;
};

TEST(FakeProvidersProcess, PrintsOneJsonLineAndServesBothProvidersUntilStdinCloses) {
  FakeProvidersProcess process({"--redirect-uri", kCallback, "--gitlab-client-id", "gl-id",
                                "--github-client-id", "gh-id", "--github-app-slug", "my-app",
                                "--user", "bob", "--gitlab-project", "group/project",
                                "--github-repo", "bob/notes", "--github-enterprise"});
  ASSERT_TRUE(process.started());

  const json ready = json::parse(process.ReadLine());

  const std::string gitlab = ready["gitlab"]["url"];
  const std::string github = ready["github"]["url"];
  EXPECT_EQ(ready["gitlab"]["client_id"], "gl-id");
  EXPECT_EQ(ready["gitlab"]["client_secret"], "fake-gitlab-client-secret");
  EXPECT_EQ(ready["github"]["client_id"], "gh-id");
  EXPECT_EQ(ready["github"]["app_slug"], "my-app");
  EXPECT_EQ(ready["github"]["api_url"], github + "/api/v3");
  EXPECT_EQ(ready["github"]["install_url"], github + "/github-apps/my-app/installations/new");
  // The registry token services and the certificate a registry must trust for them.
  EXPECT_EQ(ready["gitlab"]["registry_realm"], gitlab + "/jwt/auth");
  EXPECT_EQ(ready["gitlab"]["registry_issuer"], "gitlab-issuer");
  EXPECT_EQ(ready["github"]["registry_realm"], github + "/token");
  for (const char* fake : {"gitlab", "github"}) {
    std::ifstream pem(ready[fake]["registry_certificate"].get<std::string>());
    const std::string first_line = [&] {
      std::string line;
      std::getline(pem, line);
      return line;
    }();
    EXPECT_EQ(first_line, "-----BEGIN CERTIFICATE-----") << fake;
  }
  TestClient client;
  // Both apps accept the configured callback and auto-approve for the signed-in user.
  auto gl_authorize = client.Get(gitlab + "/oauth/authorize?client_id=gl-id&response_type=code"
                                 + "&state=s1&redirect_uri=" + kCallback);
  EXPECT_EQ(gl_authorize.status, 302) << gl_authorize.body;
  EXPECT_EQ(RedirectTarget(gl_authorize), kCallback);
  auto gh_authorize = client.Get(
      github + "/login/oauth/authorize?client_id=gh-id&state=s2&redirect_uri=" + kCallback);
  EXPECT_EQ(gh_authorize.status, 302) << gh_authorize.body;
  EXPECT_EQ(RedirectTarget(gh_authorize), kCallback);
  EXPECT_EQ(client.Get(std::string(ready["github"]["api_url"]) + "/meta").status, 200);

  process.CloseStdin();

  EXPECT_EQ(process.Wait(), 0);
  EXPECT_EQ(process.ReadRest(), "");
}

// Dropbox, Google and Zenodo: the contract's JSON keys and flag defaults, each fake's own paths
// with the shared --redirect-uri and --user, and their counters in the stats file.
TEST(FakeProvidersProcess, ServesDropboxGoogleAndZenodo) {
  const std::string stats_file = ::testing::TempDir() + "fake-providers-data-stats.json";
  FakeProvidersProcess process({"--redirect-uri", kCallback, "--user", "carol",
                                "--dropbox-client-id", "dbx-id", "--google-client-secret",
                                "g-secret", "--stats-file", stats_file});
  ASSERT_TRUE(process.started());
  const json ready = json::parse(process.ReadLine());
  EXPECT_EQ(ready["dropbox"]["client_id"], "dbx-id");
  EXPECT_EQ(ready["dropbox"]["client_secret"], "fake-dropbox-client-secret");
  EXPECT_EQ(ready["google"]["client_id"], "fake-google-client-id");
  EXPECT_EQ(ready["google"]["client_secret"], "g-secret");
  EXPECT_EQ(ready["zenodo"]["client_id"], "fake-zenodo-client-id");
  EXPECT_EQ(ready["zenodo"]["client_secret"], "fake-zenodo-client-secret");
  TestClient client;
  const std::string dropbox = ready["dropbox"]["url"];
  const std::string google = ready["google"]["url"];
  const std::string zenodo = ready["zenodo"]["url"];

  auto dbx_authorize = client.Get(dropbox + "/oauth2/authorize?client_id=dbx-id&response_type=code"
                                  + "&token_access_type=offline&redirect_uri=" + kCallback);
  auto dbx_tokens =
      client.PostForm(dropbox + "/oauth2/token",
                      {{"grant_type", "authorization_code"},
                       {"code", FindField(RedirectParams(dbx_authorize), "code").value_or("")},
                       {"redirect_uri", kCallback},
                       {"client_id", "dbx-id"},
                       {"client_secret", "fake-dropbox-client-secret"}});
  const std::string access = json::parse(dbx_tokens.body).value("access_token", "");
  auto account = client.Send(
      "POST", dropbox + "/2/users/get_current_account",
      {{"Authorization", "Bearer " + access}, {"Content-Type", "application/json"}}, "null");
  auto google_authorize = client.Get(
      google + "/o/oauth2/v2/auth?client_id=fake-google-client-id&response_type=code"
      + "&scope=openid+email&access_type=offline&prompt=consent&redirect_uri=" + kCallback);
  auto zenodo_authorize =
      client.Get(zenodo + "/oauth/authorize?client_id=fake-zenodo-client-id&response_type=code"
                 + "&scope=deposit:write&redirect_uri=" + kCallback);

  EXPECT_EQ(dbx_tokens.status, 200) << dbx_tokens.body;
  EXPECT_TRUE(json::parse(dbx_tokens.body).contains("refresh_token"));
  EXPECT_EQ(json::parse(dbx_tokens.body)["expires_in"], 14400) << "Dropbox's own lifetime";
  EXPECT_EQ(account.status, 200) << account.body;
  EXPECT_EQ(json::parse(account.body)["email"], "carol@example.com");
  EXPECT_EQ(google_authorize.status, 302) << google_authorize.body;
  EXPECT_EQ(RedirectTarget(google_authorize), kCallback);
  EXPECT_TRUE(FindField(RedirectParams(google_authorize), "code").has_value());
  EXPECT_EQ(zenodo_authorize.status, 302) << zenodo_authorize.body;
  EXPECT_TRUE(FindField(RedirectParams(zenodo_authorize), "code").has_value());
  process.Signal(SIGTERM);
  EXPECT_EQ(process.Wait(), 0);
  std::ifstream stats_in(stats_file);
  const json stats = json::parse(stats_in);
  EXPECT_EQ(stats["dropbox"]["code_exchanges"], 1);
  EXPECT_EQ(stats["google"]["token_requests"], 0);
  EXPECT_EQ(stats["zenodo"]["token_requests"], 0);
}

TEST(FakeProvidersProcess, ExitsZeroOnSigterm) {
  FakeProvidersProcess process({"--redirect-uri", kCallback});
  ASSERT_TRUE(process.started());
  const json ready = json::parse(process.ReadLine());
  EXPECT_EQ(ready["gitlab"]["client_id"], "fake-gitlab-client-id");
  // github.com layout: the API is a second server (api.github.com's stand-in).
  const std::string github = ready["github"]["url"];
  EXPECT_NE(ready["github"]["api_url"], github);
  EXPECT_EQ(ready["github"]["install_url"], github + "/apps/keybridge-fake/installations/new");

  process.Signal(SIGTERM);

  EXPECT_EQ(process.Wait(), 0);
}

// The seeded project is a real repository the issued token can read, and --token-delay-ms makes
// every token request take at least that long.
TEST(FakeProvidersProcess, SeedsProjectsIssuesTokensAndDelaysTheTokenEndpoint) {
  const std::string tokens_file = ::testing::TempDir() + "fake-providers-tokens.jsonl";
  const std::string stats_file = ::testing::TempDir() + "fake-providers-stats.json";
  FakeProvidersProcess process({"--gitlab-project", "group/project", "--seed-bytes", "1000",
                                "--gitlab-empty-project", "group/empty", "--issue-tokens", "2",
                                "--issue-tokens-file", tokens_file, "--token-delay-ms", "300",
                                "--stats-file", stats_file});
  ASSERT_TRUE(process.started());
  const json ready = json::parse(process.ReadLine());
  const std::string gitlab = ready["gitlab"]["url"];
  std::ifstream in(tokens_file);
  std::vector<json> pairs;
  for (std::string line; std::getline(in, line);) {
    pairs.push_back(json::parse(line));
  }
  ASSERT_EQ(pairs.size(), 2U);
  const std::string access = pairs[0]["access_token"];
  TestClient client;

  auto refs = client.Get(gitlab + "/group/project.git/info/refs?service=git-upload-pack",
                         {{"Authorization", BasicAuth("oauth2", access)}});
  auto empty = client.Get(gitlab + "/group/empty.git/info/refs?service=git-receive-pack",
                          {{"Authorization", BasicAuth("oauth2", access)}});
  auto missing = client.Get(gitlab + "/group/missing.git/info/refs?service=git-upload-pack",
                            {{"Authorization", BasicAuth("oauth2", access)}});
  const auto started = std::chrono::steady_clock::now();
  auto refreshed =
      client.PostForm(gitlab + "/oauth/token", {{"grant_type", "refresh_token"},
                                                {"refresh_token", pairs[1]["refresh_token"]},
                                                {"client_id", "fake-gitlab-client-id"},
                                                {"client_secret", "fake-gitlab-client-secret"}});
  const auto took = std::chrono::steady_clock::now() - started;

  EXPECT_EQ(refs.status, 200) << refs.body;
  EXPECT_NE(refs.body.find("refs/heads/main"), std::string::npos);
  EXPECT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(empty.body.find("refs/heads/"), std::string::npos);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(refreshed.status, 200) << refreshed.body;
  EXPECT_GE(took, std::chrono::milliseconds(300));
  process.Signal(SIGINT);
  EXPECT_EQ(process.Wait(), 0);
  std::ifstream stats_in(stats_file);
  const json stats = json::parse(stats_in);
  EXPECT_EQ(stats["gitlab"]["refresh_requests"], 1);
  EXPECT_EQ(stats["github"]["token_requests"], 0);
}

TEST(FakeProvidersProcess, RejectsAMalformedGitHubRepository) {
  FakeProvidersProcess process({"--github-repo", "no-slash"});
  ASSERT_TRUE(process.started());

  EXPECT_EQ(process.ReadLine(), "");
  EXPECT_NE(process.Wait(), 0);
}

}  // namespace
}  // namespace keybridge::fakes
