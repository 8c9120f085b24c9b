#include "service/session_scope.h"

#include <gtest/gtest.h>

#include "service/token_service.h"
#include "support/fake_clock.h"
#include "support/in_memory_repositories.h"
#include "support/scripted_http_client.h"

namespace keybridge::service {
namespace {

using core::ErrorCode;

const core::ConnectionId kAliceConnection("01HAAAAAAAAAAAAAAAAAAAAAAA");
const core::ConnectionId kBobConnection("01HBBBBBBBBBBBBBBBBBBBBBBB");
const core::ProviderId kGitLab("gitlab");
constexpr const char* kRepoA = "https://gitlab.example.org/group/a.git";

core::Provider GitLab(const std::string& id, const std::string& url) {
  core::Provider p;
  p.id = core::ProviderId(id);
  p.kind = core::ProviderKind::kGitLab;
  p.client_id = "cid-" + id;
  p.client_secret = core::Secret("secret-" + id);
  p.display_name = "Display " + id;
  p.url = url;
  return p;
}

// Counts List calls (each one decrypts every provider's secret in the real stores) and can fail
// them like a database that went away.
class CountingProviders final : public core::ProviderRepository {
 public:
  core::Result<std::vector<core::Provider>> List() override {
    ++list_calls;
    if (fail_list) {
      return core::MakeError(ErrorCode::kUnavailable, "database down");
    }
    return inner.List();
  }
  core::Result<core::Provider> Find(const core::ProviderId& id) override { return inner.Find(id); }
  core::Status Insert(const core::Provider& provider) override { return inner.Insert(provider); }
  core::Status Update(const core::Provider& provider) override { return inner.Update(provider); }
  core::Result<bool> Delete(const core::ProviderId& id) override { return inner.Delete(id); }

  testing::InMemoryProviderRepository inner;
  int list_calls = 0;
  bool fail_list = false;
};

class SessionScopePolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(providers_.Insert(GitLab("gitlab", "https://gitlab.example.org")).ok());
    ASSERT_TRUE(providers_.Insert(GitLab("other", "https://other.example.org")).ok());
    for (const auto& [id, user] : {std::pair{kAliceConnection, "alice"}, {kBobConnection, "bob"}}) {
      core::Connection c;
      c.id = id;
      c.user_id = core::UserId(user);
      c.provider_id = kGitLab;
      ASSERT_TRUE(connections_.FindOrInsert(c).ok());
    }
    providers_.list_calls = 0;
  }

  static core::Caller Alice() { return core::Caller::User(core::UserId("alice")); }
  static core::Caller Session(std::vector<core::ConnectionId> connection_ids,
                              std::vector<std::string> repository_urls) {
    core::Caller caller = Alice();
    caller.session_scope = core::SessionScope{
        "st_0123456789ab", "jupyter", std::move(connection_ids), std::move(repository_urls)};
    return caller;
  }
  // `n` repositories on the provider "other", then `last` (if not empty).
  static std::vector<std::string> OtherRepositories(int n, const std::string& last = "") {
    std::vector<std::string> urls;
    for (int i = 0; i < n; ++i) {
      urls.push_back("https://other.example.org/group/r" + std::to_string(i) + ".git");
    }
    if (!last.empty()) {
      urls.push_back(last);
    }
    return urls;
  }
  static core::Url Url(const std::string& text) { return core::ParseUrl(text).value(); }

  CountingProviders providers_;
  testing::InMemoryConnectionRepository connections_;
  ProviderMatcher matcher_{providers_};
  SessionScopePolicy policy_{connections_, matcher_};
};

// --- CheckConnection (was TokenService::CheckSessionScope) ---

