// End to end: a user mints a session token scoped to one repository and the session uses it
// against the real application and the fake providers: it obtains that provider's token (through
// the token route, the git credentials route and the real `keybridge git-credential` binary) and
// nothing else; revocation is immediate; the helper tells a user without a connection the exact
// URL to connect at, and with --wait continues once the connection exists. Expiry is tested with a
// FakeClock in service/session_token_service_test.cc (the application has no injectable clock).
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/url.h"
#include "crypto/hash.h"
#include "fakes/fake_github.h"
#include "fakes/fake_gitlab.h"
#include "integration/harness.h"
#include "support/fake_clock.h"

namespace keybridge {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct HelperResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// The application's log lines, for the audit checks. Static: spdlog keeps the sink after a test.
std::ostringstream& LogStream() {
  static std::ostringstream stream;
  return stream;
}
std::shared_ptr<spdlog::sinks::ostream_sink_mt>& LogSink() {
  static auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(LogStream());
  return sink;
}

class SessionTokenTest : public ::testing::Test {
 protected:
  SessionTokenTest() {
    spdlog::drop("keybridge");
    auto logger = std::make_shared<spdlog::logger>("keybridge", LogSink());
    logger->set_level(spdlog::level::info);
    spdlog::register_logger(logger);
    spdlog::set_default_logger(logger);
    LogSink()->flush();
    LogStream().str("");
    kb_ = std::make_unique<testing::KeybridgeHarness>(
        [](app::ServeConfig& config) { config.max_session_token_ttl = "1d"; });
  }

  void SetUp() override {
    const std::string callback = kb_->BaseUrl() + "/api/data/oauth2/callback";
    gitlab_.SetRedirectUris({callback});
    github_.SetRedirectUris({callback});
    kb_->CreateProvider({{"id", "gitlab"},
                         {"kind", "gitlab"},
                         {"client_id", gitlab_.AppOptions().client_id},
                         {"client_secret", gitlab_.AppOptions().client_secret},
                         {"display_name", "Fake GitLab"},
                         {"scope", "api"},
                         {"url", gitlab_.BaseUrl()}});
    kb_->CreateProvider({{"id", "ghe"},
                         {"kind", "github"},
                         {"app_slug", "keybridge-test"},
                         {"client_id", github_.AppOptions().client_id},
                         {"client_secret", github_.AppOptions().client_secret},
                         {"display_name", "Fake GHE"},
                         {"scope", ""},
                         {"use_pkce", true},
                         {"url", github_.BaseUrl()}});
    alice_ = kb_->issuer().TokenFor("alice");
    bob_ = kb_->issuer().TokenFor("bob");
    ASSERT_EQ(kb_->Connect(alice_, "gitlab").status, 200);
    ASSERT_EQ(kb_->Connect(alice_, "ghe").status, 200);
    gitlab_id_ = kb_->ConnectionId(alice_, "gitlab");
    ghe_id_ = kb_->ConnectionId(alice_, "ghe");
    repo_a_ = gitlab_.BaseUrl() + "/group/a.git";
    dir_ = kb_->dir() / "helper";
    fs::create_directories(dir_);
  }

  static fakes::FakeGitLab::Options GitLabOptions() {
    fakes::FakeGitLab::Options o;
    o.path_prefix = "/gitlab";
    return o;
  }
  static fakes::FakeGitHub::Options GitHubOptions() {
    fakes::FakeGitHub::Options o;
    o.enterprise = true;
    return o;
  }

