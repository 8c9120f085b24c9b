// The real git CLI against FakeGitLab and FakeGitHub on loopback: clone, push and every refusal of
// GitLab and GitHub as git itself reports them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "fakes/fake_github.h"
#include "fakes/fake_gitlab.h"
#include "fakes/fake_test_client.h"
#include "fakes/git_http_backend.h"
#include "support/fake_clock.h"

namespace keybridge::fakes {
namespace {

struct Credentials {
  std::string username;
  std::string password;
};

const FakeUser kAlice{.id = 1, .username = "alice", .name = "Alice", .email = "alice@example.com"};
const FakeUser kBob{.id = 2, .username = "bob", .name = "Bob", .email = "bob@example.com"};
const FakeUser kCarol{.id = 3, .username = "carol", .name = "Carol", .email = "carol@example.com"};

// A scratch directory (HOME and work trees of the git CLI), removed with its content.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "keybridge-git-cli-XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The git CLI in a hermetic environment: a private HOME, no system config, no prompts, English
// messages, and credentials only from a helper that echoes fixed values.
class GitCli {
 public:
  // Runs `git <args>`; with `credentials`, a credential helper answers every prompt with them.
  ProcessResult Run(const std::vector<std::string>& args,
                    const std::optional<Credentials>& credentials = std::nullopt) const {
    // No background maintenance: nothing may outlive the test or its directories.
    std::vector<std::string> argv = {"git",
                                     "-c",
                                     "credential.helper=",
                                     "-c",
                                     "init.defaultBranch=main",
                                     "-c",
                                     "maintenance.auto=false",
                                     "-c",
                                     "gc.auto=0"};
    if (credentials) {
      argv.push_back("-c");
      argv.push_back("credential.helper=!f() { echo username=" + credentials->username
                     + "; echo password=" + credentials->password + "; }; f");
    }
    argv.insert(argv.end(), args.begin(), args.end());
    const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe): nobody sets it
    const std::vector<std::string> env = {
        "PATH=" + std::string(path != nullptr ? path : "/usr/bin:/bin"),
        "HOME=" + home_.path().string(),
        "LC_ALL=C",
        "GIT_TERMINAL_PROMPT=0",
        "GIT_CONFIG_NOSYSTEM=1",
        "GIT_AUTHOR_NAME=Dev",
        "GIT_AUTHOR_EMAIL=dev@example.com",
        "GIT_COMMITTER_NAME=Dev",
        "GIT_COMMITTER_EMAIL=dev@example.com"};
    return RunProcess(argv, env);
  }

  std::string WorkTree(const std::string& name) const { return (home_.path() / name).string(); }

  ProcessResult Clone(const std::string& url, const std::string& name,
                      const std::optional<Credentials>& credentials = std::nullopt) const {
    return Run({"clone", "--quiet", url, WorkTree(name)}, credentials);
  }

  // Clones `url`, commits `file` with `content` and pushes the default branch back. The clone is
  // expected to work; the push result is returned.
  ProcessResult CommitAndPush(const std::string& url, const Credentials& credentials,
                              const std::string& file, const std::string& content,
                              const std::string& name = "work") const {
    const ProcessResult clone = Clone(url, name, credentials);
    EXPECT_TRUE(clone.ok()) << clone.err;
    WriteFile(name, file, content);
    const std::string tree = WorkTree(name);
    const ProcessResult add = Run({"-C", tree, "add", file});
    EXPECT_TRUE(add.ok()) << add.err;
    const ProcessResult commit = Run({"-C", tree, "commit", "--quiet", "-m", "Change " + file});
    EXPECT_TRUE(commit.ok()) << commit.err;
    return Run({"-C", tree, "push", "origin", "HEAD"}, credentials);
  }

  void WriteFile(const std::string& name, const std::string& file,
                 const std::string& content) const {
    std::ofstream out(home_.path() / name / file, std::ios::binary | std::ios::trunc);
    out << content;
  }

