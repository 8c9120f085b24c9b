#include "oauth/repository.h"

#include <gtest/gtest.h>

#include "oauth/test_fixtures.h"

namespace keybridge::oauth {
namespace {

using testing::GitHubProvider;
using testing::GitLabProvider;
using testing::HeaderLines;
using testing::Json;
using testing::OidcProvider;

core::HttpRequest Build(const core::Provider& provider, std::string_view path,
                        const core::Secret* token = nullptr, std::string_view etag = "") {
  const auto endpoints = EndpointsFor(provider, nullptr).value();
  auto request = BuildRepositoryRequest(provider, endpoints, path, token, etag);
  EXPECT_TRUE(request.ok()) << path;
  return request.ok() ? *request : core::HttpRequest{};
}

// The error code of building a request for `path`, or nullopt when it builds.
std::optional<core::ErrorCode> BuildError(const core::Provider& provider, std::string_view path) {
  // OIDC endpoints come from discovery; the builder refuses the kind before using them.
  const auto endpoints = provider.kind == core::ProviderKind::kGenericOidc
                             ? ProviderEndpoints{}
                             : EndpointsFor(provider, nullptr).value();
  auto request = BuildRepositoryRequest(provider, endpoints, path, nullptr, "");
  return request.ok() ? std::nullopt : std::optional(request.error().code);
}

// A GitLab project as /api/v4/projects/:id answers it, with the given visibility and levels.
std::string GitLabProject(std::string_view visibility, std::string_view project_access,
                          std::string_view group_access, std::string_view extra = "") {
  return std::string(R"({"id":3,"path_with_namespace":"group/sub/project","visibility":")")
         + std::string(visibility) + R"(","http_url_to_repo":"https://gl.example/group/sub/)"
         + R"(project.git","web_url":"https://gl.example/group/sub/project",)"
         + R"("permissions":{"project_access":)" + std::string(project_access)
         + R"(,"group_access":)" + std::string(group_access) + "}" + std::string(extra) + "}";
}

std::string Level(int level) {
  return R"({"access_level":)" + std::to_string(level) + R"(,"notification_level":3})";
}

RepositoryMetadata GitLabMetadata(const std::string& body) {
  const auto lookup = ParseRepositoryResponse(core::ProviderKind::kGitLab, Json(200, body));
  EXPECT_EQ(lookup.outcome, RepositoryLookupOutcome::kFound) << body;
  return lookup.metadata;
}

RepositoryMetadata GitHubMetadata(const std::string& body) {
  const auto lookup = ParseRepositoryResponse(core::ProviderKind::kGitHub, Json(200, body));
  EXPECT_EQ(lookup.outcome, RepositoryLookupOutcome::kFound) << body;
  return lookup.metadata;
}

TEST(BuildRepositoryRequest, GitLabEncodesTheFullPathBelowARelativeUrlRoot) {
  const core::Secret token("glat");

  const auto request =
      Build(GitLabProvider("https://git.example.org/gitlab/"), "group/sub/project.git", &token);

  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.url, "https://git.example.org/gitlab/api/v4/projects/group%2Fsub%2Fproject");
  EXPECT_EQ(HeaderLines(request),
            (std::vector<std::string>{"Accept: application/json", "User-Agent: keybridge/0.1",
                                      "Authorization: Bearer glat"}));
  EXPECT_EQ(request.body, "");
}

TEST(BuildRepositoryRequest, AnonymousRequestHasNoAuthorizationAndForwardsIfNoneMatch) {
  const auto request = Build(GitLabProvider(), "g/p", nullptr, R"(W/"abc")");

  EXPECT_EQ(request.url, "https://gitlab.example.com/api/v4/projects/g%2Fp");
  EXPECT_EQ(HeaderLines(request),
            (std::vector<std::string>{"Accept: application/json", "User-Agent: keybridge/0.1",
                                      R"(If-None-Match: W/"abc")"}));
}

TEST(BuildRepositoryRequest, GitLabReencodesEscapedPaths) {
  EXPECT_EQ(Build(GitLabProvider(), "my%20group/p~x.git").url,
            "https://gitlab.example.com/api/v4/projects/my%20group%2Fp~x");
}

