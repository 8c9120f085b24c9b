// End to end: GET /api/data/repository against the fake GitLab (under a relative URL root, with
// members of different levels) and the fake GitHub Enterprise App (installed and not installed
// repositories), plus a small loopback GitLab API that serves two groups on one host and sends
// ETags. The SSRF guard is on, as in production: loopback URLs that no provider serves are never
// probed.
#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/url.h"
#include "fakes/fake_github.h"
#include "fakes/fake_gitlab.h"
#include "http/message.h"
#include "http/server.h"
#include "integration/harness.h"
#include "support/fake_clock.h"

namespace keybridge {
namespace {

using nlohmann::json;

// A GitLab REST API for public projects under two relative URL roots on one host (/groupA and
// /groupB), with ETags and 304s, and a plain git endpoint under /plain. Records every request.
class TwoGroupGitLab {
 public:
  struct Seen {
    std::string path;
    std::string if_none_match;
  };

  TwoGroupGitLab() : server_(Options(), [this](http::Request& r) { return Handle(r); }) {
    server_.Start();
  }
  ~TwoGroupGitLab() { server_.Stop(); }

  std::string Origin() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
  std::vector<Seen> Requests() const {
    const std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  static http::ServerOptions Options() {
    http::ServerOptions options;
    options.log_requests = false;
    return options;
  }

  http::Response Handle(http::Request& request) {
    {
      const std::lock_guard lock(mu_);
      seen_.push_back({request.path, request.Header("if-none-match")});
    }
    for (const std::string group : {"/groupA", "/groupB"}) {
      const std::string root = group + "/api/v4/projects/";
      if (!request.path.starts_with(root)) {
        continue;
      }
      const std::string id =
          core::PercentDecode(request.path.substr(root.size()), false).value_or("");
      const std::string etag = "\"" + group.substr(1) + "-v1\"";
      if (request.Header("if-none-match") == etag) {
        http::Response not_modified;
        not_modified.status = 304;
        return not_modified.WithHeader("ETag", etag);
      }
      const std::string web_url = Origin().append(group).append("/").append(id);
      const json body = {{"id", 7},
                         {"path_with_namespace", id},
                         {"visibility", "public"},
                         {"http_url_to_repo", web_url + ".git"},
                         {"web_url", web_url}};
      return http::Response::Json(200, body.dump()).WithHeader("ETag", etag);
    }
    if (request.path.starts_with("/plain/") && request.path.ends_with("/info/refs")) {
      http::Response advertisement;
      advertisement.headers.push_back(
          {"Content-Type", "application/x-git-upload-pack-advertisement"});
      advertisement.body = "001e# service=git-upload-pack\n0000";
      return advertisement;
    }
    return http::Response::Json(404, R"({"message":"404 Not Found"})");
  }

  mutable std::mutex mu_;
  std::vector<Seen> seen_;
  http::Server server_;
};

class RepositoryCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string callback = kb_.BaseUrl() + "/api/data/oauth2/callback";
    gitlab_.SetRedirectUris({callback});
    github_.SetRedirectUris({callback});
    kb_.CreateProvider({{"id", "gitlab"},
                        {"kind", "gitlab"},
                        {"client_id", gitlab_.AppOptions().client_id},
                        {"client_secret", gitlab_.AppOptions().client_secret},
                        {"display_name", "Fake GitLab"},
                        {"scope", "api"},
                        {"url", gitlab_.BaseUrl()}});
    kb_.CreateProvider({{"id", "ghe"},
                        {"kind", "github"},
                        {"app_slug", "keybridge-test"},
                        {"client_id", github_.AppOptions().client_id},
                        {"client_secret", github_.AppOptions().client_secret},
                        {"display_name", "Fake GHE"},
                        {"scope", ""},
                        {"use_pkce", true},
                        {"url", github_.BaseUrl()}});
    for (const char* group : {"groupA", "groupB"}) {
      kb_.CreateProvider({{"id", std::string(group) == "groupA" ? "group-a" : "group-b"},
                          {"kind", "gitlab"},
                          {"client_id", "cid"},
                          {"client_secret", "secret"},
                          {"display_name", std::string("GitLab ") + group},
                          {"scope", "api"},
                          {"url", groups_.Origin() + "/" + group}});
    }
    alice_ = kb_.issuer().TokenFor("alice");
    bob_ = kb_.issuer().TokenFor("bob");
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