  std::string ReadFile(const std::string& name, const std::string& file) const {
    std::ifstream in(home_.path() / name / file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

 private:
  TempDir home_;
};

// --- GitHttpBackend on its own ---

TEST(GitHttpBackend, CommitsAndReadsFilesInNestedDirectories) {
  GitHttpBackend backend;
  backend.CreateRepository("group/project.git", "trunk");

  const std::string first = backend.Commit("group/project.git", "trunk",
                                           {{"README.md", "hello\n"}, {"src/a/b.txt", "nested"}});
  const std::string second = backend.Commit("group/project.git", "trunk", {{"README.md", "v2\n"}});

  EXPECT_NE(first, second);
  EXPECT_EQ(backend.ReadFile("group/project.git", "HEAD", "README.md"), "v2\n");
  EXPECT_EQ(backend.ReadFile("group/project.git", "HEAD", "src/a/b.txt"), "nested");
  EXPECT_EQ(backend.ReadFile("group/project.git", first, "README.md"), "hello\n");
  EXPECT_EQ(backend.ReadFile("group/project.git", "HEAD", "missing"), std::nullopt);
  EXPECT_EQ(backend.ResolveCommit("group/project.git", "trunk"), second);
}

TEST(GitHttpBackend, RemovesItsProjectRoot) {
  std::filesystem::path root;
  {
    GitHttpBackend backend;
    root = backend.ProjectRoot();
    backend.CreateRepository("a/b.git", "main");
    EXPECT_TRUE(std::filesystem::exists(root / "a/b.git/HEAD"));
  }

  EXPECT_FALSE(std::filesystem::exists(root));
}

TEST(GitHttpBackend, RunProcessFeedsLargeInputWhileDrainingOutput) {
  const std::string input(std::size_t{4} * 1024 * 1024, 'x');  // far beyond any pipe buffer

  const ProcessResult result = RunProcess({"cat"}, {"PATH=/usr/bin:/bin"}, input);

  EXPECT_TRUE(result.ok()) << result.err;
  EXPECT_EQ(result.out.size(), input.size());
}

TEST(GitHttpBackend, ParseGitRouteAcceptsOnlySmartHttpEndpoints) {
  http::Request get;
  get.method = "GET";
  get.path = "/gitlab/group/sub/project.git/info/refs";
  get.raw_query = "service=git-receive-pack";
  http::Request dumb = get;
  dumb.raw_query = "";
  http::Request escape = get;
  escape.path = "/gitlab/group/../x.git/info/refs";

  const auto route = ParseGitRoute(get, "/gitlab", false);

  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->repository, "group/sub/project");
  EXPECT_EQ(route->endpoint, "info/refs");
  EXPECT_TRUE(route->IsPush());
  EXPECT_FALSE(ParseGitRoute(dumb, "/gitlab", false).has_value());
  EXPECT_FALSE(ParseGitRoute(escape, "/gitlab", false).has_value());
}

// --- FakeGitLab ---

class FakeGitLabGitTest : public ::testing::Test {
 protected:
  FakeGitLabGitTest() { Start(FakeGitLab::Options()); }

  void Start(FakeGitLab::Options options) {
    gitlab_.reset();
    gitlab_ = std::make_unique<FakeGitLab>(clock_, std::move(options));
    GitLabProject project;
    project.path_with_namespace = "group/private-project";
    project.members = {{kAlice.id, kGitLabDeveloper}, {kBob.id, kGitLabReporter}};
    gitlab_->AddProject(project);
    gitlab_->SeedRepository("group/private-project", {{"README.md", "seeded\n"}});
  }

  Credentials TokenFor(const FakeUser& user, const std::string& scope = "api") {
    return Credentials{"oauth2", gitlab_->IssueTokenPair(user, scope).access_token};
  }