TEST(BuildRepositoryRequest, GitHubDotComUsesTheApiHostAndVersionHeaders) {
  const core::Secret token("ghu_x");

  const auto request = Build(GitHubProvider(), "octocat/Hello-World.git", &token);

  EXPECT_EQ(request.url, "https://api.github.com/repos/octocat/Hello-World");
  EXPECT_EQ(HeaderLines(request),
            (std::vector<std::string>{"Accept: application/vnd.github+json",
                                      "X-GitHub-Api-Version: 2022-11-28",
                                      "User-Agent: keybridge/0.1", "Authorization: Bearer ghu_x"}));
}

TEST(BuildRepositoryRequest, GitHubEnterpriseUsesApiV3) {
  EXPECT_EQ(Build(GitHubProvider("https://ghe.example.org"), "acme/tools").url,
            "https://ghe.example.org/api/v3/repos/acme/tools");
}

TEST(BuildRepositoryRequest, RejectsPathsThatCannotNameARepository) {
  for (const char* path : {"", "project", "a//b", "a/../b", "a/%2e/b", "a/%zz", "a%2Fb"}) {
    EXPECT_EQ(BuildError(GitLabProvider(), path), core::ErrorCode::kInvalidArgument) << path;
  }
  for (const char* path : {"", "octocat", "octocat/repo/tree/main", "o/%2F"}) {
    EXPECT_EQ(BuildError(GitHubProvider(), path), core::ErrorCode::kInvalidArgument) << path;
  }
  EXPECT_EQ(BuildError(OidcProvider(), "o/r"), core::ErrorCode::kInvalidArgument);
}

TEST(BuildRepositoryRequest, KeepsARepositoryCalledDotGit) {
  EXPECT_EQ(Build(GitHubProvider(), "o/.git").url, "https://api.github.com/repos/o/.git");
}

TEST(ParseRepositoryResponse, GitLabGuestCannotPullAPrivateProject) {
  const auto m = GitLabMetadata(GitLabProject("private", Level(10), "null"));

  EXPECT_FALSE(m.pull_permission) << "Renku's >= 10 would say yes; Guests cannot read code";
  EXPECT_EQ(m.push_permission, false);
  EXPECT_FALSE(m.is_public);
}

TEST(ParseRepositoryResponse, GitLabReporterPullsAndDeveloperPushes) {
  const auto reporter = GitLabMetadata(GitLabProject("private", Level(20), "null"));
  const auto developer = GitLabMetadata(GitLabProject("private", "null", Level(30)));

  EXPECT_TRUE(reporter.pull_permission);
  EXPECT_EQ(reporter.push_permission, false);
  EXPECT_TRUE(developer.pull_permission);
  EXPECT_EQ(developer.push_permission, true);
  EXPECT_EQ(developer.git_url, "https://gl.example/group/sub/project.git");
  EXPECT_EQ(developer.web_url, "https://gl.example/group/sub/project");
}

TEST(ParseRepositoryResponse, GitLabTakesTheHigherOfProjectAndGroupAccess) {
  const auto m = GitLabMetadata(GitLabProject("private", Level(10), Level(40)));

  EXPECT_TRUE(m.pull_permission);
  EXPECT_EQ(m.push_permission, true);
}

TEST(ParseRepositoryResponse, GitLabInternalIsPullableButNotPublic) {
  const auto m = GitLabMetadata(GitLabProject("internal", "null", "null"));

  EXPECT_TRUE(m.pull_permission);
  EXPECT_EQ(m.push_permission, false);
  EXPECT_FALSE(m.is_public);
}