  // Mints a session token as `user` scoped to `repositories`; fails the test unless 201.
  json Mint(const std::string& user, const std::vector<std::string>& repositories,
            int ttl_seconds = 3600) {
    json body = {{"session_name", "jupyter-42"},
                 {"ttl_seconds", ttl_seconds},
                 {"repository_urls", repositories}};
    auto r = kb_->Call("POST", "/api/data/sessions/tokens", user, body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  core::HttpResponse TokenOf(const std::string& connection_id, const std::string& bearer) {
    return kb_->Call("GET", "/api/data/oauth2/connections/" + connection_id + "/token", bearer);
  }

  // Runs the real binary as git would: `keybridge git-credential <args>` with `input` on stdin
  // and the session token in a file. `err_path` (default: a file) receives stderr.
  HelperResult RunHelper(const std::string& token, const std::string& args,
                         const std::string& input, std::string err_path = "") {
    const std::string id = std::to_string(helper_runs_++);
    const fs::path input_file = dir_ / ("input-" + id);
    const fs::path token_file = dir_ / ("token-" + id);
    std::ofstream(input_file) << input;
    std::ofstream(token_file) << token << "\n";
    const bool own_err_file = err_path.empty();
    if (own_err_file) {
      err_path = (dir_ / ("stderr-" + id)).string();
    }
    const std::string command =
        "env -i KEYBRIDGE_URL='" + kb_->BaseUrl() + "' KEYBRIDGE_TOKEN_FILE='" + token_file.string()
        + "' XDG_RUNTIME_DIR='" + dir_.string() + "' " + KEYBRIDGE_BINARY_PATH + " git-credential "
        + args + " <'" + input_file.string() + "' 2>'" + err_path + "'";
    HelperResult result;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) {
      return result;
    }
    std::array<char, 4096> buffer{};
    for (std::size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0;) {
      result.out.append(buffer.data(), n);
    }
    const int status = ::pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (own_err_file) {
      std::ifstream err(err_path);
      result.err.assign(std::istreambuf_iterator<char>(err), {});
    }
    return result;
  }

  // git's request for repository A (credential.useHttpPath on).
  std::string GitInputForRepoA(const std::string& extra = "") const {
    auto url = core::ParseUrl(repo_a_);
    return "protocol=http\nhost=" + url->host + ":" + std::to_string(url->port)
           + "\npath=" + url->path.substr(1) + "\n" + extra + "\n";
  }

  std::string ConnectUrl() const {
    return kb_->BaseUrl() + "/api/data/oauth2/providers/gitlab/authorize";
  }

  testing::FakeClock provider_clock_{std::chrono::system_clock::now()};
  fakes::FakeGitLab gitlab_{provider_clock_, GitLabOptions()};
  fakes::FakeGitHub github_{provider_clock_, GitHubOptions()};
  std::unique_ptr<testing::KeybridgeHarness> kb_;
  std::string alice_;
  std::string bob_;
  std::string gitlab_id_;
  std::string ghe_id_;
  std::string repo_a_;
  fs::path dir_;
  int helper_runs_ = 0;
};

TEST_F(SessionTokenTest, AScopedSessionObtainsOnlyItsProvidersTokenAndNothingElse) {
  const json minted = Mint(alice_, {repo_a_});
  const std::string session = minted["token"];

  auto own = TokenOf(gitlab_id_, session);
  auto other_provider = TokenOf(ghe_id_, session);
  auto list = kb_->Call("GET", "/api/data/oauth2/connections", session);
  auto one = kb_->Call("GET", "/api/data/oauth2/connections/" + gitlab_id_, session);
  auto disconnect = kb_->Call("DELETE", "/api/data/oauth2/connections/" + gitlab_id_, session);
  auto mint = kb_->Call("POST", "/api/data/sessions/tokens", session,
                        json{{"session_name", "x"}, {"repository_urls", {repo_a_}}}.dump());
  auto sessions = kb_->Call("GET", "/api/data/sessions/tokens", session);
  auto providers = kb_->Call("GET", "/api/data/oauth2/providers", session);
  auto authorize = kb_->Call("GET", "/api/data/oauth2/providers/gitlab/authorize", session);

  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_TRUE(gitlab_.IsAccessTokenLive(json::parse(own.body)["access_token"].get<std::string>()));
  EXPECT_EQ(other_provider.status, 403) << other_provider.body;
  for (const auto* denied : {&list, &one, &disconnect, &mint, &sessions, &providers, &authorize}) {
    EXPECT_EQ(denied->status, 403) << denied->body;
    EXPECT_NE(denied->body.find("session tokens can only obtain tokens"), std::string::npos);
  }
  EXPECT_EQ(kb_->Call("GET", "/healthz", session).status, 200);
  EXPECT_EQ(kb_->ConnectionId(alice_, "gitlab"), gitlab_id_) << "nothing was deleted";
}

TEST_F(SessionTokenTest, TheGitCredentialsRouteAnswersWithinTheScopeAndAuditsTheHandOut) {
  const json minted = Mint(alice_, {repo_a_});
  const std::string session = minted["token"];

  auto answer =
      kb_->Call("GET", "/api/data/git/credentials?url=" + core::PercentEncode(repo_a_), session);
  auto outside = kb_->Call(
      "GET", "/api/data/git/credentials?url=" + core::PercentEncode(github_.BaseUrl() + "/o/r.git"),
      session);

  ASSERT_EQ(answer.status, 200) << answer.body;
  const json body = json::parse(answer.body);
  EXPECT_EQ(body["username"], "oauth2");
  const std::string password = body["password"];
  EXPECT_TRUE(gitlab_.IsAccessTokenLive(password));
  EXPECT_EQ(body["connection_id"], gitlab_id_);
  EXPECT_EQ(outside.status, 403) << outside.body;
  LogSink()->flush();
  const std::string log = LogStream().str();
  EXPECT_NE(log.find("token handed out: connection=" + gitlab_id_
                     + " provider=gitlab user=alice "
                       "session_token="
                     + minted["id"].get<std::string>() + " session=jupyter-42 via=git-credential"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find(password), std::string::npos) << "the token is never logged";
  EXPECT_EQ(log.find(session), std::string::npos) << "the session token is never logged";
}

TEST_F(SessionTokenTest, ARevokedSessionTokenIsRejectedAtOnce) {
  const json minted = Mint(alice_, {repo_a_});
  const std::string session = minted["token"];
  ASSERT_EQ(TokenOf(gitlab_id_, session).status, 200);

  auto revoked =
      kb_->Call("DELETE", "/api/data/sessions/tokens/" + minted["id"].get<std::string>(), alice_);
  auto after = TokenOf(gitlab_id_, session);
  auto listed = kb_->Call("GET", "/api/data/sessions/tokens", alice_);

  EXPECT_EQ(revoked.status, 204);
  EXPECT_EQ(after.status, 401) << after.body;
  EXPECT_NE(after.body.find("session token revoked"), std::string::npos) << after.body;
  EXPECT_EQ(json::parse(listed.body).at(0)["status"], "revoked");
  EXPECT_EQ(listed.body.find(session), std::string::npos);
}

TEST_F(SessionTokenTest, MintingHonoursTheConfiguredBoundsAndTheCallersConnections) {
  json too_long = {{"session_name", "s"}, {"ttl_seconds", 86401}, {"repository_urls", {repo_a_}}};
  json smallest = {{"session_name", "s"}, {"ttl_seconds", 60}, {"repository_urls", {repo_a_}}};
  json foreign = {{"session_name", "s"}, {"connection_ids", {gitlab_id_}}};

  EXPECT_EQ(kb_->Call("POST", "/api/data/sessions/tokens", alice_, too_long.dump()).status, 422);
  EXPECT_EQ(kb_->Call("POST", "/api/data/sessions/tokens", alice_, smallest.dump()).status, 201);
  EXPECT_EQ(kb_->Call("POST", "/api/data/sessions/tokens", bob_, foreign.dump()).status, 422);
  EXPECT_EQ(kb_->Call("POST", "/api/data/sessions/tokens", "", smallest.dump()).status, 401);
}

TEST_F(SessionTokenTest, TheHelperBinaryAnswersGitWithTheConnectionsToken) {
  const std::string session = Mint(alice_, {repo_a_})["token"];

  const HelperResult result = RunHelper(session, "get", GitInputForRepoA());

  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  std::istringstream lines(result.out);
  std::string username;
  std::string password;
  std::string expiry;
  std::getline(lines, username);
  std::getline(lines, password);
  std::getline(lines, expiry);
  EXPECT_EQ(username, "username=oauth2");
  ASSERT_EQ(password.rfind("password=", 0), 0U) << result.out;
  EXPECT_TRUE(gitlab_.IsAccessTokenLive(password.substr(9)));
  EXPECT_EQ(expiry.rfind("password_expiry_utc=", 0), 0U) << result.out;
}

TEST_F(SessionTokenTest, EraseAfterARejectionMakesTheNextGetRefresh) {
  const std::string session = Mint(alice_, {repo_a_})["token"];
  const std::string old_token =
      json::parse(TokenOf(gitlab_id_, alice_).body)["access_token"].get<std::string>();

  const HelperResult erased = RunHelper(
      session, "erase", GitInputForRepoA("username=oauth2\npassword=" + old_token + "\n"));
  const HelperResult fresh = RunHelper(session, "get", GitInputForRepoA());
  const HelperResult again = RunHelper(session, "get", GitInputForRepoA());

  EXPECT_EQ(erased.exit_code, 0) << erased.err;
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_EQ(fresh.out.find(old_token), std::string::npos) << "a new token, not the rejected one";
  EXPECT_EQ(gitlab_.RefreshRequestCount(), 1);
  EXPECT_EQ(again.out, fresh.out) << "the rejection is forgotten once a new token came";
  EXPECT_EQ(gitlab_.RefreshRequestCount(), 1);
  std::ifstream state(dir_ / "keybridge" / "git-credential-rejected");
  const std::string state_text(std::istreambuf_iterator<char>(state), {});
  EXPECT_EQ(state_text.find(old_token), std::string::npos) << "only a digest is stored";
}

TEST_F(SessionTokenTest, TheHelperTellsAUserWithoutAConnectionTheExactUrlToConnectAt) {
  const std::string session = Mint(bob_, {repo_a_})["token"];

  const HelperResult result = RunHelper(session, "get", GitInputForRepoA());

  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err,
            "keybridge: no connection to Fake GitLab — connect at " + ConnectUrl() + "\n");
  EXPECT_EQ(result.out, "quit=1\n") << "git fails instead of prompting";
}

TEST_F(SessionTokenTest, WithWaitTheHelperContinuesOnceTheUserConnected) {
  const std::string session = Mint(bob_, {repo_a_})["token"];
  const fs::path fifo = dir_ / "stderr.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);

  auto helper = std::async(std::launch::async, [&] {
    return RunHelper(session, "--wait --wait-timeout 60s get", GitInputForRepoA(), fifo.string());
  });
  // Blocks until the helper has reported the missing connection: no sleeping here.
  std::ifstream err(fifo);
  std::string first_line;
  std::getline(err, first_line);
  gitlab_.SetCurrentUser(fakes::FakeUser{2, "bob", "Bob", "bob@example.com", "", "active"});
  ASSERT_EQ(kb_->Connect(bob_, "gitlab").status, 200);
  const HelperResult result = helper.get();

  EXPECT_EQ(first_line, "keybridge: no connection to Fake GitLab — connect at " + ConnectUrl()
                            + " (waiting up to 1 min)");
  ASSERT_EQ(result.exit_code, 0) << result.out;
  EXPECT_EQ(result.out.rfind("username=oauth2\npassword=", 0), 0U) << result.out;
}

}  // namespace
}  // namespace keybridge