  testing::FakeClock clock_;
  std::unique_ptr<FakeGitLab> gitlab_;
  GitCli git_;
};

TEST_F(FakeGitLabGitTest, ClonesPrivateProjectWithValidToken) {
  const ProcessResult clone =
      git_.Clone(gitlab_->GitUrl("group/private-project"), "clone", TokenFor(kBob));

  ASSERT_TRUE(clone.ok()) << clone.err;
  EXPECT_EQ(git_.ReadFile("clone", "README.md"), "seeded\n");
}

TEST_F(FakeGitLabGitTest, DeveloperPushLandsOnDefaultBranch) {
  const ProcessResult push = git_.CommitAndPush(gitlab_->GitUrl("group/private-project"),
                                                TokenFor(kAlice), "NEW.md", "pushed\n");

  ASSERT_TRUE(push.ok()) << push.err;
  EXPECT_EQ(gitlab_->ReadFileFromHead("group/private-project", "NEW.md"), "pushed\n");
  EXPECT_EQ(gitlab_->ReadFileFromHead("group/private-project", "README.md"), "seeded\n");
}

TEST_F(FakeGitLabGitTest, ReporterPushIsRefusedWithForbiddenMessage) {
  const ProcessResult push = git_.CommitAndPush(gitlab_->GitUrl("group/private-project"),
                                                TokenFor(kBob), "NEW.md", "pushed\n");

  EXPECT_FALSE(push.ok());
  EXPECT_NE(push.err.find("remote: You are not allowed to push code to this project."),
            std::string::npos)
      << push.err;
  EXPECT_NE(push.err.find("403"), std::string::npos) << push.err;
  EXPECT_EQ(gitlab_->ReadFileFromHead("group/private-project", "NEW.md"), std::nullopt);
}

TEST_F(FakeGitLabGitTest, ReadRepositoryScopeCannotUploadCode) {
  const ProcessResult push =
      git_.CommitAndPush(gitlab_->GitUrl("group/private-project"),
                         TokenFor(kAlice, "read_repository"), "NEW.md", "pushed\n");

  EXPECT_FALSE(push.ok());
  EXPECT_NE(push.err.find("remote: You are not allowed to upload code."), std::string::npos)
      << push.err;
}

TEST_F(FakeGitLabGitTest, ExpiredTokenFailsAuthentication) {
  const Credentials credentials = TokenFor(kAlice);
  clock_.Advance(core::Seconds(7201));

  const ProcessResult clone =
      git_.Clone(gitlab_->GitUrl("group/private-project"), "clone", credentials);

  EXPECT_FALSE(clone.ok());
  EXPECT_NE(clone.err.find("remote: HTTP Basic: Access denied. If a password was provided"),
            std::string::npos)
      << clone.err;
  EXPECT_NE(clone.err.find("fatal: Authentication failed for"), std::string::npos) << clone.err;
}

TEST_F(FakeGitLabGitTest, ReadUserOnlyTokenIsRejected) {
  const ProcessResult clone =
      git_.Clone(gitlab_->GitUrl("group/private-project"), "clone", TokenFor(kAlice, "read_user"));

  EXPECT_FALSE(clone.ok());
  EXPECT_NE(clone.err.find("fatal: Authentication failed for"), std::string::npos) << clone.err;
}

TEST_F(FakeGitLabGitTest, OldGitLabRequiresOauth2Username) {
  const Credentials wrong_user{"alice", TokenFor(kAlice).password};

  const ProcessResult refused =
      git_.Clone(gitlab_->GitUrl("group/private-project"), "refused", wrong_user);
  gitlab_->SetRequireOauth2Username(false);
  const ProcessResult accepted =
      git_.Clone(gitlab_->GitUrl("group/private-project"), "accepted", wrong_user);

  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.err.find("Authentication failed"), std::string::npos) << refused.err;
  EXPECT_TRUE(accepted.ok()) << accepted.err;
}

TEST_F(FakeGitLabGitTest, ProjectInvisibleToValidTokenIsNotFound) {
  const ProcessResult clone =
      git_.Clone(gitlab_->GitUrl("group/private-project"), "clone", TokenFor(kCarol));

  EXPECT_FALSE(clone.ok());
  EXPECT_NE(clone.err.find("remote: The project you were looking for could not be found or you "
                           "don't have permission to view it."),
            std::string::npos)
      << clone.err;
  EXPECT_NE(clone.err.find("not found"), std::string::npos) << clone.err;
}

TEST_F(FakeGitLabGitTest, NoCredentialsGetTheSameChallengeForPrivateAndMissingProjects) {
  TestClient client;

  const core::HttpResponse private_project =
      client.Get(gitlab_->GitUrl("group/private-project") + "/info/refs?service=git-upload-pack");
  const core::HttpResponse missing =
      client.Get(gitlab_->GitUrl("group/missing") + "/info/refs?service=git-upload-pack");

  EXPECT_EQ(private_project.status, 401);
  EXPECT_EQ(private_project.Header("www-authenticate"), "Basic realm=\"GitLab\"");
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.Header("www-authenticate"), "Basic realm=\"GitLab\"");
  EXPECT_EQ(missing.body, private_project.body);
}

TEST_F(FakeGitLabGitTest, PublicProjectClonesAnonymously) {
  GitLabProject project;
  project.path_with_namespace = "group/public-project";
  project.visibility = "public";
  gitlab_->AddProject(project);
  gitlab_->SeedRepository("group/public-project", {{"LICENSE", "MIT\n"}});

  const ProcessResult clone = git_.Clone(gitlab_->GitUrl("group/public-project"), "clone");

  ASSERT_TRUE(clone.ok()) << clone.err;
  EXPECT_EQ(git_.ReadFile("clone", "LICENSE"), "MIT\n");
}

