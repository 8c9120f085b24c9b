#include "service/repository_service.h"

#include <gtest/gtest.h>

#include "support/fake_clock.h"
#include "support/in_memory_repositories.h"
#include "support/scripted_http_client.h"

namespace keybridge::service {
namespace {

using core::ErrorCode;

// GitLab under a relative URL root, github.com, and a GitHub Enterprise App.
constexpr const char* kGitLabProject =
    "https://git.example.org/gitlab/api/v4/projects/group%2Fproject";
constexpr const char* kGitLabToken = "https://git.example.org/gitlab/oauth/token";
constexpr const char* kGitHubRepo = "https://api.github.com/repos/octo/repo";
constexpr const char* kGheRepo = "https://ghe.example.org/api/v3/repos/acme/tools";
constexpr const char* kProbeSuffix = "/info/refs?service=git-upload-pack";

const core::UserId kAlice("alice");
const core::ConnectionId kGitLabConnection("01HAAAAAAAAAAAAAAAAAAAAAAA");
const core::ConnectionId kGitHubConnection("01HBBBBBBBBBBBBBBBBBBBBBBB");

core::Provider Provider(std::string id, core::ProviderKind kind, std::string url) {
  core::Provider p;
  p.id = core::ProviderId(std::move(id));
  p.kind = kind;
  p.client_id = "cid";
  p.client_secret = core::Secret("csecret");
  p.display_name = "The " + p.id.value();
  p.url = std::move(url);
  p.app_slug = kind == core::ProviderKind::kGitHub ? "kb-app" : "";
  return p;
}

std::string GitLabBody(std::string_view visibility, int level) {
  return std::string(R"({"visibility":")") + std::string(visibility)
         + R"(","http_url_to_repo":"https://git.example.org/gitlab/group/project.git",)"
         + R"("web_url":"https://git.example.org/gitlab/group/project",)"
         + R"("permissions":{"project_access":{"access_level":)" + std::to_string(level)
         + R"(},"group_access":null}})";
}

constexpr const char* kPublicGitLabBody =
    R"({"visibility":"public","http_url_to_repo":"https://git.example.org/gitlab/group/project.git"})";

core::HttpResponse Response(int status, std::string content_type, std::string body = "",
                            std::vector<core::HttpHeader> extra = {}) {
  core::HttpResponse r;
  r.status = status;
  if (!content_type.empty()) {
    r.headers.push_back({"content-type", std::move(content_type)});
  }
  for (auto& h : extra) {
    r.headers.push_back(std::move(h));
  }
  r.body = std::move(body);
  return r;
}

core::HttpResponse GitAdvertisement() {
  return Response(200, "application/x-git-upload-pack-advertisement",
                  "001e# service=git-upload-pack\n0000");
}

std::string HeaderOf(const core::HttpRequest& request, std::string_view name) {
  for (const auto& h : request.headers) {
    if (h.name == name) {
      return h.value;
    }
  }
  return "";
}

class RepositoryServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(providers_
                    .Insert(Provider("gitlab", core::ProviderKind::kGitLab,
                                     "https://git.example.org/gitlab/"))
                    .ok());
    ASSERT_TRUE(
        providers_.Insert(Provider("github", core::ProviderKind::kGitHub, "https://github.com"))
            .ok());
    ASSERT_TRUE(
        providers_.Insert(Provider("ghe", core::ProviderKind::kGitHub, "https://ghe.example.org"))
            .ok());
  }

  // Gives alice a connected connection to `provider_id` whose access token lives two hours.
  void Connect(const core::ConnectionId& id, const std::string& provider_id,
               const std::string& access) {
    const core::Seconds ttl(7200);
    core::Connection c;
    c.id = id;
    c.user_id = kAlice;
    c.provider_id = core::ProviderId(provider_id);
    ASSERT_TRUE(connections_.FindOrInsert(c).ok());
    core::TokenSet token;
    token.access_token = core::Secret(access);
    token.refresh_token = core::Secret("refresh-" + access);
    token.expires_in = ttl.count();
    token.expires_at = clock_.Now() + ttl;
    token.obtained_at = clock_.Now();
    ASSERT_TRUE(connections_.StoreToken(id, token, clock_.Now()).ok());
  }

  RepositoryCheck Check(const core::Caller& caller, std::string_view url,
                        std::string_view if_none_match = "") {
    auto check = service_.Check(caller, url, if_none_match);
    EXPECT_TRUE(check.ok()) << check.error().message;
    return check.ok() ? std::move(check).value() : RepositoryCheck{};
  }

  static core::Caller Alice() { return core::Caller::User(kAlice); }
  static core::Caller Session(std::vector<core::ConnectionId> connection_ids,
                              std::vector<std::string> repository_urls) {
    core::Caller caller = core::Caller::User(kAlice);
    caller.session_scope = core::SessionScope{"tok1", "session-1", std::move(connection_ids),
                                              std::move(repository_urls)};
    return caller;
  }

  testing::FakeClock clock_;
  testing::InMemoryProviderRepository providers_;
  testing::InMemoryConnectionRepository connections_;
  testing::ScriptedHttpClient http_;   // providers: API and token endpoints
  testing::ScriptedHttpClient probe_;  // stands in for the guarded net::ProbeClient
  ProviderGateway gateway_{http_, clock_};
  ProviderMatcher matcher_{providers_};
  SessionScopePolicy scope_{connections_, matcher_};
  TokenService tokens_{
      connections_,
      providers_,
      gateway_,
      clock_,
      scope_,
      TokenServiceOptions{core::Seconds(300), core::PublicUrls("https://kb.example.org")}};
  RepositoryService service_{
      matcher_, connections_, tokens_, core::PublicUrls("https://kb.example.org"), http_, probe_};
};

