#include "service/git_credential_service.h"

#include <gtest/gtest.h>

#include "crypto/hash.h"
#include "support/fake_clock.h"
#include "support/in_memory_repositories.h"
#include "support/scripted_http_client.h"

namespace keybridge::service {
namespace {

using core::ErrorCode;

constexpr const char* kGitLabTokenUrl = "https://gitlab.example.org/gitlab/oauth/token";
const core::ConnectionId kGitLabConnection("01HAAAAAAAAAAAAAAAAAAAAAAA");
const core::ConnectionId kGitHubConnection("01HBBBBBBBBBBBBBBBBBBBBBBB");
constexpr const char* kRepoA = "https://gitlab.example.org/gitlab/group/a.git";
constexpr const char* kGitHubRepo = "https://github.com/alice/b.git";

core::Provider MakeProvider(const std::string& id, core::ProviderKind kind,
                            const std::string& url) {
  core::Provider p;
  p.id = core::ProviderId(id);
  p.kind = kind;
  p.client_id = "cid-" + id;
  p.client_secret = core::Secret("secret-" + id);
  p.display_name = "Display " + id;
  p.url = url;
  if (kind == core::ProviderKind::kGitHub) {
    p.app_slug = "keybridge";
  }
  return p;
}

std::string RefreshBody(const std::string& access) {
  return R"({"access_token":")" + access + R"(","token_type":"Bearer","expires_in":7200,)"
         + R"("refresh_token":"r-)" + access + R"(","scope":"api","created_at":1700000000})";
}

class GitCredentialServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(providers_
                    .Insert(MakeProvider("gitlab", core::ProviderKind::kGitLab,
                                         "https://gitlab.example.org/gitlab"))
                    .ok());
    ASSERT_TRUE(
        providers_.Insert(MakeProvider("github", core::ProviderKind::kGitHub, "https://github.com"))
            .ok());
    Connect(kGitLabConnection, "gitlab", "gitlab-access");
  }

  void Connect(const core::ConnectionId& id, const std::string& provider,
               const std::string& access) {
    core::Connection c;
    c.id = id;
    c.user_id = core::UserId("alice");
    c.provider_id = core::ProviderId(provider);
    ASSERT_TRUE(connections_.FindOrInsert(c).ok());
    core::TokenSet token;
    token.access_token = core::Secret(access);
    token.refresh_token = core::Secret("refresh-" + access);
    token.expires_in = 7200;
    token.expires_at = clock_.Now() + core::Seconds(7200);
    token.obtained_at = clock_.Now();
    ASSERT_TRUE(connections_.StoreToken(id, token, clock_.Now()).ok());
  }

  static core::Caller Alice() { return core::Caller::User(core::UserId("alice")); }
  static core::Caller Session(std::vector<core::ConnectionId> connection_ids,
                              std::vector<std::string> repository_urls) {
    core::Caller caller = Alice();
    caller.session_scope = core::SessionScope{
        "st_0123456789ab", "jupyter", std::move(connection_ids), std::move(repository_urls)};
    return caller;
  }
  core::Result<GitCredentialLookup> Lookup(const core::Caller& caller, const std::string& url,
                                           const TokenDemand& demand = TokenDemand{}) {
    return credentials_.Lookup(caller, url, demand);
  }

  testing::FakeClock clock_;
  testing::InMemoryProviderRepository providers_;
  testing::InMemoryConnectionRepository connections_;
  testing::ScriptedHttpClient http_;
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
  GitCredentialService credentials_{providers_, connections_, matcher_, tokens_,
                                    core::PublicUrls("https://kb.example.org")};
};

TEST_F(GitCredentialServiceTest, AGitLabRemoteGetsOauth2AndTheConnectionsToken) {
  auto lookup = Lookup(Alice(), kRepoA);

  ASSERT_TRUE(lookup.ok()) << lookup.error().message;
  ASSERT_TRUE(lookup->credential.ok()) << lookup->credential.error().message;
  EXPECT_EQ(lookup->provider.id, "gitlab");
  EXPECT_EQ(lookup->credential->username, "oauth2");
  EXPECT_EQ(lookup->credential->password.Reveal(), "gitlab-access");
  EXPECT_EQ(lookup->credential->expires_at, clock_.Now() + core::Seconds(7200));
  EXPECT_EQ(lookup->credential->connection.id, kGitLabConnection);
  EXPECT_TRUE(http_.Requests().empty());
}