TEST_F(SessionScopePolicyTest, AConnectionIsInScopeByIdOrThroughARepositoryOfItsProvider) {
  EXPECT_TRUE(policy_.CheckConnection(Alice(), kGitLab, kAliceConnection).ok());
  EXPECT_TRUE(
      policy_.CheckConnection(Session({kAliceConnection}, {}), kGitLab, kAliceConnection).ok());
  EXPECT_TRUE(policy_.CheckConnection(Session({}, {kRepoA}), kGitLab, kAliceConnection).ok());
  EXPECT_EQ(policy_.CheckConnection(Session({}, OtherRepositories(1)), kGitLab, kAliceConnection)
                .error()
                .code,
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(policy_
                .CheckConnection(Session({core::ConnectionId("01HCCCCCCCCCCCCCCCCCCCCCCC")}, {}),
                                 kGitLab, kAliceConnection)
                .error()
                .code,
            ErrorCode::kPermissionDenied);
}

TEST_F(SessionScopePolicyTest, ASessionScopedToManyRepositoriesListsProvidersOncePerCheck) {
  constexpr int kRepositories = 8;

  const auto denied = policy_.CheckConnection(Session({}, OtherRepositories(kRepositories)),
                                              kGitLab, kAliceConnection);
  const int denied_lists = providers_.list_calls;
  providers_.list_calls = 0;
  const auto allowed = policy_.CheckConnection(
      Session({}, OtherRepositories(kRepositories, kRepoA)), kGitLab, kAliceConnection);

  EXPECT_EQ(denied.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(denied_lists, 1) << "one provider list for " << kRepositories << " scoped URLs";
  EXPECT_TRUE(allowed.ok());
  EXPECT_EQ(providers_.list_calls, 1);
}

TEST_F(SessionScopePolicyTest, AFreshTokenForASessionScopedToManyRepositoriesListsProvidersOnce) {
  testing::FakeClock clock;
  testing::ScriptedHttpClient http;
  ProviderGateway gateway{http, clock};
  TokenService tokens{connections_, providers_, gateway, clock, policy_, TokenServiceOptions{}};
  core::TokenSet token;
  token.access_token = core::Secret("access");
  token.expires_at = clock.Now() + core::Seconds(7200);
  ASSERT_TRUE(connections_.StoreToken(kAliceConnection, token, clock.Now()).ok());

  auto fresh = tokens.FreshConnection(Session({}, OtherRepositories(20, kRepoA)), kAliceConnection,
                                      core::Seconds(0));

  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_EQ(providers_.list_calls, 1);
}

TEST_F(SessionScopePolicyTest, UnusableScopedUrlsServeNothingAndReadNothing) {
  const auto denied = policy_.CheckConnection(
      Session({}, {"ssh://gitlab.example.org/group/a.git", "https://gitlab.example.org/a/../b"}),
      kGitLab, kAliceConnection);

  EXPECT_EQ(denied.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(providers_.list_calls, 0);
}

TEST_F(SessionScopePolicyTest, ADatabaseFailureIsNotADenial) {
  providers_.fail_list = true;

  const auto failed = policy_.CheckConnection(Session({}, {kRepoA}), kGitLab, kAliceConnection);

  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
}

// --- CheckRepository (was TokenService::CheckSessionRepositoryScope) ---

TEST_F(SessionScopePolicyTest, ARepositoryIsInScopeOnlyAsItselfOrThroughItsConnection) {
  const core::Caller scoped = Session({}, {kRepoA});

  EXPECT_TRUE(SessionScopePolicy::CheckRepository(Alice(), Url(kRepoA), core::ConnectionId()).ok());
  EXPECT_TRUE(SessionScopePolicy::CheckRepository(
                  scoped, Url("https://GITLAB.example.org/group/A/"), core::ConnectionId())
                  .ok());
  EXPECT_EQ(SessionScopePolicy::CheckRepository(
                scoped, Url("https://gitlab.example.org/group/b.git"), kAliceConnection)
                .error()
                .code,
            ErrorCode::kPermissionDenied)
      << "the same provider's connection must not reach a repository outside the scope";
  EXPECT_TRUE(SessionScopePolicy::CheckRepository(Session({kAliceConnection}, {}),
                                                  Url("https://gitlab.example.org/group/b.git"),
                                                  kAliceConnection)
                  .ok());
  EXPECT_EQ(SessionScopePolicy::CheckRepository(Session({kAliceConnection}, {}),
                                                Url("https://gitlab.example.org/group/b.git"),
                                                core::ConnectionId())
                .error()
                .code,
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(providers_.list_calls, 0);
}

// --- CheckRequest (was SessionTokenService::CheckScope) ---

TEST_F(SessionScopePolicyTest, ARequestedScopeIsDeduplicatedAndMustNameSomething) {
  std::vector<core::ConnectionId> ids = {kAliceConnection, kAliceConnection};
  std::vector<std::string> urls = {kRepoA, kRepoA};
  std::vector<core::ConnectionId> no_ids;
  std::vector<std::string> no_urls;

  EXPECT_TRUE(policy_.CheckRequest(Alice(), ids, urls).ok());
  EXPECT_EQ(ids, std::vector<core::ConnectionId>{kAliceConnection});
  EXPECT_EQ(urls, std::vector<std::string>{kRepoA});
  EXPECT_EQ(policy_.CheckRequest(Alice(), no_ids, no_urls).error().code,
            ErrorCode::kInvalidArgument);
}

TEST_F(SessionScopePolicyTest, ARequestedScopeNamesOnlyOwnConnectionsAndServedRepositories) {
  const auto check = [&](std::vector<core::ConnectionId> ids, std::vector<std::string> urls) {
    return policy_.CheckRequest(Alice(), ids, urls);
  };

  EXPECT_EQ(check({kBobConnection}, {}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(check({core::ConnectionId("01HCCCCCCCCCCCCCCCCCCCCCCC")}, {}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(check({}, {"https://nobody.example.org/a.git"}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(check({}, {"https://user:pw@gitlab.example.org/a.git"}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(check({}, {"ssh://gitlab.example.org/a.git"}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(check({}, {"https://gitlab.example.org/a/../b.git"}).error().code,
            ErrorCode::kInvalidArgument);
  std::vector<std::string> too_many = OtherRepositories(core::kMaxSessionScopeEntries + 1);
  EXPECT_EQ(check({}, too_many).error().code, ErrorCode::kInvalidArgument);
}

TEST_F(SessionScopePolicyTest, MintingAScopeOfManyRepositoriesListsProvidersOnce) {
  std::vector<core::ConnectionId> ids;
  std::vector<std::string> urls = OtherRepositories(10, kRepoA);

  EXPECT_TRUE(policy_.CheckRequest(Alice(), ids, urls).ok());
  EXPECT_EQ(providers_.list_calls, 1);
}

}  // namespace
}  // namespace keybridge::service