TEST_F(RepositoryServiceTest, EmptyUrlIsInvalidArgument) {
  for (const char* url : {"", "  \t"}) {
    auto check = service_.Check(Alice(), url, "");

    ASSERT_FALSE(check.ok());
    EXPECT_EQ(check.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(check.error().message, "A repository url is required");
  }
}

TEST_F(RepositoryServiceTest, UrlProblemsAreReportedWithoutAnyRequest) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"github.com/octo/repo", "no_url_scheme"},
      {"https:///octo/repo", "no_url_host"},
      {"ssh://git@github.com/octo/repo", "invalid_url_scheme"},
      {"https://token@github.com/octo/repo", "invalid_git_url"},
      {"https://github.com/octo/../repo", "invalid_git_url"}};

  for (const auto& [url, code] : cases) {
    const auto check = Check(Alice(), url);

    ASSERT_TRUE(check.error) << url;
    EXPECT_EQ(ToString(*check.error), code) << url;
    EXPECT_EQ(check.Status(), "invalid");
    EXPECT_FALSE(check.message.empty());
    EXPECT_FALSE(check.provider);
  }
  EXPECT_TRUE(http_.Requests().empty());
  EXPECT_TRUE(probe_.Requests().empty());
}

TEST_F(RepositoryServiceTest, WithoutAProviderTheGitProbeDecides) {
  probe_.Always("GET", std::string("https://git.other.org/r.git") + kProbeSuffix,
                GitAdvertisement());

  const auto check = Check(core::Caller::Anonymous(), " https://git.other.org/r.git/ ");

  EXPECT_EQ(check.Status(), "valid");
  ASSERT_TRUE(check.metadata);
  EXPECT_EQ(check.metadata->git_url, "https://git.other.org/r.git");
  EXPECT_TRUE(check.metadata->pull_permission);
  EXPECT_FALSE(check.metadata->push_permission.has_value());
  EXPECT_TRUE(check.metadata->is_public);
  EXPECT_FALSE(check.provider);
  EXPECT_TRUE(check.connect_url.empty());
  EXPECT_TRUE(http_.Requests().empty());
  EXPECT_EQ(probe_.Requests().at(0).timeout, std::chrono::seconds(5));
}

