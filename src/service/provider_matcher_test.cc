#include "service/provider_matcher.h"

#include <gtest/gtest.h>

#include "support/in_memory_repositories.h"

namespace keybridge::service {
namespace {

using core::ErrorCode;

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

// Counts List calls: each one decrypts every provider's secret in the real stores.
class CountingProviders final : public core::ProviderRepository {
 public:
  core::Result<std::vector<core::Provider>> List() override {
    ++list_calls;
    return inner.List();
  }
  core::Result<core::Provider> Find(const core::ProviderId& id) override { return inner.Find(id); }
  core::Status Insert(const core::Provider& provider) override { return inner.Insert(provider); }
  core::Status Update(const core::Provider& provider) override { return inner.Update(provider); }
  core::Result<bool> Delete(const core::ProviderId& id) override { return inner.Delete(id); }

  testing::InMemoryProviderRepository inner;
  int list_calls = 0;
};

class ProviderMatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(providers_.Insert(GitLab("gitlab", "https://gitlab.example.org/gitlab")).ok());
    ASSERT_TRUE(providers_.Insert(GitLab("gitlab-root", "https://gitlab.example.org")).ok());
  }

  CountingProviders providers_;
  ProviderMatcher matcher_{providers_};
};

TEST(ProviderSnapshot, MatchRegistryByTheRegistryUrlsHostAndPortOnly) {
  core::Provider registry_b = GitLab("b-gitlab", "https://gitlab.example.org");
  registry_b.image_registry_url = "https://Registry.Example.org:5050";
  core::Provider registry_a = GitLab("a-gitlab", "https://gitlab2.example.org");
  registry_a.image_registry_url = "https://registry.example.org:5050";
  core::Provider ghcr = GitLab("ghcr", "https://github.com");
  ghcr.kind = core::ProviderKind::kGitHub;
  ghcr.image_registry_url = "https://ghcr.io";
  core::Provider oidc = GitLab("oidc", "https://id.example.org");
  oidc.kind = core::ProviderKind::kGenericOidc;
  oidc.image_registry_url = "https://images.example.org";
  // Validation refuses a registry on a data connector; a stored one is still never matched.
  core::Provider zenodo = GitLab("zenodo", "https://zenodo.org");
  zenodo.kind = core::ProviderKind::kZenodo;
  zenodo.image_registry_url = "https://zenodo-images.example.org";
  const ProviderSnapshot snapshot(
      {registry_b, registry_a, ghcr, oidc, zenodo, GitLab("plain", "https://x.org")});

  EXPECT_EQ(snapshot.MatchRegistry("registry.example.org:5050")->id.value(), "a-gitlab")
      << "the lowest id of several, whatever the storage order";
  EXPECT_EQ(snapshot.MatchRegistry("ghcr.io")->id.value(), "ghcr");
  EXPECT_FALSE(snapshot.MatchRegistry("registry.example.org")) << "another port";
  EXPECT_FALSE(snapshot.MatchRegistry("images.example.org")) << "only gitlab and github kinds";
  EXPECT_FALSE(snapshot.MatchRegistry("zenodo-images.example.org")) << "no data connector";
  EXPECT_FALSE(snapshot.MatchRegistry("x.org"));
}

TEST_F(ProviderMatcherTest, ProviderServingPicksTheLongestPrefix) {
  auto deep = matcher_.ProviderServing("https://gitlab.example.org/gitlab/group/a.git");
  auto root = matcher_.ProviderServing("https://gitlab.example.org/other/x.git");
  auto none = matcher_.ProviderServing("https://elsewhere.example.org/group/a.git");

  ASSERT_TRUE(deep.ok() && *deep);
  EXPECT_EQ((*deep)->id, "gitlab");
  ASSERT_TRUE(root.ok() && *root);
  EXPECT_EQ((*root)->id, "gitlab-root");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);
}

TEST_F(ProviderMatcherTest, AnUnusableUrlIsInvalidWithoutReadingProviders) {
  for (const char* url : {"ssh://gitlab.example.org/group/a.git", "https://gitlab.example.org/a?b",
                          "https://user:pw@gitlab.example.org/a", "gitlab.example.org/a"}) {
    auto serving = matcher_.ProviderServing(url);

    ASSERT_FALSE(serving.ok()) << url;
    EXPECT_EQ(serving.error().code, ErrorCode::kInvalidArgument) << url;
  }
  EXPECT_EQ(providers_.list_calls, 0);
}

TEST_F(ProviderMatcherTest, MatchNamesTheRepositoryPathBelowTheProvider) {
  auto url = core::ParseUrl("https://gitlab.example.org/gitlab/group/sub/a.git");
  ASSERT_TRUE(url.ok());

  auto served = matcher_.Match(*url);

  ASSERT_TRUE(served.ok() && *served);
  EXPECT_EQ((*served)->provider.id, "gitlab");
  EXPECT_EQ((*served)->repository_path, "group/sub/a.git");
}

TEST_F(ProviderMatcherTest, ASnapshotReadsProvidersOnceForManyUrls) {
  auto snapshot = matcher_.Snapshot();
  ASSERT_TRUE(snapshot.ok());

  for (int i = 0; i < 5; ++i) {
    auto url = core::ParseUrl("https://gitlab.example.org/gitlab/group/r" + std::to_string(i));
    ASSERT_TRUE(url.ok());
    const auto served = snapshot->Match(*url);
    ASSERT_TRUE(served);
    EXPECT_EQ(served->provider.id, "gitlab");
  }
  EXPECT_EQ(providers_.list_calls, 1);
}

}  // namespace
}  // namespace keybridge::service