TEST_F(GitCredentialServiceTest, AGitHubRemoteGetsXAccessTokenAndTheInstallUrl) {
  Connect(kGitHubConnection, "github", "ghu_token");

  auto lookup = Lookup(Alice(), kGitHubRepo);

  ASSERT_TRUE(lookup.ok());
  ASSERT_TRUE(lookup->credential.ok()) << lookup->credential.error().message;
  EXPECT_EQ(lookup->credential->username, "x-access-token");
  EXPECT_EQ(lookup->credential->password.Reveal(), "ghu_token");
  EXPECT_EQ(lookup->install_url, "https://github.com/apps/keybridge/installations/new");
}

TEST_F(GitCredentialServiceTest, WithoutAConnectionTheAnswerSaysWhereToConnect) {
  auto lookup = Lookup(Alice(), kGitHubRepo);

  ASSERT_TRUE(lookup.ok());
  ASSERT_FALSE(lookup->credential.ok());
  EXPECT_EQ(lookup->credential.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(lookup->provider.id, "github");
  EXPECT_EQ(lookup->connect_url,
            "https://kb.example.org/api/data/oauth2/providers/github/authorize");
  EXPECT_NE(lookup->credential.error().message.find(lookup->connect_url), std::string::npos);
}

TEST_F(GitCredentialServiceTest, APendingConnectionCountsAsNoConnection) {
  core::Connection pending;
  pending.id = kGitHubConnection;
  pending.user_id = core::UserId("alice");
  pending.provider_id = core::ProviderId("github");
  ASSERT_TRUE(connections_.FindOrInsert(pending).ok());

  auto lookup = Lookup(Alice(), kGitHubRepo);

  ASSERT_TRUE(lookup.ok());
  EXPECT_EQ(lookup->credential.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(lookup->connect_url.empty());
}

TEST_F(GitCredentialServiceTest, ARejectedGrantAsksToReconnect) {
  http_.Enqueue("POST", kGitLabTokenUrl,
                testing::JsonResponse(400, R"({"error":"invalid_grant"})"));
  clock_.Advance(core::Seconds(7200));

  auto lookup = Lookup(Alice(), kRepoA);

  ASSERT_TRUE(lookup.ok());
  EXPECT_EQ(lookup->credential.error().code, ErrorCode::kReauthorizationRequired);
  EXPECT_EQ(lookup->connect_url,
            "https://kb.example.org/api/data/oauth2/providers/gitlab/authorize");
}

TEST_F(GitCredentialServiceTest, RemotesNoIntegrationServesAreNotFoundWithoutAProvider) {
  EXPECT_EQ(Lookup(Alice(), "https://elsewhere.example.org/x.git").error().code,
            ErrorCode::kNotFound);
  // A segment-boundary prefix, not a string prefix: /gitlabx is not under /gitlab.
  EXPECT_EQ(Lookup(Alice(), "https://gitlab.example.org/gitlabx/a.git").error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(Lookup(Alice(), "ssh://gitlab.example.org/gitlab/a.git").error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Lookup(core::Caller::Anonymous(), kRepoA).error().code, ErrorCode::kUnauthenticated);
}

TEST_F(GitCredentialServiceTest, ASessionScopedToARepositoryGetsATokenForThatRepositoryOnly) {
  const core::Caller session = Session({}, {kRepoA});

  auto same = Lookup(session, "https://GITLAB.example.org/gitlab/group/A/");
  auto other = Lookup(session, "https://gitlab.example.org/gitlab/group/other.git");

  ASSERT_TRUE(same.ok());
  ASSERT_TRUE(same->credential.ok()) << same->credential.error().message;
  EXPECT_EQ(same->credential->password.Reveal(), "gitlab-access");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->credential.error().code, ErrorCode::kPermissionDenied)
      << "the same provider's token must not reach a repository outside the session's scope";
  EXPECT_TRUE(other->connect_url.empty());
}

TEST_F(GitCredentialServiceTest, ASessionScopedToAConnectionReachesEveryRepositoryOfIt) {
  auto lookup =
      Lookup(Session({kGitLabConnection}, {}), "https://gitlab.example.org/gitlab/group/other.git");

  ASSERT_TRUE(lookup.ok());
  ASSERT_TRUE(lookup->credential.ok()) << lookup->credential.error().message;
}

TEST_F(GitCredentialServiceTest, LookupAtJoinsTheProviderUrlAndThePathWithoutPrefixMatching) {
  TokenDemand demand;

  auto lookup = credentials_.LookupAt(Alice(), core::ProviderId("gitlab"), "group/a.git", demand);

  ASSERT_TRUE(lookup.ok()) << lookup.error().message;
  EXPECT_EQ(lookup->repository_url, "https://gitlab.example.org/gitlab/group/a.git");
  ASSERT_TRUE(lookup->credential.ok()) << lookup->credential.error().message;
  EXPECT_EQ(lookup->credential->username, "oauth2");
  EXPECT_EQ(
      credentials_.LookupAt(Alice(), core::ProviderId("nope"), "group/a.git", demand).error().code,
      ErrorCode::kNotFound);
  for (const char* escape : {"../other/a.git", "group/../../x.git", "group/%2e%2e/x.git",
                             "group%2Fa.git", "group%2fa.git", "/group/a.git", "group//a.git",
                             "group\\a.git", "group/a.git?x=1", "group/a.git#f", ""}) {
    EXPECT_EQ(
        credentials_.LookupAt(Alice(), core::ProviderId("gitlab"), escape, demand).error().code,
        ErrorCode::kInvalidArgument)
        << escape;
  }
  EXPECT_EQ(credentials_
                .LookupAt(Session({}, {kRepoA}), core::ProviderId("gitlab"), "group/b.git", demand)
                ->credential.error()
                .code,
            ErrorCode::kPermissionDenied);
}

TEST_F(GitCredentialServiceTest, ASessionOutsideItsScopeIsDeniedAndNotSentToConnect) {
  Connect(kGitHubConnection, "github", "ghu_token");

  auto other_provider = Lookup(Session({}, {kRepoA}), kGitHubRepo);
  auto unconnected = Lookup(Session({kGitLabConnection}, {}), "https://github.com/bob/c.git");

  ASSERT_TRUE(other_provider.ok());
  EXPECT_EQ(other_provider->credential.error().code, ErrorCode::kPermissionDenied);
  EXPECT_TRUE(other_provider->connect_url.empty());
  ASSERT_TRUE(unconnected.ok());
  EXPECT_EQ(unconnected->credential.error().code, ErrorCode::kPermissionDenied);
}

TEST_F(GitCredentialServiceTest, ASessionScopedToARepositoryWithoutAConnectionIsSentToConnect) {
  auto lookup = Lookup(Session({}, {kGitHubRepo}), kGitHubRepo);

  ASSERT_TRUE(lookup.ok());
  EXPECT_EQ(lookup->credential.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(lookup->connect_url.empty());
}

TEST_F(GitCredentialServiceTest, AGitCommandGetsATokenValidForTheAskedTime) {
  http_.Enqueue("POST", kGitLabTokenUrl, testing::JsonResponse(200, RefreshBody("renewed")));
  clock_.Advance(core::Seconds(7200 - 200));
  TokenDemand demand;
  demand.min_valid = core::Seconds(300);

  auto lookup = Lookup(Alice(), kRepoA, demand);

  ASSERT_TRUE(lookup.ok());
  ASSERT_TRUE(lookup->credential.ok()) << lookup->credential.error().message;
  EXPECT_EQ(lookup->credential->password.Reveal(), "renewed");
}

TEST_F(GitCredentialServiceTest, ForcedRefreshReplacesARejectedTokenOnceForManyReports) {
  http_.Enqueue("POST", kGitLabTokenUrl, testing::JsonResponse(200, RefreshBody("replacement")));
  TokenDemand rejected;
  rejected.force_refresh = true;
  rejected.rejected_token_sha256 = crypto::Sha256Hex("gitlab-access");

  auto first = Lookup(Alice(), kRepoA, rejected);
  auto second = Lookup(Alice(), kRepoA, rejected);

  ASSERT_TRUE(first.ok() && first->credential.ok());
  EXPECT_EQ(first->credential->password.Reveal(), "replacement");
  ASSERT_TRUE(second.ok() && second->credential.ok());
  EXPECT_EQ(second->credential->password.Reveal(), "replacement");
  EXPECT_EQ(http_.CountRequests(kGitLabTokenUrl), 1U)
      << "the second report names a token that was already replaced";
}

// A forced refresh must name the token it replaces, so no client can make every read refresh.
TEST_F(GitCredentialServiceTest, ForcedRefreshWithoutAHashIsRefused) {
  http_.Enqueue("POST", kGitLabTokenUrl, testing::JsonResponse(200, RefreshBody("one")));
  TokenDemand forced;
  forced.force_refresh = true;

  auto lookup = Lookup(Alice(), kRepoA, forced);

  ASSERT_TRUE(lookup.ok());
  ASSERT_FALSE(lookup->credential.ok());
  EXPECT_EQ(lookup->credential.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(http_.CountRequests(kGitLabTokenUrl), 0U);
}

// TokenService::FreshConnection applies the same scope to the connection token route.
TEST_F(GitCredentialServiceTest, FreshConnectionHonoursTheSessionScope) {
  Connect(kGitHubConnection, "github", "ghu_token");

  auto by_id = tokens_.FreshConnection(Session({kGitHubConnection}, {}), kGitHubConnection,
                                       core::Seconds(0));
  auto by_repository =
      tokens_.FreshConnection(Session({}, {kRepoA}), kGitLabConnection, core::Seconds(0));
  auto outside =
      tokens_.FreshConnection(Session({}, {kRepoA}), kGitHubConnection, core::Seconds(0));
  core::Caller bob_session = Session({kGitHubConnection}, {});
  bob_session.user_id = core::UserId("bob");
  auto someone_elses = tokens_.FreshConnection(bob_session, kGitHubConnection, core::Seconds(0));

  EXPECT_TRUE(by_id.ok());
  EXPECT_TRUE(by_repository.ok());
  EXPECT_EQ(outside.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(someone_elses.error().code, ErrorCode::kNotFound);
}

TEST_F(GitCredentialServiceTest, ARefusedCredentialIsUnauthenticatedRatherThanHidden) {
  core::Caller revoked = core::Caller::Anonymous();
  revoked.rejected_reason = "session token revoked";

  auto fresh = tokens_.FreshConnection(revoked, kGitLabConnection, core::Seconds(0));

  ASSERT_FALSE(fresh.ok());
  EXPECT_EQ(fresh.error().code, ErrorCode::kUnauthenticated);
  EXPECT_NE(fresh.error().message.find("session token revoked"), std::string::npos);
  EXPECT_EQ(tokens_.FreshConnection(core::Caller::Anonymous(), kGitLabConnection, core::Seconds(0))
                .error()
                .code,
            ErrorCode::kNotFound);
}

TEST_F(GitCredentialServiceTest, ADataConnectorsTokenNeverBecomesAGitCredential) {
  // A Zenodo on the git server's host, and a connected Dropbox: neither is asked for git.
  ASSERT_TRUE(providers_
                  .Insert(MakeProvider("zenodo", core::ProviderKind::kZenodo,
                                       "https://gitlab.example.org/gitlab/group"))
                  .ok());
  ASSERT_TRUE(
      providers_
          .Insert(MakeProvider("dropbox", core::ProviderKind::kDropbox, "https://www.dropbox.com"))
          .ok());
  Connect(core::ConnectionId("01HCCCCCCCCCCCCCCCCCCCCCCC"), "dropbox", "sl.dropbox-access");

  auto by_url = Lookup(Alice(), kRepoA);
  auto by_id = credentials_.LookupAt(Alice(), core::ProviderId("dropbox"), "a/b.git", {});

  ASSERT_TRUE(by_url.ok());
  EXPECT_EQ(by_url->provider.id, "gitlab");
  EXPECT_EQ(by_url->credential->password.Reveal(), "gitlab-access");
  ASSERT_FALSE(by_id.ok());
  EXPECT_EQ(by_id.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Lookup(Alice(), "https://www.dropbox.com/a/b.git").error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace keybridge::service