TEST_F(RepositoryServiceTest, ProbeWithoutTheGitContentTypeIsNoGitRepo) {
  const std::string probe = std::string("https://web.other.org/page") + kProbeSuffix;
  probe_.Always("GET", probe, Response(200, "text/html", "<html>"));

  const auto check = Check(Alice(), "https://web.other.org/page");

  EXPECT_EQ(ToString(*check.error), "no_git_repo");
  EXPECT_FALSE(check.metadata);
}

TEST_F(RepositoryServiceTest, GitContentTypeParametersAndCaseAreIgnored) {
  probe_.Always(
      "GET", std::string("https://git.other.org/r") + kProbeSuffix,
      Response(200, "Application/X-Git-Upload-Pack-Advertisement; charset=binary", "001e"));

  EXPECT_EQ(Check(Alice(), "https://git.other.org/r").Status(), "valid");
}

TEST_F(RepositoryServiceTest, ARefusedProbeIsInvalidGitUrl) {
  probe_.Enqueue("GET", std::string("http://127.0.0.1:8080/r") + kProbeSuffix,
                 core::MakeError(ErrorCode::kPermissionDenied, "refused to probe 127.0.0.1"));

  const auto check = Check(Alice(), "http://127.0.0.1:8080/r");

  EXPECT_EQ(ToString(*check.error), "invalid_git_url");
  EXPECT_EQ(check.Status(), "invalid");
}

TEST_F(RepositoryServiceTest, AnUnreachableProbeIsNoGitRepo) {
  const auto check = Check(Alice(), "https://nowhere.other.org/r");  // unscripted: kUnavailable

  EXPECT_EQ(ToString(*check.error), "no_git_repo");
}

TEST_F(RepositoryServiceTest, AFailedProbeIsRememberedSoAskingAgainCostsNoProbe) {
  const std::string silent = "https://silent.other.org/r";
  probe_.Enqueue("GET", silent + kProbeSuffix,
                 core::MakeError(ErrorCode::kUnavailable, "request to silent.other.org timed out"));

  const auto first = Check(Alice(), silent);
  const auto again = Check(core::Caller(), silent);
  const auto other = Check(Alice(), "https://other.other.org/r");

  EXPECT_EQ(ToString(*first.error), "no_git_repo");
  EXPECT_EQ(ToString(*again.error), "no_git_repo");
  EXPECT_EQ(again.message, first.message);
  ASSERT_EQ(probe_.Requests().size(), 2U) << "the silent URL once, the other URL once";
  EXPECT_EQ(probe_.Requests().at(1).url, "https://other.other.org/r" + std::string(kProbeSuffix));
}

TEST_F(RepositoryServiceTest, AnonymousCallerGetsPublicMetadataAndAConnectUrl) {
  http_.Always("GET", kGitLabProject, testing::JsonResponse(200, kPublicGitLabBody));

  const auto check =
      Check(core::Caller::Anonymous(), "https://git.example.org/gitlab/group/project.git");

  EXPECT_EQ(check.Status(), "valid");
  ASSERT_TRUE(check.provider);
  EXPECT_EQ(check.provider->id, "gitlab");
  EXPECT_FALSE(check.connection);
  EXPECT_EQ(check.connect_url, "https://kb.example.org/api/data/oauth2/providers/gitlab/authorize");
  EXPECT_TRUE(check.metadata->pull_permission);
  EXPECT_EQ(check.metadata->push_permission, false);
  EXPECT_EQ(HeaderOf(http_.Requests().at(0), "Authorization"), "");
  EXPECT_TRUE(probe_.Requests().empty());
}

