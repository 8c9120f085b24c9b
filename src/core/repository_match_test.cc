#include "core/repository_match.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace keybridge::core {
namespace {

Provider Make(std::string id, ProviderKind kind, std::string url) {
  Provider p;
  p.id = ProviderId(std::move(id));
  p.kind = kind;
  p.url = std::move(url);
  return p;
}
Provider GitLab(std::string id, std::string url) {
  return Make(std::move(id), ProviderKind::kGitLab, std::move(url));
}

Url RepoUrl(std::string_view text) {
  auto parsed = ParseRepositoryUrl(text);
  EXPECT_TRUE(std::holds_alternative<RepositoryUrl>(parsed)) << text;
  return std::get<RepositoryUrl>(parsed).url;
}

// The id of the matched provider, or "" when none matches.
std::string MatchedId(const std::vector<Provider>& providers, std::string_view repository) {
  const auto match = MatchProvider(providers, RepoUrl(repository));
  return match ? providers[match->index].id.value() : "";
}

std::optional<RepositoryUrlProblem> ProblemOf(std::string_view text) {
  auto parsed = ParseRepositoryUrl(text);
  if (const auto* problem = std::get_if<RepositoryUrlProblem>(&parsed)) {
    return *problem;
  }
  return std::nullopt;
}

TEST(ParseRepositoryUrl, TrimsWhitespaceAndTrailingSlashes) {
  const auto parsed = ParseRepositoryUrl("  https://GitLab.Example.org/group/project.git///\n");

  const auto& repository = std::get<RepositoryUrl>(parsed);
  EXPECT_EQ(repository.text, "https://GitLab.Example.org/group/project.git");
  EXPECT_EQ(repository.url.host, "gitlab.example.org");
  EXPECT_EQ(repository.url.path, "/group/project.git");
}

TEST(ParseRepositoryUrl, HostOnlyUrlHasAnEmptyPath) {
  const auto parsed = ParseRepositoryUrl("https://h/");

  const auto& repository = std::get<RepositoryUrl>(parsed);

  EXPECT_EQ(repository.text, "https://h");
  EXPECT_EQ(repository.url.path, "");
}

TEST(ParseRepositoryUrl, MissingSchemeIsNoUrlScheme) {
  for (const char* text : {"github.com/o/r", "git@github.com:o/r.git", "://host/x", "   "}) {
    EXPECT_EQ(ProblemOf(text), RepositoryUrlProblem::kNoScheme) << text;
  }
}

TEST(ParseRepositoryUrl, SchemesOtherThanHttpAreUnsupported) {
  for (const char* text : {"ssh://git@github.com/o/r", "git://host/r", "file:///etc/passwd",
                           "ftp://host/r", "gopher://127.0.0.1:6379/_x"}) {
    EXPECT_EQ(ProblemOf(text), RepositoryUrlProblem::kUnsupportedScheme) << text;
  }
  EXPECT_EQ(ProblemOf("HTTPS://h/x"), std::nullopt);
}

TEST(ParseRepositoryUrl, EmptyHostIsNoUrlHost) {
  for (const char* text :
       {"https://", "https:///o/r", "http://:8080/x", "https://user@/x", "https://[]/x"}) {
    EXPECT_EQ(ProblemOf(text), RepositoryUrlProblem::kNoHost) << text;
  }
}

TEST(ParseRepositoryUrl, RejectsCredentialsQueriesFragmentsAndBadHosts) {
  for (const char* text :
       {"https://user:pass@h/o/r", "https://token@h/o/r", "https://h/o/r?x=1", "https://h/o/r#main",
        "https://h:99999/o/r", "https://h o/r", "https://h/o r", "https://[::1/x"}) {
    EXPECT_EQ(ProblemOf(text), RepositoryUrlProblem::kInvalid) << text;
  }
}

TEST(ParseRepositoryUrl, RejectsDotAndEmptySegments) {
  for (const char* text : {"https://h/a/../b", "https://h/a/./b", "https://h/a/%2e%2E/b",
                           "https://h/a//b", "https://h/..", "https://h/a/%zz"}) {
    EXPECT_EQ(ProblemOf(text), RepositoryUrlProblem::kInvalid) << text;
  }
}

// Found by fuzzing: ".git" was removed after the segment check, so "owner/...git" reached the
// provider's API as "owner/..".
TEST(ParseRepositoryUrl, RejectsDotSegmentsHiddenBehindDotGit) {
  for (const char* text :
       {"https://h/owner/...git", "https://h/owner/..git", "https://h/owner/.git",
        "https://h/owner/%2e%2e.git", "https://h/owner/..%2Egit", "https://h/owner/...GIT/"}) {
    EXPECT_EQ(ProblemOf(text), RepositoryUrlProblem::kInvalid) << text;
  }
  EXPECT_EQ(ProblemOf("https://h/owner/a.git"), std::nullopt);
  EXPECT_EQ(ProblemOf("https://h/owner/.github"), std::nullopt);
  EXPECT_EQ(ProblemOf("https://h/owner/a..git"), std::nullopt);
}

// Found by fuzzing: an encoded '/' inside a segment becomes a separator at the provider.
TEST(ParseRepositoryUrl, RejectsEncodedSlashesBackslashesAndControlBytesInSegments) {
  for (const char* text : {"https://h/owner%2Fother/p", "https://h/owner/p%2f..", "https://h/a%5Cb",
                           "https://h/a/b%00", "https://h/a%0a/b", "https://h/a/b%7F.git"}) {
    EXPECT_EQ(ProblemOf(text), RepositoryUrlProblem::kInvalid) << text;
  }
  EXPECT_EQ(ProblemOf("https://h/owner/my%20project"), std::nullopt);
}

TEST(ParseRepositoryUrl, RejectsOverlongUrls) {
  EXPECT_EQ(ProblemOf("https://h/" + std::string(kMaxUrlLength, 'a')),
            RepositoryUrlProblem::kInvalid);
}

TEST(ServesRepositories, GitLabAndGitHubAppsOnly) {
  Provider oauth_app = Make("ghcr", ProviderKind::kGitHub, "https://github.com");
  oauth_app.image_registry_url = "https://ghcr.io";

  EXPECT_TRUE(ServesRepositories(GitLab("gl", "https://gitlab.com")));
  EXPECT_TRUE(ServesRepositories(Make("gh", ProviderKind::kGitHub, "https://github.com")));
  EXPECT_FALSE(ServesRepositories(oauth_app));
  EXPECT_FALSE(ServesRepositories(Make("sso", ProviderKind::kGenericOidc, "https://sso.org")));
  EXPECT_FALSE(ServesRepositories(Make("db", ProviderKind::kDropbox, "https://www.dropbox.com")));
  EXPECT_FALSE(
      ServesRepositories(Make("gd", ProviderKind::kGoogle, "https://accounts.google.com")));
  EXPECT_FALSE(ServesRepositories(Make("zen", ProviderKind::kZenodo, "https://zenodo.org")));
}

TEST(MatchProvider, MatchesSameSchemeHostAndPort) {
  const std::vector<Provider> providers = {GitLab("gl", "https://gitlab.example.org")};

  EXPECT_EQ(MatchedId(providers, "https://gitlab.example.org/g/p"), "gl");
  EXPECT_EQ(MatchedId(providers, "https://GITLAB.example.ORG/g/p"), "gl");
  EXPECT_EQ(MatchedId(providers, "https://gitlab.example.org:443/g/p"), "gl");
  EXPECT_EQ(MatchedId(providers, "http://gitlab.example.org/g/p"), "");
  EXPECT_EQ(MatchedId(providers, "https://gitlab.example.org:8443/g/p"), "");
  EXPECT_EQ(MatchedId(providers, "https://www.gitlab.example.org/g/p"), "");
  EXPECT_EQ(MatchedId(providers, "https://example.org/g/p"), "");
}

TEST(MatchProvider, ExplicitDefaultPortOnTheProviderMatchesAnImplicitOne) {
  const std::vector<Provider> providers = {GitLab("gl", "http://git.example.org:80/")};

  EXPECT_EQ(MatchedId(providers, "http://git.example.org/g/p"), "gl");
}

TEST(MatchProvider, ProviderPathMatchesOnSegmentBoundariesOnly) {
  const std::vector<Provider> providers = {GitLab("a", "https://host/groupA")};

  EXPECT_EQ(MatchedId(providers, "https://host/groupA/x"), "a");
  EXPECT_EQ(MatchedId(providers, "https://host/groupA"), "a");
  EXPECT_EQ(MatchedId(providers, "https://host/groupAB/x"), "");
  EXPECT_EQ(MatchedId(providers, "https://host/groupaB/x"), "");
  EXPECT_EQ(MatchedId(providers, "https://host/x/groupA"), "");
  // Paths compare as SameRepository compares them (see RepositoryPathKey), so case is ignored.
  EXPECT_EQ(MatchedId(providers, "https://host/groupa/x"), "a");
}

TEST(MatchProvider, TwoProvidersOnOneHostEachMatchTheirOwnPrefix) {
  const std::vector<Provider> providers = {GitLab("b", "https://host/groupB/"),
                                           GitLab("a", "https://host/groupA")};

  EXPECT_EQ(MatchedId(providers, "https://host/groupA/project.git"), "a");
  EXPECT_EQ(MatchedId(providers, "https://host/groupB/sub/project"), "b");
  EXPECT_EQ(MatchedId(providers, "https://host/groupC/project"), "");
}

TEST(MatchProvider, LongestPrefixWinsWhateverTheOrder) {
  std::vector<Provider> providers = {GitLab("root", "https://host"),
                                     GitLab("deep", "https://host/gitlab/team"),
                                     GitLab("mid", "https://host/gitlab/")};

  for (int round = 0; round < 6; ++round) {
    EXPECT_EQ(MatchedId(providers, "https://host/gitlab/team/p"), "deep");
    EXPECT_EQ(MatchedId(providers, "https://host/gitlab/other/p"), "mid");
    EXPECT_EQ(MatchedId(providers, "https://host/elsewhere/p"), "root");
    EXPECT_EQ(MatchedId(providers, "https://host/gitlab/teams/p"), "mid");
    std::next_permutation(providers.begin(), providers.end(),
                          [](const auto& x, const auto& y) { return x.id < y.id; });
  }
}

TEST(MatchProvider, IdenticalUrlsGoToTheSmallerIdWhateverTheOrder) {
  const std::vector<Provider> forward = {GitLab("alpha", "https://host/"),
                                         GitLab("beta", "https://host")};
  const std::vector<Provider> backward = {forward[1], forward[0]};

  EXPECT_EQ(MatchedId(forward, "https://host/g/p"), "alpha");
  EXPECT_EQ(MatchedId(backward, "https://host/g/p"), "alpha");
}

TEST(MatchProvider, SkipsProvidersWithoutARepositoryApi) {
  Provider oauth_app = Make("ghcr", ProviderKind::kGitHub, "https://github.com");
  oauth_app.image_registry_url = "https://ghcr.io";
  const std::vector<Provider> providers = {
      oauth_app, Make("sso", ProviderKind::kGenericOidc, "https://github.com/deep/path")};

  EXPECT_EQ(MatchedId(providers, "https://github.com/deep/path/x"), "");
}

TEST(MatchProvider, NeverPicksADataConnectorEvenOnTheRepositoryHost) {
  // A Zenodo (any https URL) or a local stand-in on the same origin as a git server must not
  // receive the git server's repositories, whatever its path prefix.
  const std::vector<Provider> providers = {
      Make("zen", ProviderKind::kZenodo, "https://git.example.org/group"),
      Make("db", ProviderKind::kDropbox, "http://127.0.0.1:8080"),
      Make("gd", ProviderKind::kGoogle, "http://127.0.0.1:8080/repos"),
      GitLab("gl", "https://git.example.org")};

  EXPECT_EQ(MatchedId(providers, "https://git.example.org/group/project"), "gl");
  EXPECT_EQ(MatchedId(providers, "http://127.0.0.1:8080/repos/x/y"), "");
}

TEST(MatchProvider, GitHubAppWithAnEmptyRegistryStillMatches) {
  Provider app = Make("gh", ProviderKind::kGitHub, "https://github.com");
  app.image_registry_url = "";

  EXPECT_EQ(MatchedId({app}, "https://github.com/octo/repo"), "gh");
}

TEST(MatchProvider, SkipsProvidersWithUnusableUrls) {
  const std::vector<Provider> providers = {GitLab("bad", "not a url"),
                                           GitLab("query", "https://host/?x=1"),
                                           GitLab("frag", "https://host/#x")};

  EXPECT_EQ(MatchedId(providers, "https://host/g/p"), "");
}

TEST(MatchProvider, ReportsTheRepositoryPathBelowTheProvider) {
  const std::vector<Provider> providers = {GitLab("gl", "https://host/gitlab/")};

  EXPECT_EQ(MatchProvider(providers, RepoUrl("https://host/gitlab/g/sub/p.git"))->repository_path,
            "g/sub/p.git");
  EXPECT_EQ(MatchProvider(providers, RepoUrl("https://host/gitlab"))->repository_path, "");
  EXPECT_EQ(
      MatchProvider({GitLab("r", "https://host")}, RepoUrl("https://host/o/r"))->repository_path,
      "o/r");
}

TEST(MatchProvider, Ipv6HostsCompareWithoutBrackets) {
  const std::vector<Provider> providers = {GitLab("v6", "https://[2001:db8::1]:8443/gl")};

  EXPECT_EQ(MatchedId(providers, "https://[2001:DB8::1]:8443/gl/g/p"), "v6");
  EXPECT_EQ(MatchedId(providers, "https://[2001:db8::1]/gl/g/p"), "");
}

TEST(MatchProvider, ThousandProvidersPickTheDeepestPrefixAndTheRightIndex) {
  std::vector<Provider> providers;
  for (int i = 0; i < 1000; ++i) {
    const std::string n = std::to_string(i);
    // host<i % 10>, under /team<i> (and every 7th one one level deeper)
    std::string url = "https://host" + std::to_string(i % 10) + ".example.org/team" + n;
    if (i % 7 == 0) {
      url += "/sub";
    }
    providers.push_back(GitLab("p" + n, url));
  }
  providers.push_back(GitLab("root3", "https://host3.example.org"));
  providers.push_back(GitLab("team14", "https://host4.example.org/team14"));  // shallower than p14
  std::mt19937 shuffle_rng(42);
  std::shuffle(providers.begin(), providers.end(), shuffle_rng);

  EXPECT_EQ(MatchedId(providers, "https://host3.example.org/team3/p.git"), "p3");
  EXPECT_EQ(MatchedId(providers, "https://host3.example.org/team33x/p.git"), "root3");
  EXPECT_EQ(MatchedId(providers, "https://host3.example.org/team13/p"), "p13");
  EXPECT_EQ(MatchedId(providers, "https://host2.example.org/team13/p"), "");
  EXPECT_EQ(MatchedId(providers, "https://host4.example.org/team14/sub/p"), "p14");
  EXPECT_EQ(MatchedId(providers, "https://host4.example.org/team14/other/p"), "team14");
  EXPECT_EQ(MatchedId(providers, "https://host9.example.org/team999/p"), "p999");
  EXPECT_EQ(MatchedId(providers, "https://host9.example.org/team998/p"), "");
  EXPECT_EQ(MatchedId(providers, "https://host0.example.org/team0/p"), "") << "p0 is at /team0/sub";
  EXPECT_EQ(MatchedId(providers, "https://host0.example.org/team0/sub/p"), "p0");
}

// Found by fuzzing: the session scope compared paths ignoring case while matching did not, so
// with two integrations on one origin a session scoped to a repository at one could obtain the
// other's token. Both now use RepositoryPathKey: URLs that are the same repository for the scope
// are served by the same integration.
TEST(MatchProvider, UrlsThatAreTheSameRepositoryAreServedByTheSameProvider) {
  const std::vector<Provider> providers = {
      GitLab("upper", "https://h.example/Team"), GitLab("lower", "https://h.example/team"),
      GitLab("repo", "https://h.example/g/p"), GitLab("root", "https://h.example")};
  const std::vector<std::pair<std::string, std::string>> same = {
      {"https://h.example/Team/x", "https://h.example/team/x"},
      {"https://h.example/TEAM/x.git", "https://h.example/team/X"},
      {"https://h.example/g/p", "https://h.example/g/p.git"},
      {"https://h.example/G/P.git/", "https://h.example/g/p"}};
  for (const auto& [a, b] : same) {
    ASSERT_TRUE(SameRepository(RepoUrl(a), RepoUrl(b))) << a << " " << b;
    EXPECT_EQ(MatchedId(providers, a), MatchedId(providers, b)) << a << " " << b;
  }
  EXPECT_EQ(MatchedId(providers, "https://h.example/Team/x"), "lower") << "smaller id of the two";
  EXPECT_EQ(MatchedId(providers, "https://h.example/g/p.git"), "repo");
}

TEST(MatchProvider, KeepsTheRepositoryPathsCaseAndDotGitBelowAProviderInAnotherCase) {
  const std::vector<Provider> providers = {GitLab("gl", "https://h.example/GitLab/")};

  const auto match = MatchProvider(providers, RepoUrl("https://h.example/gitlab/Group/Proj.git/"));

  ASSERT_TRUE(match);
  EXPECT_EQ(match->repository_path, "Group/Proj.git");
  const auto exact = MatchProvider(providers, RepoUrl("https://h.example/gitlab.git"));
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->repository_path, "");
}

TEST(SameRepository, IgnoresDotGitTrailingSlashesHostAndPathCase) {
  EXPECT_TRUE(SameRepository(RepoUrl("https://gitlab.example/group/a.git"),
                             RepoUrl("https://GitLab.example/Group/A/")));
  EXPECT_TRUE(SameRepository(RepoUrl("https://gitlab.example:443/group/a"),
                             RepoUrl("https://gitlab.example/group/a")));
}

TEST(SameRepository, OtherRepositoryHostPortOrSchemeDiffers) {
  const Url a = RepoUrl("https://gitlab.example/group/a");
  EXPECT_FALSE(SameRepository(a, RepoUrl("https://gitlab.example/group/b")));
  EXPECT_FALSE(SameRepository(a, RepoUrl("https://gitlab.example/group/a/sub")));
  EXPECT_FALSE(SameRepository(a, RepoUrl("https://gitlab.example/group")));
  EXPECT_FALSE(SameRepository(a, RepoUrl("http://gitlab.example/group/a")));
  EXPECT_FALSE(SameRepository(a, RepoUrl("https://gitlab.example:8443/group/a")));
  EXPECT_FALSE(SameRepository(a, RepoUrl("https://other.example/group/a")));
}

}  // namespace
}  // namespace keybridge::core