  void AddGitLabProject(const std::string& path, const std::string& visibility, int alice_level) {
    fakes::GitLabProject project;
    project.path_with_namespace = path;
    project.visibility = visibility;
    if (alice_level > 0) {
      project.members[1] = alice_level;  // FakeUser alice has id 1
    }
    gitlab_.AddProject(project);
  }

  core::HttpResponse Check(const std::string& url, const std::string& bearer = "",
                           std::vector<core::HttpHeader> headers = {}) {
    return kb_.Call("GET", "/api/data/repository?url=" + core::PercentEncode(url), bearer, "",
                    std::move(headers));
  }
  json CheckJson(const std::string& url, const std::string& bearer = "") {
    const auto response = Check(url, bearer);
    EXPECT_EQ(response.status, 200) << response.body;
    return json::parse(response.body, nullptr, false);
  }

  testing::FakeClock provider_clock_{std::chrono::system_clock::now()};
  fakes::FakeGitLab gitlab_{provider_clock_, GitLabOptions()};
  fakes::FakeGitHub github_{provider_clock_, GitHubOptions()};
  TwoGroupGitLab groups_;
  testing::KeybridgeHarness kb_;
  std::string alice_;
  std::string bob_;
};

TEST_F(RepositoryCheckTest, GitLabPermissionsFollowTheMemberLevel) {
  AddGitLabProject("team/guest", "private", fakes::kGitLabGuest);
  AddGitLabProject("team/reporter", "private", fakes::kGitLabReporter);
  AddGitLabProject("team/developer", "private", fakes::kGitLabDeveloper);
  ASSERT_EQ(kb_.Connect(alice_, "gitlab").status, 200);
  const std::string root = gitlab_.BaseUrl() + "/team/";

  const json guest = CheckJson(root + "guest.git", alice_);
  const json reporter = CheckJson(root + "reporter", alice_);
  const json developer = CheckJson(root + "developer.git", alice_);

  EXPECT_EQ(guest["status"], "valid") << guest.dump();
  EXPECT_EQ(guest["metadata"]["pull_permission"], false) << "a Guest cannot read private code";
  EXPECT_EQ(guest["metadata"]["push_permission"], false);
  EXPECT_EQ(reporter["metadata"]["pull_permission"], true);
  EXPECT_EQ(reporter["metadata"]["push_permission"], false);
  EXPECT_EQ(developer["metadata"]["pull_permission"], true);
  EXPECT_EQ(developer["metadata"]["push_permission"], true);
  EXPECT_EQ(developer["metadata"]["visibility"], "private");
  EXPECT_EQ(developer["metadata"]["git_url"], gitlab_.BaseUrl() + "/team/developer.git");
  EXPECT_EQ(developer["provider"],
            json({{"id", "gitlab"}, {"name", "Fake GitLab"}, {"url", gitlab_.BaseUrl()}}));
  EXPECT_EQ(developer["connection"]["provider_id"], "gitlab");
  EXPECT_EQ(developer["connection"]["status"], "connected");
  EXPECT_EQ(developer["connection"]["id"], kb_.ConnectionId(alice_, "gitlab"));
  EXPECT_FALSE(developer.contains("connect_url"));
  EXPECT_FALSE(developer.contains("error_code"));
  // The project id is the path below the relative URL root, with the user's token.
  const auto calls = gitlab_.RequestsTo("/api/v4/projects/team%2Fdeveloper");
  ASSERT_EQ(calls.size(), 1U);
  EXPECT_EQ(calls[0].Header("authorization").rfind("Bearer ", 0), 0U);
}

TEST_F(RepositoryCheckTest, WithoutAConnectionTheCheckOffersToConnect) {
  AddGitLabProject("team/developer", "private", fakes::kGitLabDeveloper);
  AddGitLabProject("team/open", "public", 0);
  const std::string connect_url = kb_.BaseUrl() + "/api/data/oauth2/providers/gitlab/authorize";

  const json private_for_bob = CheckJson(gitlab_.BaseUrl() + "/team/developer", bob_);
  const json public_for_anonymous = CheckJson(gitlab_.BaseUrl() + "/team/open");

  EXPECT_EQ(private_for_bob["status"], "invalid");
  EXPECT_EQ(private_for_bob["error_code"], "metadata_unknown");
  EXPECT_EQ(private_for_bob["connect_url"], connect_url);
  EXPECT_FALSE(private_for_bob.contains("connection"));
  EXPECT_FALSE(private_for_bob.contains("metadata"));
  EXPECT_EQ(public_for_anonymous["status"], "valid");
  EXPECT_EQ(public_for_anonymous["metadata"]["visibility"], "public");
  EXPECT_EQ(public_for_anonymous["metadata"]["pull_permission"], true);
  EXPECT_EQ(public_for_anonymous["connect_url"], connect_url);
  EXPECT_TRUE(gitlab_.RequestsTo("/info/refs").empty()) << "the guard kept the probe off loopback";
}

TEST_F(RepositoryCheckTest, GitHubEnterpriseAppSeesInstalledRepositoriesOnly) {
  fakes::GitHubInstallation installation;
  installation.account_login = "alice";
  installation.account_id = 1;
  installation.user_ids = {1};
  const std::int64_t installation_id = github_.AddInstallation(installation);
  fakes::GitHubRepository tool;
  tool.full_name = "alice/tool";
  tool.installation_id = installation_id;
  fakes::GitHubRepoPermissions writer;
  writer.push = true;
  tool.collaborators[1] = writer;
  github_.AddRepository(tool);
  fakes::GitHubRepository outside;
  outside.full_name = "acme/secret";
  outside.collaborators[1] = writer;  // alice may push, but the App is not installed for acme
  github_.AddRepository(outside);
  ASSERT_EQ(kb_.Connect(alice_, "ghe").status, 200);

  const json installed = CheckJson(github_.BaseUrl() + "/alice/tool.git", alice_);
  const json not_installed = CheckJson(github_.BaseUrl() + "/acme/secret", alice_);

  EXPECT_EQ(installed["status"], "valid") << installed.dump();
  EXPECT_EQ(installed["metadata"]["pull_permission"], true);
  EXPECT_EQ(installed["metadata"]["push_permission"], true);
  EXPECT_EQ(installed["metadata"]["visibility"], "private");
  EXPECT_EQ(installed["metadata"]["git_url"], github_.BaseUrl() + "/alice/tool.git");
  EXPECT_EQ(installed["metadata"]["web_url"], github_.BaseUrl() + "/alice/tool");
  EXPECT_EQ(installed["provider"]["id"], "ghe");
  EXPECT_FALSE(installed.contains("install_url"));
  EXPECT_EQ(not_installed["status"], "invalid");
  EXPECT_EQ(not_installed["error_code"], "metadata_unknown");
  EXPECT_EQ(not_installed["install_url"],
            github_.BaseUrl() + "/github-apps/keybridge-test/installations/new");
  const std::string message = not_installed["message"];
  EXPECT_NE(message.find("installed for 'acme'"), std::string::npos) << message;
  EXPECT_EQ(not_installed["connection"]["status"], "connected");
  // The GitHub API calls carried the Enterprise prefix and the GitHub headers.
  const auto calls = github_.RequestsTo("/api/v3/repos/alice/tool");
  ASSERT_EQ(calls.size(), 1U);
  EXPECT_EQ(calls[0].Header("accept"), "application/vnd.github+json");
  EXPECT_EQ(calls[0].Header("x-github-api-version"), "2022-11-28");
}

TEST_F(RepositoryCheckTest, TwoProvidersOnOneHostEachServeTheirOwnPathPrefix) {
  const json a = CheckJson(groups_.Origin() + "/groupA/team/repo.git", alice_);
  const json b = CheckJson(groups_.Origin() + "/groupB/team/repo.git", alice_);

  EXPECT_EQ(a["provider"]["id"], "group-a");
  EXPECT_EQ(a["metadata"]["git_url"], groups_.Origin() + "/groupA/team/repo.git");
  EXPECT_EQ(b["provider"]["id"], "group-b");
  EXPECT_EQ(b["metadata"]["git_url"], groups_.Origin() + "/groupB/team/repo.git");
  const auto seen = groups_.Requests();
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[0].path, "/groupA/api/v4/projects/team%2Frepo");
  EXPECT_EQ(seen[1].path, "/groupB/api/v4/projects/team%2Frepo");
}

TEST_F(RepositoryCheckTest, ETagAndIfNoneMatchPassThrough) {
  const std::string url = groups_.Origin() + "/groupA/team/repo";

  const auto first = Check(url, alice_);
  const auto second = Check(url, alice_, {{"If-None-Match", first.Header("etag")}});

  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.Header("etag"), "\"groupA-v1\"");
  EXPECT_EQ(second.status, 304);
  EXPECT_EQ(second.body, "");
  EXPECT_EQ(second.Header("etag"), "\"groupA-v1\"");
  EXPECT_EQ(groups_.Requests().back().if_none_match, "\"groupA-v1\"");
}