TEST_F(RepositoryServiceTest, ConnectedUserIsAskedAboutWithTheirToken) {
  Connect(kGitLabConnection, "gitlab", "gl-access");
  http_.Always("GET", kGitLabProject,
               Response(200, "application/json", GitLabBody("private", 30), {{"etag", "W/\"1\""}}));

  const auto check = Check(Alice(), "https://git.example.org/gitlab/group/project");

  EXPECT_EQ(check.Status(), "valid");
  EXPECT_TRUE(check.metadata->pull_permission);
  EXPECT_EQ(check.metadata->push_permission, true);
  EXPECT_FALSE(check.metadata->is_public);
  EXPECT_EQ(check.etag, "W/\"1\"");
  ASSERT_TRUE(check.connection);
  EXPECT_EQ(check.connection->id, kGitLabConnection);
  EXPECT_EQ(check.connection->status, core::ConnectionStatus::kConnected);
  EXPECT_TRUE(check.connect_url.empty());
  EXPECT_EQ(HeaderOf(http_.Requests().at(0), "Authorization"), "Bearer gl-access");
}

TEST_F(RepositoryServiceTest, GitLabGuestHasNoPullOnAPrivateProject) {
  Connect(kGitLabConnection, "gitlab", "gl-access");
  http_.Always("GET", kGitLabProject, testing::JsonResponse(200, GitLabBody("private", 10)));

  const auto check = Check(Alice(), "https://git.example.org/gitlab/group/project");

  EXPECT_FALSE(check.metadata->pull_permission);
  EXPECT_EQ(check.metadata->push_permission, false);
}

TEST_F(RepositoryServiceTest, TheResultNeverCarriesSecrets) {
  Connect(kGitLabConnection, "gitlab", "gl-access");
  http_.Always("GET", kGitLabProject, testing::JsonResponse(200, GitLabBody("private", 30)));

  const auto check = Check(Alice(), "https://git.example.org/gitlab/group/project");

  EXPECT_FALSE(check.provider->client_secret);
  EXPECT_FALSE(check.connection->token);
}

TEST_F(RepositoryServiceTest, ARejectedTokenFallsBackToAnonymous) {
  Connect(kGitLabConnection, "gitlab", "revoked");
  http_.Enqueue("GET", kGitLabProject,
                testing::JsonResponse(401, R"({"message":"401 Unauthorized"})"));
  http_.Enqueue("GET", kGitLabProject, testing::JsonResponse(200, kPublicGitLabBody));

  const auto check = Check(Alice(), "https://git.example.org/gitlab/group/project");

  EXPECT_EQ(check.Status(), "valid");
  EXPECT_FALSE(check.error);
  EXPECT_EQ(http_.CountRequests(kGitLabProject), 2U);
  EXPECT_EQ(HeaderOf(http_.Requests().at(1), "Authorization"), "");
}

TEST_F(RepositoryServiceTest, WhenBothAttemptsFailTheTokenErrorIsKeptAndTheProbeRuns) {
  Connect(kGitLabConnection, "gitlab", "revoked");
  http_.Enqueue("GET", kGitLabProject,
                testing::JsonResponse(401, R"({"message":"401 Unauthorized"})"));
  http_.Enqueue("GET", kGitLabProject,
                testing::JsonResponse(404, R"({"message":"404 Project Not Found"})"));
  probe_.Always("GET", std::string("https://git.example.org/gitlab/group/project") + kProbeSuffix,
                Response(401, "text/plain"));

  const auto check = Check(Alice(), "https://git.example.org/gitlab/group/project");

  EXPECT_EQ(ToString(*check.error), "metadata_unauthorized");
  EXPECT_NE(check.message.find("reconnect"), std::string::npos);
  EXPECT_FALSE(check.metadata);
  EXPECT_EQ(probe_.Requests().size(), 1U);
}

TEST_F(RepositoryServiceTest, AProviderErrorIsKeptNextToProbeMetadata) {
  http_.Always("GET", kGitLabProject, testing::JsonResponse(503, "{}"));
  probe_.Always("GET", std::string("https://git.example.org/gitlab/group/project") + kProbeSuffix,
                GitAdvertisement());

  const auto check = Check(Alice(), "https://git.example.org/gitlab/group/project");

  EXPECT_EQ(ToString(*check.error), "metadata_unknown");
  EXPECT_NE(check.message.find("HTTP 503"), std::string::npos);
  EXPECT_TRUE(check.metadata);
  EXPECT_EQ(check.Status(), "invalid");
}

