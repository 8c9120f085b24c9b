#include "service/provider_service.h"

#include <gtest/gtest.h>

#include "support/fake_clock.h"
#include "support/in_memory_repositories.h"

namespace keybridge::service {
namespace {

core::Caller Admin() {
  return core::Caller::User(core::UserId("admin-1"), true);
}
core::Caller User() {
  return core::Caller::User(core::UserId("user-1"));
}

ProviderCreate GitLabRequest(std::string id = "My GitLab") {
  ProviderCreate r;
  r.id = std::move(id);
  r.kind = core::ProviderKind::kGitLab;
  r.client_id = "client";
  r.client_secret = core::Secret("s3cret");
  r.display_name = "GitLab";
  r.scope = "read_api";
  r.url = "https://gitlab.example.org";
  return r;
}

class ProviderServiceTest : public ::testing::Test {
 protected:
  testing::InMemoryProviderRepository repo_;
  testing::FakeClock clock_;
  ProviderService service_{repo_, clock_};
};

TEST_F(ProviderServiceTest, CreateSlugsTheIdAndDefaultsPkceForGitLab) {
  auto created = service_.Create(Admin(), GitLabRequest());

  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(created->id, "my-gitlab");
  EXPECT_TRUE(created->use_pkce);
  EXPECT_EQ(created->created_by, "admin-1");
  EXPECT_TRUE(repo_.Find(core::ProviderId("my-gitlab")).ok());
}

TEST_F(ProviderServiceTest, CreateRequiresAnAdmin) {
  EXPECT_EQ(service_.Create(User(), GitLabRequest()).error().code,
            core::ErrorCode::kPermissionDenied);
  EXPECT_EQ(service_.Create(core::Caller::Anonymous(), GitLabRequest()).error().code,
            core::ErrorCode::kUnauthenticated);
  EXPECT_TRUE(repo_.List()->empty());
}

TEST_F(ProviderServiceTest, DuplicateIdIsAConflict) {
  ASSERT_TRUE(service_.Create(Admin(), GitLabRequest("x")).ok());

  auto again = service_.Create(Admin(), GitLabRequest("X"));

  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, core::ErrorCode::kConflict);
}

TEST_F(ProviderServiceTest, PatchEmptySecretClearsItAndAbsentKeepsIt) {
  ASSERT_TRUE(service_.Create(Admin(), GitLabRequest("x")).ok());
  ProviderPatch keep;
  keep.display_name = "Renamed";
  ASSERT_TRUE(service_.Update(Admin(), core::ProviderId("x"), keep).ok());
  EXPECT_TRUE(repo_.Find(core::ProviderId("x"))->client_secret.has_value());

  ProviderPatch clear;
  clear.client_secret = core::Secret("");
  auto updated = service_.Update(Admin(), core::ProviderId("x"), clear);

  ASSERT_TRUE(updated.ok());
  EXPECT_FALSE(repo_.Find(core::ProviderId("x"))->client_secret.has_value());
  EXPECT_EQ(repo_.Find(core::ProviderId("x"))->display_name, "Renamed");
}

TEST_F(ProviderServiceTest, PatchToGenericOidcNeedsAnIssuerInTheSamePatch) {
  ASSERT_TRUE(service_.Create(Admin(), GitLabRequest("x")).ok());
  ProviderPatch patch;
  patch.kind = core::ProviderKind::kGenericOidc;

  EXPECT_EQ(service_.Update(Admin(), core::ProviderId("x"), patch).error().code,
            core::ErrorCode::kInvalidArgument);
  patch.oidc_issuer_url = "https://id.example.org";
  EXPECT_TRUE(service_.Update(Admin(), core::ProviderId("x"), patch).ok());
}

TEST_F(ProviderServiceTest, InvalidPatchLeavesTheStoredProviderUnchanged) {
  ASSERT_TRUE(service_.Create(Admin(), GitLabRequest("x")).ok());
  ProviderPatch patch;
  patch.display_name = "New";
  patch.url = "ftp://nope";

  EXPECT_FALSE(service_.Update(Admin(), core::ProviderId("x"), patch).ok());
  EXPECT_EQ(repo_.Find(core::ProviderId("x"))->display_name, "GitLab");
}

TEST_F(ProviderServiceTest, GetAndUpdateOfUnknownIdAreNotFound) {
  EXPECT_EQ(service_.Get(core::ProviderId("nope")).error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(service_.Update(Admin(), core::ProviderId("nope"), {}).error().code,
            core::ErrorCode::kNotFound);
}

TEST_F(ProviderServiceTest, DeleteIsIdempotentButAdminOnly) {
  ASSERT_TRUE(service_.Create(Admin(), GitLabRequest("x")).ok());
  EXPECT_EQ(service_.Delete(User(), core::ProviderId("x")).error().code,
            core::ErrorCode::kPermissionDenied);
  EXPECT_TRUE(service_.Delete(Admin(), core::ProviderId("x")).ok());
  EXPECT_TRUE(service_.Delete(Admin(), core::ProviderId("x")).ok());
  EXPECT_FALSE(repo_.Find(core::ProviderId("x")).ok());
}

}  // namespace
}  // namespace keybridge::service