TEST_F(RepositoryCheckTest, ALoopbackUrlNoProviderServesIsNeverProbed) {
  const std::string port = groups_.Origin().substr(groups_.Origin().rfind(':') + 1);
  const std::vector<std::string> urls = {groups_.Origin() + "/plain/repo.git",
                                         groups_.Origin() + "/groupAB/repo.git",
                                         "http://localhost:" + port + "/plain/x"};
  for (const std::string& url : urls) {
    const json result = CheckJson(url, alice_);

    EXPECT_EQ(result["status"], "invalid") << url;
    EXPECT_EQ(result["error_code"], "invalid_git_url") << url;
    EXPECT_FALSE(result.contains("provider")) << url;
  }
  EXPECT_TRUE(groups_.Requests().empty()) << "the server never saw a request";
}

TEST_F(RepositoryCheckTest, UrlProblemsAre200WithAnErrorCode) {
  EXPECT_EQ(CheckJson("github.com/o/r")["error_code"], "no_url_scheme");
  EXPECT_EQ(CheckJson("https:///o/r")["error_code"], "no_url_host");
  EXPECT_EQ(CheckJson("ssh://git@github.com/o/r")["error_code"], "invalid_url_scheme");
  EXPECT_EQ(CheckJson("http://169.254.169.254/latest/meta-data")["error_code"], "invalid_git_url");
  EXPECT_EQ(CheckJson("http://[::ffff:127.0.0.1]/x")["error_code"], "invalid_git_url");
}