TEST_F(RepositoryServiceTest, AValidationErrorIsNotRetriedAnonymously) {
  Connect(kGitLabConnection, "gitlab", "gl-access");
  http_.Always("GET", kGitLabProject, testing::JsonResponse(200, "[1,2]"));

  const auto check = Check(Alice(), "https://git.example.org/gitlab/group/project");

  EXPECT_EQ(ToString(*check.error), "metadata_validation");
  EXPECT_EQ(http_.CountRequests(kGitLabProject), 1U);
}

TEST_F(RepositoryServiceTest, AnUnreachableProviderIsMetadataUnknown) {
  const auto check = Check(core::Caller::Anonymous(), "https://github.com/octo/repo");

  EXPECT_EQ(ToString(*check.error), "metadata_unknown");
  EXPECT_NE(check.message.find("could not be reached"), std::string::npos);
}

TEST_F(RepositoryServiceTest, AGitHubAppThatCannotSeeTheRepositoryGivesItsInstallUrl) {
  Connect(kGitHubConnection, "github", "ghu_1");
  http_.Always("GET", kGitHubRepo, testing::JsonResponse(404, R"({"message":"Not Found"})"));

  const auto check = Check(Alice(), "https://github.com/octo/repo.git");

  EXPECT_EQ(ToString(*check.error), "metadata_unknown");
  EXPECT_EQ(check.install_url, "https://github.com/apps/kb-app/installations/new");
  EXPECT_NE(check.message.find("installed for 'octo'"), std::string::npos) << check.message;
  EXPECT_NE(check.message.find(check.install_url), std::string::npos);
  EXPECT_TRUE(check.connect_url.empty());
}

TEST_F(RepositoryServiceTest, EnterpriseInstallUrlUsesGithubApps) {
  Connect(kGitHubConnection, "ghe", "ghu_1");
  http_.Always("GET", kGheRepo, testing::JsonResponse(404, R"({"message":"Not Found"})"));

  const auto check = Check(Alice(), "https://ghe.example.org/acme/tools");

  EXPECT_EQ(check.install_url, "https://ghe.example.org/github-apps/kb-app/installations/new");
}

TEST_F(RepositoryServiceTest, AnonymousGitHub404HasNoInstallUrl) {
  http_.Always("GET", kGitHubRepo, testing::JsonResponse(404, R"({"message":"Not Found"})"));

  const auto check = Check(core::Caller::Anonymous(), "https://github.com/octo/repo");

  EXPECT_EQ(ToString(*check.error), "metadata_unknown");
  EXPECT_TRUE(check.install_url.empty());
  EXPECT_FALSE(check.connect_url.empty());
}