TEST_F(FakeGitLabGitTest, ProtectedBranchPushIsRefusedInsideReportStatus) {
  GitLabProject project;
  project.path_with_namespace = "group/private-project";
  project.members = {{kAlice.id, kGitLabDeveloper}};
  project.protected_branches = {"main"};
  gitlab_->AddProject(project);

  const ProcessResult push = git_.CommitAndPush(gitlab_->GitUrl("group/private-project"),
                                                TokenFor(kAlice), "NEW.md", "pushed\n");

  EXPECT_FALSE(push.ok());
  EXPECT_NE(push.err.find("remote: GitLab: You are not allowed to push code to protected branches "
                          "on this project."),
            std::string::npos)
      << push.err;
  EXPECT_NE(push.err.find("! [remote rejected] HEAD -> main (pre-receive hook declined)"),
            std::string::npos)
      << push.err;
  EXPECT_EQ(gitlab_->ReadFileFromHead("group/private-project", "NEW.md"), std::nullopt);
}

TEST_F(FakeGitLabGitTest, MaintainerMayPushToProtectedBranch) {
  GitLabProject project;
  project.path_with_namespace = "group/private-project";
  project.members = {{kAlice.id, kGitLabMaintainer}};
  project.protected_branches = {"main"};
  gitlab_->AddProject(project);

  const ProcessResult push = git_.CommitAndPush(gitlab_->GitUrl("group/private-project"),
                                                TokenFor(kAlice), "NEW.md", "pushed\n");

  EXPECT_TRUE(push.ok()) << push.err;
  EXPECT_EQ(gitlab_->ReadFileFromHead("group/private-project", "NEW.md"), "pushed\n");
}

TEST_F(FakeGitLabGitTest, ServesGitUnderRelativeUrlRoot) {
  FakeGitLab::Options options;
  options.path_prefix = "/gitlab";
  Start(options);

  const ProcessResult push = git_.CommitAndPush(gitlab_->GitUrl("group/private-project"),
                                                TokenFor(kAlice), "NEW.md", "pushed\n");

  EXPECT_NE(gitlab_->GitUrl("group/private-project").find("/gitlab/group/"), std::string::npos);
  EXPECT_TRUE(push.ok()) << push.err;
  EXPECT_EQ(gitlab_->ReadFileFromHead("group/private-project", "NEW.md"), "pushed\n");
}

TEST_F(FakeGitLabGitTest, ProtocolVersionZeroClonesToo) {
  const ProcessResult clone =
      git_.Run({"-c", "protocol.version=0", "clone", "--quiet",
                gitlab_->GitUrl("group/private-project"), git_.WorkTree("clone")},
               TokenFor(kBob));

  ASSERT_TRUE(clone.ok()) << clone.err;
  EXPECT_EQ(git_.ReadFile("clone", "README.md"), "seeded\n");
}

TEST_F(FakeGitLabGitTest, LargePushArrivesWhole) {
  // Incompressible and above http.postBuffer (1 MiB), so git streams it chunked.
  std::string blob(std::size_t{3} * 512 * 1024, '\0');
  std::uint32_t state = 12345;
  for (char& c : blob) {
    state = state * 1664525U + 1013904223U;
    c = static_cast<char>(state >> 24);
  }

  const ProcessResult push = git_.CommitAndPush(gitlab_->GitUrl("group/private-project"),
                                                TokenFor(kAlice), "blob.bin", blob);

  ASSERT_TRUE(push.ok()) << push.err;
  EXPECT_EQ(gitlab_->ReadFileFromHead("group/private-project", "blob.bin"), blob);
  // git first probes with a tiny POST, then streams the pack.
  const auto requests = gitlab_->RequestsTo("/git-receive-pack");
  EXPECT_TRUE(std::any_of(requests.begin(), requests.end(), [](const RecordedRequest& request) {
    return request.Header("transfer-encoding") == "chunked";
  }));
}

