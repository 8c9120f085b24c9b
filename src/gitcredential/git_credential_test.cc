#include "gitcredential/git_credential.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/url.h"
#include "crypto/hash.h"
#include "support/fake_clock.h"
#include "support/scripted_http_client.h"

namespace keybridge::gitcredential {
namespace {

namespace fs = std::filesystem;

constexpr const char* kServer = "https://kb.example.org";
constexpr const char* kRemote = "https://gitlab.example.org/group/a.git";
constexpr const char* kInput = "protocol=https\nhost=gitlab.example.org\npath=group/a.git\n\n";

std::string CredentialsUrl(const std::string& extra = "") {
  return std::string(kServer) + "/api/data/git/credentials?url=" + core::PercentEncode(kRemote)
         + "&min_valid_seconds=300" + extra;
}

core::HttpResponse Credentials(const std::string& password) {
  return testing::JsonResponse(
      200, R"({"username":"oauth2","password":")" + password
               + R"(","expires_at":1700007200,"provider_id":"gitlab","connection_id":"c"})");
}

core::HttpResponse NoConnection() {
  return testing::JsonResponse(
      404, R"({"error":{"code":1404,"message":"You have no connection to Fake GitLab."},)"
           R"("provider_id":"gitlab","provider_name":"Fake GitLab",)"
           R"("connect_url":"https://kb.example.org/api/data/oauth2/providers/gitlab/authorize"})");
}

class GitCredentialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path()
           / ("kb-git-credential-" + std::to_string(::getpid()) + "-"
              + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    options_.keybridge_url = kServer;
    options_.token = "kbs_session";
    options_.state_file = (dir_ / "state" / "rejected").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs the helper with `input` on stdin; stdout and stderr land in out_ and err_.
  int Run(const std::string& operation, const std::string& input = kInput) {
    out_.str("");
    err_.str("");
    std::istringstream in(input);
    options_.operation = operation;
    GitCredentialIo io{in, out_, err_, http_, clock_, [this](core::Seconds pause) {
                         ++sleeps_;
                         clock_.Advance(pause);
                       }};
    return RunGitCredential(options_, io);
  }

  fs::path dir_;
  GitCredentialOptions options_;
  testing::ScriptedHttpClient http_;
  testing::FakeClock clock_;
  std::ostringstream out_;
  std::ostringstream err_;
  int sleeps_ = 0;
};

TEST_F(GitCredentialTest, GetAnswersGitWithUsernamePasswordAndExpiry) {
  http_.Always("GET", CredentialsUrl(), Credentials("test-only-gitlab-token"));

  const int status = Run("get");

  EXPECT_EQ(status, 0);
  EXPECT_EQ(out_.str(),
            "username=oauth2\npassword=test-only-gitlab-token\npassword_expiry_utc=1700007200\n");
  EXPECT_EQ(err_.str(), "");
  const auto request = http_.Requests().at(0);
  ASSERT_EQ(request.headers.at(0).name, "Authorization");
  EXPECT_EQ(request.headers.at(0).value, "Bearer kbs_session");
}

TEST_F(GitCredentialTest, NoConnectionPrintsOneLineWithTheConnectUrlAndTellsGitToQuit) {
  http_.Always("GET", CredentialsUrl(), NoConnection());

  const int status = Run("get");

  EXPECT_EQ(status, 1);
  EXPECT_EQ(err_.str(),
            "keybridge: no connection to Fake GitLab — connect at "
            "https://kb.example.org/api/data/oauth2/providers/gitlab/authorize\n");
  EXPECT_EQ(out_.str(), "quit=1\n");
  EXPECT_EQ(sleeps_, 0);
}

TEST_F(GitCredentialTest, WaitPrintsTheLineOnceAndAnswersOnceTheConnectionAppears) {
  http_.Enqueue("GET", CredentialsUrl(), NoConnection());
  http_.Enqueue("GET", CredentialsUrl(), NoConnection());
  http_.Enqueue("GET", CredentialsUrl(), Credentials("fresh"));
  options_.wait = true;

  const int status = Run("get");

  EXPECT_EQ(status, 0);
  EXPECT_EQ(err_.str(),
            "keybridge: no connection to Fake GitLab — connect at "
            "https://kb.example.org/api/data/oauth2/providers/gitlab/authorize (waiting up to "
            "10 min)\n");
  EXPECT_EQ(out_.str(), "username=oauth2\npassword=fresh\npassword_expiry_utc=1700007200\n");
  EXPECT_EQ(sleeps_, 2);
}

TEST_F(GitCredentialTest, WaitGivesUpAtTheTimeout) {
  http_.Always("GET", CredentialsUrl(), NoConnection());
  options_.wait = true;
  options_.wait_timeout = core::Seconds(10);

  const int status = Run("get");

  EXPECT_EQ(status, 1);
  EXPECT_EQ(sleeps_, 5);
  EXPECT_NE(err_.str().find("gave up waiting after 10 s"), std::string::npos) << err_.str();
  EXPECT_EQ(out_.str(), "quit=1\n");
}

TEST_F(GitCredentialTest, ARenewalIsAskedForLikeAConnection) {
  http_.Always("GET", CredentialsUrl(),
               testing::JsonResponse(
                   401, R"({"error":{"code":1401,"message":"expired"},"provider_name":"GHE",)"
                        R"("connect_url":"https://kb/authorize"})"));

  EXPECT_EQ(Run("get"), 1);
  EXPECT_EQ(err_.str(),
            "keybridge: the connection to GHE must be renewed — reconnect at "
            "https://kb/authorize\n");
}

TEST_F(GitCredentialTest, RemotesNoIntegrationServesGetNoAnswer) {
  http_.Always("GET", CredentialsUrl(),
               testing::JsonResponse(404, R"({"error":{"code":1404,"message":"No integration"}})"));

  EXPECT_EQ(Run("get"), 0);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(GitCredentialTest, ARejectedKeybridgeTokenIsExplainedAndGitQuits) {
  http_.Always(
      "GET", CredentialsUrl(),
      testing::JsonResponse(401, R"({"error":{"code":1401,"message":"session token revoked"}})"));

  EXPECT_EQ(Run("get"), 1);
  EXPECT_EQ(err_.str(),
            "keybridge: the server did not accept KEYBRIDGE_TOKEN: session token revoked\n");
  EXPECT_EQ(out_.str(), "quit=1\n");
}

TEST_F(GitCredentialTest, AnUnreachableServerLetsGitTryOtherHelpers) {
  const int status = Run("get");  // nothing scripted: a transport failure

  EXPECT_EQ(status, 1);
  EXPECT_EQ(out_.str(), "");
  EXPECT_NE(err_.str().find("keybridge: cannot reach https://kb.example.org"), std::string::npos);
}

TEST_F(GitCredentialTest, EraseMakesTheNextGetForceARefreshOfThatToken) {
  const std::string forced =
      CredentialsUrl("&force_refresh=1&rejected_sha256=" + crypto::Sha256Hex("old-token"));
  http_.Always("GET", forced, Credentials("new-token"));
  http_.Always("GET", CredentialsUrl(), Credentials("new-token"));

  EXPECT_EQ(Run("erase",
                "protocol=https\nhost=gitlab.example.org\npath=group/a.git\nusername=oauth2\n"
                "password=old-token\n\n"),
            0);
  EXPECT_EQ(Run("get"), 0);
  EXPECT_EQ(Run("get"), 0);

  ASSERT_EQ(http_.Requests().size(), 2U);
  EXPECT_EQ(http_.Requests()[0].url, forced);
  EXPECT_EQ(http_.Requests()[1].url, CredentialsUrl()) << "a new token clears the rejection";
  const std::string state = [&] {
    std::ifstream in(options_.state_file);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  EXPECT_EQ(state.find("old-token"), std::string::npos) << "only a digest is ever stored";
  EXPECT_EQ(fs::status(options_.state_file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(GitCredentialTest, StoreForgetsARejection) {
  http_.Always("GET", CredentialsUrl(), Credentials("token"));
  const std::string with_password =
      std::string("protocol=https\nhost=gitlab.example.org\npath=group/a.git\npassword=p\n\n");

  EXPECT_EQ(Run("erase", with_password), 0);
  EXPECT_EQ(Run("store", with_password), 0);
  EXPECT_EQ(Run("get"), 0);

  EXPECT_EQ(http_.Requests().at(0).url, CredentialsUrl());
}

TEST_F(GitCredentialTest, NonHttpCredentialsAndUnknownOperationsAreIgnored) {
  EXPECT_EQ(Run("get", "protocol=cert\nhost=\npath=/etc/cert\n\n"), 0);
  EXPECT_EQ(Run("frobnicate"), 0);

  EXPECT_TRUE(http_.Requests().empty());
  EXPECT_EQ(out_.str(), "");
}

TEST_F(GitCredentialTest, TheTokenNeverReachesStderr) {
  http_.Enqueue("GET", CredentialsUrl(), NoConnection());
  http_.Enqueue("GET", CredentialsUrl(), Credentials("test-only-gitlab-token-2"));
  options_.wait = true;

  EXPECT_EQ(Run("get"), 0);
  EXPECT_EQ(err_.str().find("test-only-gitlab-token-2"), std::string::npos);
  EXPECT_EQ(err_.str().find("kbs_session"), std::string::npos);
}

TEST(ParseGitCredentialInput, StopsAtTheBlankLineAndDropsArrays) {
  std::istringstream in(
      "protocol=https\nhost=example.org:8443\nwwwauth[]=Basic "
      "realm=x\npath=a/b.git\n\nhost=late\n");

  const auto attributes = ParseGitCredentialInput(in);

  EXPECT_EQ(attributes,
            (std::map<std::string, std::string>{
                {"host", "example.org:8443"}, {"path", "a/b.git"}, {"protocol", "https"}}));
  EXPECT_EQ(RemoteUrl(attributes), "https://example.org:8443/a/b.git");
}

TEST(ParseGitCredentialInput, SplitsAUrlAttributeLikeGitDoes) {
  std::istringstream in("url=https://Gitlab.example.org:444/group/a.git\n");

  const auto attributes = ParseGitCredentialInput(in);

  EXPECT_EQ(RemoteUrl(attributes), "https://gitlab.example.org:444/group/a.git");
}

TEST(RemoteUrl, IsHostOnlyWithoutUseHttpPathAndAbsentForOtherProtocols) {
  EXPECT_EQ(RemoteUrl({{"protocol", "http"}, {"host", "127.0.0.1:8080"}}), "http://127.0.0.1:8080");
  EXPECT_EQ(RemoteUrl({{"protocol", "ssh"}, {"host", "example.org"}}), std::nullopt);
  EXPECT_EQ(RemoteUrl({{"protocol", "https"}}), std::nullopt);
}

class GitCredentialEnvironmentTest : public ::testing::Test {
 protected:
  core::Status Load() {
    return LoadGitCredentialEnvironment(
        [this](const char* name) -> const char* {
          const auto it = env_.find(name);
          return it == env_.end() ? nullptr : it->second.c_str();
        },
        options_);
  }

  std::map<std::string, std::string> env_;
  GitCredentialOptions options_;
};

TEST_F(GitCredentialEnvironmentTest, ReadsUrlTokenAndStateLocation) {
  env_ = {{"KEYBRIDGE_URL", "https://kb.example.org/"},
          {"KEYBRIDGE_TOKEN", " kbs_abc\n"},
          {"XDG_RUNTIME_DIR", "/run/user/1000"},
          {"HOME", "/home/u"}};

  ASSERT_TRUE(Load().ok());

  EXPECT_EQ(options_.keybridge_url, "https://kb.example.org");
  EXPECT_EQ(options_.token, "kbs_abc");
  EXPECT_EQ(options_.state_file, "/run/user/1000/keybridge/git-credential-rejected");
}

TEST_F(GitCredentialEnvironmentTest, FallsBackToTheTokenFileAndTheHomeCache) {
  const fs::path file = fs::temp_directory_path() / ("kb-token-" + std::to_string(::getpid()));
  std::ofstream(file) << "kbs_from_file\n";
  env_ = {{"KEYBRIDGE_URL", "http://127.0.0.1:8080"},
          {"KEYBRIDGE_TOKEN_FILE", file.string()},
          {"HOME", "/home/u"}};

  const core::Status loaded = Load();
  fs::remove(file);

  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(options_.token, "kbs_from_file");
  EXPECT_EQ(options_.state_file, "/home/u/.cache/keybridge/git-credential-rejected");
}

TEST_F(GitCredentialEnvironmentTest, NamesTheMissingVariable) {
  env_ = {{"KEYBRIDGE_TOKEN", "kbs_abc"}};
  EXPECT_NE(Load().error().message.find("KEYBRIDGE_URL"), std::string::npos);

  env_ = {{"KEYBRIDGE_URL", "https://kb.example.org"}};
  EXPECT_NE(Load().error().message.find("KEYBRIDGE_TOKEN"), std::string::npos);

  env_ = {{"KEYBRIDGE_URL", "https://kb.example.org"}, {"KEYBRIDGE_TOKEN_FILE", "/nonexistent"}};
  EXPECT_NE(Load().error().message.find("/nonexistent"), std::string::npos);
}

}  // namespace
}  // namespace keybridge::gitcredential