TEST_F(RepositoryServiceTest, APublicRepositoryOutsideTheInstallationIsStillValid) {
  Connect(kGitHubConnection, "github", "ghu_1");
  http_.Enqueue("GET", kGitHubRepo, testing::JsonResponse(404, R"({"message":"Not Found"})"));
  http_.Enqueue(
      "GET", kGitHubRepo,
      testing::JsonResponse(
          200, R"({"visibility":"public","clone_url":"https://github.com/octo/repo.git"})"));

  const auto check = Check(Alice(), "https://github.com/octo/repo");

  EXPECT_EQ(check.Status(), "valid");
  EXPECT_TRUE(check.install_url.empty());
}

TEST_F(RepositoryServiceTest, ARefusedRefreshShowsTheConnectionAndFallsBackToAnonymous) {
  Connect(kGitLabConnection, "gitlab", "expired");
  clock_.Advance(core::Seconds(7150));
  http_.Always("POST", kGitLabToken, testing::JsonResponse(400, R"({"error":"invalid_grant"})"));
  http_.Always("GET", kGitLabProject,
               testing::JsonResponse(404, R"({"message":"404 Project Not Found"})"));

  const auto check = Check(Alice(), "https://git.example.org/gitlab/group/project");

  ASSERT_TRUE(check.connection);
  EXPECT_EQ(check.connection->status, core::ConnectionStatus::kInvalidCredentials);
  EXPECT_EQ(ToString(*check.error), "metadata_oauth");
  EXPECT_EQ(check.connect_url, "https://kb.example.org/api/data/oauth2/providers/gitlab/authorize");
  EXPECT_EQ(HeaderOf(http_.Requests().back(), "Authorization"), "");
}

TEST_F(RepositoryServiceTest, ARefreshedTokenIsUsed) {
  Connect(kGitLabConnection, "gitlab", "expiring");
  clock_.Advance(core::Seconds(7150));
  http_.Always("POST", kGitLabToken,
               testing::JsonResponse(200, R"({"access_token":"fresh","token_type":"Bearer",)"
                                          R"("expires_in":7200,"refresh_token":"r2"})"));
  http_.Always("GET", kGitLabProject, testing::JsonResponse(200, GitLabBody("private", 40)));

  const auto check = Check(Alice(), "https://git.example.org/gitlab/group/project");

  EXPECT_EQ(check.Status(), "valid");
  EXPECT_EQ(HeaderOf(http_.Requests().back(), "Authorization"), "Bearer fresh");
}

TEST_F(RepositoryServiceTest, APendingConnectionIsReportedWithAConnectUrl) {
  core::Connection pending;
  pending.id = kGitLabConnection;
  pending.user_id = kAlice;
  pending.provider_id = core::ProviderId("gitlab");
  ASSERT_TRUE(connections_.FindOrInsert(pending).ok());
  http_.Always("GET", kGitLabProject, testing::JsonResponse(200, kPublicGitLabBody));

  const auto check = Check(Alice(), "https://git.example.org/gitlab/group/project");

  EXPECT_EQ(check.connection->status, core::ConnectionStatus::kPending);
  EXPECT_FALSE(check.connect_url.empty());
  EXPECT_EQ(HeaderOf(http_.Requests().at(0), "Authorization"), "");
}

TEST_F(RepositoryServiceTest, NotModifiedIsPassedThroughWithTheETag) {
  http_.Always("GET", kGitLabProject, Response(304, "", "", {{"etag", "W/\"7\""}}));

  const auto check =
      Check(core::Caller::Anonymous(), "https://git.example.org/gitlab/group/project", "W/\"7\"");

  EXPECT_TRUE(check.not_modified);
  EXPECT_EQ(check.etag, "W/\"7\"");
  EXPECT_EQ(HeaderOf(http_.Requests().at(0), "If-None-Match"), "W/\"7\"");
  EXPECT_TRUE(probe_.Requests().empty());
}

TEST_F(RepositoryServiceTest, UnprintableIfNoneMatchIsNotForwarded) {
  http_.Always("GET", kGitLabProject, testing::JsonResponse(200, kPublicGitLabBody));

  Check(core::Caller::Anonymous(), "https://git.example.org/gitlab/group/project", "\"a\"\x01");
  Check(core::Caller::Anonymous(), "https://git.example.org/gitlab/group/project",
        std::string(2000, 'x'));

  for (const auto& request : http_.Requests()) {
    EXPECT_EQ(HeaderOf(request, "If-None-Match"), "");
  }
}

TEST_F(RepositoryServiceTest, APathThatNamesNoRepositoryIsLeftToTheProbe) {
  probe_.Always("GET", std::string("https://github.com/octo/repo/tree/main") + kProbeSuffix,
                Response(404, "text/html"));

  const auto check = Check(Alice(), "https://github.com/octo/repo/tree/main");

  EXPECT_EQ(check.provider->id, "github");
  EXPECT_EQ(ToString(*check.error), "no_git_repo");
  EXPECT_TRUE(http_.Requests().empty());
}

TEST_F(RepositoryServiceTest, TwoProvidersOnOneHostEachServeTheirPrefix) {
  ASSERT_TRUE(providers_
                  .Insert(Provider("gitlab-team", core::ProviderKind::kGitLab,
                                   "https://git.example.org/gitlab/team"))
                  .ok());
  http_.Always("GET", kGitLabProject, testing::JsonResponse(200, kPublicGitLabBody));
  http_.Always("GET", "https://git.example.org/gitlab/team/api/v4/projects/g%2Fp",
               testing::JsonResponse(200, kPublicGitLabBody));

  EXPECT_EQ(Check(Alice(), "https://git.example.org/gitlab/group/project").provider->id, "gitlab");
  EXPECT_EQ(Check(Alice(), "https://git.example.org/gitlab/team/g/p").provider->id, "gitlab-team");
}

TEST_F(RepositoryServiceTest, ASessionUsesItsOwnersTokenOnlyWithinItsScope) {
  Connect(kGitLabConnection, "gitlab", "gl-access");
  http_.Always("GET", kGitLabProject, testing::JsonResponse(200, GitLabBody("internal", 30)));
  const std::string url = "https://git.example.org/gitlab/group/project";

  Check(Session({}, {"https://github.com/octo/repo"}), url);
  Check(Session({kGitLabConnection}, {}), url);
  Check(Session({}, {"https://git.example.org/gitlab/other/repo.git"}), url);
  Check(Session({}, {"https://git.example.org/gitlab/group/project.git"}), url);

  const auto requests = http_.Requests();
  ASSERT_EQ(requests.size(), 4U);
  EXPECT_EQ(HeaderOf(requests[0], "Authorization"), "") << "out of scope: anonymous";
  EXPECT_EQ(HeaderOf(requests[1], "Authorization"), "Bearer gl-access");
  EXPECT_EQ(HeaderOf(requests[2], "Authorization"), "")
      << "scoped to another repository of the same provider: anonymous";
  EXPECT_EQ(HeaderOf(requests[3], "Authorization"), "Bearer gl-access");
}

// Security issue, defect 10: outside its scope a session token learns nothing of its owner's
// connection (not its id, not its status), as an anonymous caller would not.
TEST_F(RepositoryServiceTest, ASessionSeesItsOwnersConnectionOnlyWithinItsScope) {
  Connect(kGitLabConnection, "gitlab", "gl-access");
  http_.Always("GET", kGitLabProject, testing::JsonResponse(200, GitLabBody("internal", 30)));
  const std::string url = "https://git.example.org/gitlab/group/project";

  const RepositoryCheck outside = Check(Session({}, {"https://github.com/octo/repo"}), url);
  const RepositoryCheck inside = Check(Session({kGitLabConnection}, {}), url);

  EXPECT_FALSE(outside.connection.has_value()) << "out of scope: no connection id or status";
  EXPECT_TRUE(outside.provider.has_value()) << "which integration serves it is public";
  ASSERT_TRUE(inside.connection.has_value());
  EXPECT_EQ(inside.connection->id, kGitLabConnection);
}

TEST_F(RepositoryServiceTest, ToStringCoversEveryCode) {
  EXPECT_EQ(ToString(RepositoryErrorCode::kNoUrlScheme), "no_url_scheme");
  EXPECT_EQ(ToString(RepositoryErrorCode::kNoUrlHost), "no_url_host");
  EXPECT_EQ(ToString(RepositoryErrorCode::kNoGitRepo), "no_git_repo");
  EXPECT_EQ(ToString(RepositoryErrorCode::kInvalidUrlScheme), "invalid_url_scheme");
  EXPECT_EQ(ToString(RepositoryErrorCode::kInvalidGitUrl), "invalid_git_url");
  EXPECT_EQ(ToString(RepositoryErrorCode::kMetadataUnauthorized), "metadata_unauthorized");
  EXPECT_EQ(ToString(RepositoryErrorCode::kMetadataOauth), "metadata_oauth");
  EXPECT_EQ(ToString(RepositoryErrorCode::kMetadataUnknown), "metadata_unknown");
  EXPECT_EQ(ToString(RepositoryErrorCode::kMetadataValidation), "metadata_validation");
}

}  // namespace
}  // namespace keybridge::service