TEST_F(FakeGitLabGitTest, GzippedNegotiationRequestsAreInflated) {
  // Sixty local commits the server lacks: the "have" lines push the upload-pack request past
  // 1 KiB, where git gzips request bodies.
  const std::string local = git_.WorkTree("local");
  ASSERT_TRUE(git_.Run({"init", "--quiet", local}).ok());
  std::string stream;
  for (int i = 0; i < 60; ++i) {
    const std::string message = "local " + std::to_string(i) + "\n";
    stream += "commit refs/heads/local\ncommitter Dev <dev@example.com> 1600000000 +0000\n";
    stream += "data " + std::to_string(message.size()) + "\n" + message;
    stream += "M 644 inline f.txt\ndata " + std::to_string(message.size()) + "\n" + message + "\n";
  }
  const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe): nobody sets it
  const ProcessResult imported =
      RunProcess({"git", "-C", local, "fast-import", "--quiet"},
                 {"PATH=" + std::string(path != nullptr ? path : "/usr/bin:/bin"),
                  "GIT_CONFIG_NOSYSTEM=1", "HOME=" + local},
                 stream);
  ASSERT_TRUE(imported.ok()) << imported.err;

  const ProcessResult fetch =
      git_.Run({"-C", local, "fetch", "--quiet", gitlab_->GitUrl("group/private-project"), "main"},
               TokenFor(kBob));

  ASSERT_TRUE(fetch.ok()) << fetch.err;
  const auto requests = gitlab_->RequestsTo("/git-upload-pack");
  EXPECT_TRUE(std::any_of(requests.begin(), requests.end(), [](const RecordedRequest& request) {
    return request.Header("content-encoding") == "gzip";
  }));
  const ProcessResult show = git_.Run({"-C", local, "show", "FETCH_HEAD:README.md"});
  EXPECT_EQ(show.out, "seeded\n") << show.err;
}

// --- FakeGitHub ---

class FakeGitHubGitTest : public ::testing::Test {
 protected:
  FakeGitHubGitTest() { Start(FakeGitHub::Options()); }

  void Start(const FakeGitHub::Options& options) {
    github_.reset();
    github_ = std::make_unique<FakeGitHub>(clock_, options);
    GitHubInstallation writer;
    writer.account_login = "octo-org";
    writer.account_id = 500;
    writer.account_type = "Organization";
    writer.user_ids = {kAlice.id, kBob.id};
    writable_installation_ = github_->AddInstallation(writer);
    GitHubInstallation reader = writer;
    reader.account_login = "read-org";
    reader.account_id = 501;
    reader.permissions = {{"contents", "read"}, {"metadata", "read"}};
    read_only_installation_ = github_->AddInstallation(reader);
    AddRepository("octo-org/app", writable_installation_, "private");
  }

  void AddRepository(const std::string& full_name, std::int64_t installation_id,
                     const std::string& visibility) {
    GitHubRepository repository;
    repository.full_name = full_name;
    repository.visibility = visibility;
    repository.installation_id = installation_id;
    repository.collaborators = {{kAlice.id, GitHubRepoPermissions{.push = true, .pull = true}},
                                {kBob.id, GitHubRepoPermissions{.pull = true}}};
    github_->AddRepository(repository);
    github_->SeedRepository(full_name, {{"README.md", full_name + "\n"}});
  }

  Credentials TokenFor(const FakeUser& user) {
    return Credentials{"x-access-token", github_->IssueTokenPair(user, "").access_token};
  }

  testing::FakeClock clock_;
  std::unique_ptr<FakeGitHub> github_;
  std::int64_t writable_installation_ = 0;
  std::int64_t read_only_installation_ = 0;
  GitCli git_;
};

TEST_F(FakeGitHubGitTest, ClonesPrivateRepositoryInInstallation) {
  const ProcessResult clone = git_.Clone(github_->GitUrl("octo-org/app"), "clone", TokenFor(kBob));

  ASSERT_TRUE(clone.ok()) << clone.err;
  EXPECT_EQ(git_.ReadFile("clone", "README.md"), "octo-org/app\n");
  ASSERT_FALSE(github_->GitUsernames().empty());
  EXPECT_EQ(github_->GitUsernames().back(), "x-access-token");
}

TEST_F(FakeGitHubGitTest, PushWithContentsWriteLands) {
  const ProcessResult push =
      git_.CommitAndPush(github_->GitUrl("octo-org/app"), TokenFor(kAlice), "NEW.md", "pushed\n");

  ASSERT_TRUE(push.ok()) << push.err;
  EXPECT_EQ(github_->ReadFileFromHead("octo-org/app", "NEW.md"), "pushed\n");
}