TEST_F(RepositoryCheckTest, AMissingOrEmptyUrlIs422) {
  for (const std::string path :
       {"/api/data/repository", "/api/data/repository?url=", "/api/data/repository?url=%20",
        "/api/data/repository?url=https://h/x&extra=1"}) {
    const auto response = kb_.Call("GET", path);

    EXPECT_EQ(response.status, 422) << path;
    EXPECT_EQ(json::parse(response.body)["error"]["code"], 1422) << path;
  }
  EXPECT_NE(kb_.Call("GET", "/api/data/repository").body.find("A repository url is required"),
            std::string::npos);
}

TEST(RepositoryCheckPrivateProbe, TheAllowFlagLetsTheProbeReachAPrivateGitServer) {
  TwoGroupGitLab git;
  testing::KeybridgeHarness kb([](app::ServeConfig& config) {
    config.allow_private_probe = true;
    config.allow_any_probe_port = true;
  });
  const std::string url = git.Origin() + "/plain/repo.git";

  const auto response = kb.Call("GET", "/api/data/repository?url=" + core::PercentEncode(url), "");

  ASSERT_EQ(response.status, 200) << response.body;
  const json result = json::parse(response.body);
  EXPECT_EQ(result["status"], "valid");
  EXPECT_EQ(result["metadata"],
            json({{"git_url", url}, {"pull_permission", true}, {"visibility", "public"}}));
  ASSERT_EQ(git.Requests().size(), 1U);
  EXPECT_EQ(git.Requests()[0].path, "/plain/repo.git/info/refs");
}

}  // namespace
}  // namespace keybridge