TEST(ParseRepositoryResponse, GitLabAnonymousPublicProjectWithoutPermissions) {
  const auto m = GitLabMetadata(
      R"({"visibility":"public","http_url_to_repo":"https://gl/g/p.git","web_url":"https://gl/g/p"})");

  EXPECT_TRUE(m.pull_permission);
  EXPECT_EQ(m.push_permission, false);
  EXPECT_TRUE(m.is_public);
}

TEST(ParseRepositoryResponse, GitLabRepositoryFeatureNarrowsVisibility) {
  const auto members_only = GitLabMetadata(
      GitLabProject("public", "null", "null", R"(,"repository_access_level":"private")"));
  const auto member = GitLabMetadata(
      GitLabProject("public", Level(20), "null", R"(,"repository_access_level":"private")"));
  const auto disabled = GitLabMetadata(
      GitLabProject("public", Level(50), "null", R"(,"repository_access_level":"disabled")"));

  EXPECT_FALSE(members_only.pull_permission);
  EXPECT_FALSE(members_only.is_public);
  EXPECT_TRUE(member.pull_permission);
  EXPECT_FALSE(disabled.pull_permission);
  EXPECT_EQ(disabled.push_permission, false);
}

TEST(ParseRepositoryResponse, GitHubUsesPermissionsAndVisibility) {
  const auto m = GitHubMetadata(
      R"({"full_name":"o/r","private":true,"visibility":"private",)"
      R"("clone_url":"https://github.com/o/r.git","html_url":"https://github.com/o/r",)"
      R"("permissions":{"admin":false,"maintain":false,"push":true,"triage":true,"pull":true}})");

  EXPECT_TRUE(m.pull_permission);
  EXPECT_EQ(m.push_permission, true);
  EXPECT_FALSE(m.is_public);
  EXPECT_EQ(m.git_url, "https://github.com/o/r.git");
  EXPECT_EQ(m.web_url, "https://github.com/o/r");
}

TEST(ParseRepositoryResponse, GitHubPublicRepositoryIsPullableWithoutPermissions) {
  const auto m =
      GitHubMetadata(R"({"visibility":"public","clone_url":"https://github.com/o/r.git"})");

  EXPECT_TRUE(m.pull_permission);
  EXPECT_EQ(m.push_permission, false);
  EXPECT_TRUE(m.is_public);
  EXPECT_EQ(m.web_url, "");
}

TEST(ParseRepositoryResponse, GitHubInternalIsNotPublicAndFallsBackToPrivateFlag) {
  const auto internal = GitHubMetadata(
      R"({"visibility":"internal","private":false,"clone_url":"https://ghe/o/r.git"})");
  const auto old_ghes = GitHubMetadata(R"({"private":false,"clone_url":"https://ghe/o/r.git"})");

  EXPECT_FALSE(internal.is_public);
  EXPECT_FALSE(internal.pull_permission);
  EXPECT_TRUE(old_ghes.is_public);
}

TEST(ParseRepositoryResponse, PassesTheETagAndRecognisesNotModified) {
  const auto found = ParseRepositoryResponse(
      core::ProviderKind::kGitHub,
      Json(200, R"({"clone_url":"https://x/o/r.git"})", {{"etag", R"(W/"v1")"}}));
  const auto not_modified = ParseRepositoryResponse(
      core::ProviderKind::kGitHub, testing::Response(304, "", "", {{"etag", R"(W/"v1")"}}));

  EXPECT_EQ(found.etag, R"(W/"v1")");
  EXPECT_EQ(not_modified.outcome, RepositoryLookupOutcome::kNotModified);
  EXPECT_EQ(not_modified.etag, R"(W/"v1")");
}

TEST(ParseRepositoryResponse, MapsStatuses) {
  const auto kind = core::ProviderKind::kGitLab;

  EXPECT_EQ(ParseRepositoryResponse(kind, Json(401, R"({"message":"401 Unauthorized"})")).outcome,
            RepositoryLookupOutcome::kUnauthorized);
  EXPECT_EQ(
      ParseRepositoryResponse(kind, Json(404, R"({"message":"404 Project Not Found"})")).outcome,
      RepositoryLookupOutcome::kNotFound);
  EXPECT_EQ(
      ParseRepositoryResponse(kind, testing::Response(429, "text/plain", "Retry later")).outcome,
      RepositoryLookupOutcome::kFailed);
  const auto failed = ParseRepositoryResponse(kind, Json(503, "{}"));
  EXPECT_EQ(failed.outcome, RepositoryLookupOutcome::kFailed);
  EXPECT_EQ(failed.http_status, 503);
}

TEST(ParseRepositoryResponse, UnusableBodiesAreInvalid) {
  for (const char* body :
       {"not json", "[]", R"({"visibility":"public"})", R"({"http_url_to_repo":42})"}) {
    EXPECT_EQ(ParseRepositoryResponse(core::ProviderKind::kGitLab, Json(200, body)).outcome,
              RepositoryLookupOutcome::kInvalidBody)
        << body;
  }
}

}  // namespace
}  // namespace keybridge::oauth