TEST_F(FakeGitHubGitTest, RepositoryOutsideInstallationIsNotFound) {
  AddRepository("octo-org/elsewhere", 0, "private");

  const ProcessResult clone =
      git_.Clone(github_->GitUrl("octo-org/elsewhere"), "clone", TokenFor(kAlice));

  EXPECT_FALSE(clone.ok());
  EXPECT_NE(clone.err.find("remote: Repository not found."), std::string::npos) << clone.err;
  EXPECT_NE(clone.err.find("not found"), std::string::npos) << clone.err;
}

TEST_F(FakeGitHubGitTest, PushWithoutContentsWriteIsNotGranted) {
  AddRepository("read-org/lib", read_only_installation_, "private");

  const ProcessResult push =
      git_.CommitAndPush(github_->GitUrl("read-org/lib"), TokenFor(kAlice), "NEW.md", "pushed\n");

  EXPECT_FALSE(push.ok());
  EXPECT_NE(push.err.find("remote: Write access to repository not granted."), std::string::npos)
      << push.err;
  EXPECT_EQ(github_->ReadFileFromHead("read-org/lib", "NEW.md"), std::nullopt);
}

TEST_F(FakeGitHubGitTest, UserWithoutPushPermissionIsDenied) {
  const ProcessResult push =
      git_.CommitAndPush(github_->GitUrl("octo-org/app"), TokenFor(kBob), "NEW.md", "pushed\n");

  EXPECT_FALSE(push.ok());
  EXPECT_NE(push.err.find("remote: Permission to octo-org/app.git denied to bob."),
            std::string::npos)
      << push.err;
}

TEST_F(FakeGitHubGitTest, ExpiredTokenFailsAuthentication) {
  const Credentials credentials = TokenFor(kAlice);
  clock_.Advance(core::Seconds(28801));

  const ProcessResult clone = git_.Clone(github_->GitUrl("octo-org/app"), "clone", credentials);

  EXPECT_FALSE(clone.ok());
  EXPECT_NE(clone.err.find("remote: Invalid username or token. Password authentication is not "
                           "supported for Git operations."),
            std::string::npos)
      << clone.err;
  EXPECT_NE(clone.err.find("fatal: Authentication failed for"), std::string::npos) << clone.err;
}

TEST_F(FakeGitHubGitTest, BadTokenGetsGitHubBasicChallenge) {
  TestClient client;

  const core::HttpResponse response =
      client.Get(github_->GitUrl("octo-org/app") + "/info/refs?service=git-upload-pack",
                 {{"Authorization", BasicAuth("x-access-token", "ghu_not_a_token")}});

  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.Header("www-authenticate"), "Basic realm=\"GitHub\"");
}

TEST_F(FakeGitHubGitTest, PublicRepositoryClonesAnonymouslyWithoutSuffix) {
  AddRepository("octo-org/open", 0, "public");

  const ProcessResult clone = git_.Clone(github_->BaseUrl() + "/octo-org/open", "clone");

  ASSERT_TRUE(clone.ok()) << clone.err;
  EXPECT_EQ(git_.ReadFile("clone", "README.md"), "octo-org/open\n");
}

TEST_F(FakeGitHubGitTest, ProtectedBranchPushIsRefusedInsideReportStatus) {
  GitHubRepository repository;
  repository.full_name = "octo-org/guarded";
  repository.installation_id = writable_installation_;
  repository.collaborators = {{kAlice.id, GitHubRepoPermissions{.admin = true, .push = true}}};
  repository.protected_branches = {"main"};
  github_->AddRepository(repository);
  github_->SeedRepository("octo-org/guarded", {{"README.md", "guarded\n"}});

  const ProcessResult push = git_.CommitAndPush(github_->GitUrl("octo-org/guarded"),
                                                TokenFor(kAlice), "NEW.md", "pushed\n");

  EXPECT_FALSE(push.ok());
  EXPECT_NE(push.err.find("remote: error: GH006: Protected branch update failed for "
                          "refs/heads/main."),
            std::string::npos)
      << push.err;
  EXPECT_NE(push.err.find("[remote rejected]"), std::string::npos) << push.err;
}

TEST_F(FakeGitHubGitTest, EnterpriseServesGitOnWebHost) {
  FakeGitHub::Options options;
  options.enterprise = true;
  Start(options);

  const ProcessResult push =
      git_.CommitAndPush(github_->GitUrl("octo-org/app"), TokenFor(kAlice), "NEW.md", "pushed\n");

  ASSERT_TRUE(push.ok()) << push.err;
  EXPECT_EQ(github_->ReadFileFromHead("octo-org/app", "NEW.md"), "pushed\n");
}

}  // namespace
}  // namespace keybridge::fakes
