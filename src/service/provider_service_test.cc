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

// Invalidates through the in-memory connections and records what it was asked.
class RecordingInvalidator final : public ConnectionInvalidator {
 public:
  explicit RecordingInvalidator(core::ConnectionRepository& connections)
      : connections_(connections) {}
  core::Result<std::int64_t> InvalidateConnections(const core::Provider& before,
                                                   const std::string& reason) override {
    calls.push_back({before, reason});
    KEYBRIDGE_ASSIGN_OR_RETURN(auto dropped,
                               connections_.InvalidateForProvider(before.id, reason, {}));
    return static_cast<std::int64_t>(dropped.size());
  }
  struct Call {
    core::Provider before;
    std::string reason;
  };
  std::vector<Call> calls;

 private:
  core::ConnectionRepository& connections_;
};

class ProviderServiceTest : public ::testing::Test {
 protected:
  // A connected connection of `user` to provider `id`.
  core::ConnectionId Connect(const std::string& id, const std::string& user) {
    core::Connection c;
    c.id = core::ConnectionId("conn-" + user);
    c.user_id = core::UserId(user);
    c.provider_id = core::ProviderId(id);
    EXPECT_TRUE(connections_.FindOrInsert(c).ok());
    core::TokenSet token;
    token.access_token = core::Secret("access-" + user);
    token.refresh_token = core::Secret("refresh-" + user);
    EXPECT_TRUE(connections_.StoreToken(c.id, token, clock_.Now()).ok());
    return c.id;
  }

  testing::InMemoryProviderRepository repo_;
  testing::InMemoryConnectionRepository connections_;
  RecordingInvalidator invalidator_{connections_};
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
  patch.client_secret = core::Secret("oidc-secret");  // a new destination needs a new secret
  EXPECT_TRUE(service_.Update(Admin(), core::ProviderId("x"), patch, &invalidator_).ok());
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
  EXPECT_TRUE(service_.Delete(Admin(), core::ProviderId("x"), &invalidator_).ok());
  EXPECT_TRUE(service_.Delete(Admin(), core::ProviderId("x"), &invalidator_).ok());
  EXPECT_FALSE(repo_.Find(core::ProviderId("x")).ok());
}

TEST_F(ProviderServiceTest, DeleteRevokesTheConnectionsAtTheProviderFirst) {
  ASSERT_TRUE(service_.Create(Admin(), GitLabRequest("x")).ok());
  const core::ConnectionId alice = Connect("x", "alice");

  ASSERT_TRUE(service_.Delete(Admin(), core::ProviderId("x"), &invalidator_).ok());

  ASSERT_EQ(invalidator_.calls.size(), 1U);
  EXPECT_EQ(invalidator_.calls[0].before.url, "https://gitlab.example.org")
      << "revoked where the integration pointed";
  EXPECT_EQ(invalidator_.calls[0].reason, "The integration was deleted.");
  EXPECT_FALSE(connections_.Find(alice)->token.has_value()) << "tokens dropped";
  EXPECT_FALSE(repo_.Find(core::ProviderId("x")).ok());
}

TEST_F(ProviderServiceTest, DeleteWithoutAnInvalidatorFailsClosed) {
  ASSERT_TRUE(service_.Create(Admin(), GitLabRequest("x")).ok());

  EXPECT_EQ(service_.Delete(Admin(), core::ProviderId("x")).error().code,
            core::ErrorCode::kInternal);
  EXPECT_TRUE(repo_.Find(core::ProviderId("x")).ok()) << "nothing deleted";
}

// Issue #12, defect 1: a retarget must not carry the stored secret or the users' grants along.
TEST_F(ProviderServiceTest, ChangingADestinationFieldWithoutANewSecretIsRefusedNamingIt) {
  ProviderCreate oidc = GitLabRequest("o");
  oidc.kind = core::ProviderKind::kGenericOidc;
  oidc.oidc_issuer_url = "https://id.example.org";
  ASSERT_TRUE(service_.Create(Admin(), oidc).ok());
  ProviderCreate github = GitLabRequest("g");
  github.kind = core::ProviderKind::kGitHub;
  github.url = "https://github.com";
  github.image_registry_url = "https://ghcr.io";
  ASSERT_TRUE(service_.Create(Admin(), github).ok());
  Connect("o", "alice");
  Connect("g", "bob");

  struct Case {
    std::string provider;
    std::string field;
    ProviderPatch patch;
  };
  std::vector<Case> cases(5);
  cases[0] = {"o", "url", {}};
  cases[0].patch.url = "https://evil.example.net";
  cases[1] = {"o", "client_id", {}};
  cases[1].patch.client_id = "someone-elses-client";
  cases[2] = {"o", "oidc_issuer_url", {}};
  cases[2].patch.oidc_issuer_url = "https://evil.example.net";
  cases[3] = {"o", "kind", {}};
  cases[3].patch.kind = core::ProviderKind::kGitLab;
  cases[4] = {"g", "image_registry_url", {}};
  cases[4].patch.image_registry_url = "https://registry.evil.example.net";
  for (Case& c : cases) {
    SCOPED_TRACE(c.field);
    for (const bool clears_secret : {false, true}) {
      ProviderPatch patch = c.patch;
      if (clears_secret) {
        patch.client_secret = core::Secret("");  // clearing is not a new secret either
      }
      auto updated = service_.Update(Admin(), core::ProviderId(c.provider), patch, &invalidator_);

      ASSERT_FALSE(updated.ok());
      EXPECT_EQ(updated.error().code, core::ErrorCode::kInvalidArgument);
      EXPECT_NE(updated.error().message.find("Changing " + c.field), std::string::npos)
          << updated.error().message;
      EXPECT_NE(updated.error().message.find("requires a new client_secret"), std::string::npos);
      EXPECT_NE(updated.error().message.find("new destination"), std::string::npos);
    }
  }
  EXPECT_TRUE(invalidator_.calls.empty());
  EXPECT_EQ(repo_.Find(core::ProviderId("o"))->url, "https://gitlab.example.org");
  EXPECT_EQ(repo_.Find(core::ProviderId("o"))->client_secret->Reveal(), "s3cret");
  EXPECT_TRUE(connections_.Find(core::ConnectionId("conn-alice"))->token.has_value());
  EXPECT_TRUE(connections_.Find(core::ConnectionId("conn-bob"))->token.has_value());
}

TEST_F(ProviderServiceTest, ARetargetWithANewSecretInvalidatesEveryConnectionBeforeStoring) {
  ASSERT_TRUE(service_.Create(Admin(), GitLabRequest("x")).ok());
  ASSERT_TRUE(service_.Create(Admin(), GitLabRequest("other")).ok());
  const core::ConnectionId alice = Connect("x", "alice");
  const core::ConnectionId bob = Connect("other", "bob");
  ProviderPatch patch;
  patch.url = "https://gitlab.new.example.net";
  patch.client_secret = core::Secret("new-secret");

  auto updated = service_.Update(Admin(), core::ProviderId("x"), patch, &invalidator_);

  ASSERT_TRUE(updated.ok()) << updated.error().message;
  EXPECT_EQ(repo_.Find(core::ProviderId("x"))->url, "https://gitlab.new.example.net");
  EXPECT_EQ(repo_.Find(core::ProviderId("x"))->client_secret->Reveal(), "new-secret");
  ASSERT_EQ(invalidator_.calls.size(), 1U);
  // The old destination and secret, for the revocation.
  EXPECT_EQ(invalidator_.calls[0].before.url, "https://gitlab.example.org");
  EXPECT_EQ(invalidator_.calls[0].before.client_secret->Reveal(), "s3cret");
  const core::Connection c = *connections_.Find(alice);
  EXPECT_EQ(c.status, core::ConnectionStatus::kInvalidCredentials);
  EXPECT_FALSE(c.token.has_value());
  EXPECT_EQ(c.status_reason,
            "The integration's url changed from https://gitlab.example.org to "
            "https://gitlab.new.example.net; reconnect.");
  EXPECT_EQ(c.status_reason.find("secret"), std::string::npos);
  EXPECT_TRUE(connections_.Find(bob)->token.has_value());  // another integration's
}

TEST_F(ProviderServiceTest, OtherPatchesAndUnchangedValuesKeepTheConnections) {
  ASSERT_TRUE(service_.Create(Admin(), GitLabRequest("x")).ok());
  const core::ConnectionId alice = Connect("x", "alice");
  ProviderPatch patch;
  patch.display_name = "Renamed";
  patch.scope = "api";
  patch.use_pkce = false;
  patch.url = "https://gitlab.example.org";  // the same value is no change
  patch.client_id = "client";

  ASSERT_TRUE(service_.Update(Admin(), core::ProviderId("x"), patch).ok());

  EXPECT_TRUE(invalidator_.calls.empty());
  EXPECT_TRUE(connections_.Find(alice)->token.has_value());
  EXPECT_EQ(repo_.Find(core::ProviderId("x"))->display_name, "Renamed");
}

TEST_F(ProviderServiceTest, ARetargetWithoutAnInvalidatorFailsClosed) {
  ASSERT_TRUE(service_.Create(Admin(), GitLabRequest("x")).ok());
  ProviderPatch patch;
  patch.url = "https://gitlab.new.example.net";
  patch.client_secret = core::Secret("new-secret");

  EXPECT_EQ(service_.Update(Admin(), core::ProviderId("x"), patch).error().code,
            core::ErrorCode::kInternal);
  EXPECT_EQ(repo_.Find(core::ProviderId("x"))->url, "https://gitlab.example.org");
}

ProviderCreate DataRequest(core::ProviderKind kind, std::string url) {
  ProviderCreate r = GitLabRequest(std::string(core::ToString(kind)));
  r.kind = kind;
  r.url = std::move(url);
  r.scope = "files.content.read";
  return r;
}

TEST_F(ProviderServiceTest, DropboxAndGoogleStoreTheCanonicalUrlForEmptyOrTheirOwnHost) {
  auto dropbox = service_.Create(Admin(), DataRequest(core::ProviderKind::kDropbox, ""));
  ASSERT_TRUE(dropbox.ok()) << dropbox.error().message;
  EXPECT_EQ(repo_.Find(core::ProviderId("dropbox"))->url, "https://www.dropbox.com");
  EXPECT_TRUE(dropbox->use_pkce);
  auto google =
      service_.Create(Admin(), DataRequest(core::ProviderKind::kGoogle, "https://google.com/"));
  ASSERT_TRUE(google.ok()) << google.error().message;
  EXPECT_EQ(repo_.Find(core::ProviderId("google"))->url, "https://accounts.google.com");
  EXPECT_TRUE(google->use_pkce);
  auto zenodo =
      service_.Create(Admin(), DataRequest(core::ProviderKind::kZenodo, "https://zenodo.org/"));
  ASSERT_TRUE(zenodo.ok()) << zenodo.error().message;
  EXPECT_EQ(repo_.Find(core::ProviderId("zenodo"))->url, "https://zenodo.org/");
  EXPECT_FALSE(zenodo->use_pkce);
}

TEST_F(ProviderServiceTest, DropboxAndGoogleKeepALoopbackStandInAndRefuseOtherHosts) {
  ASSERT_TRUE(
      service_.Create(Admin(), DataRequest(core::ProviderKind::kDropbox, "http://127.0.0.1:4567"))
          .ok());
  EXPECT_EQ(repo_.Find(core::ProviderId("dropbox"))->url, "http://127.0.0.1:4567");

  auto refused = service_.Create(
      Admin(), DataRequest(core::ProviderKind::kGoogle, "https://oauth.example.org"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("must be empty or https://accounts.google.com"),
            std::string::npos)
      << refused.error().message;
  EXPECT_FALSE(repo_.Find(core::ProviderId("google")).ok());

  ProviderPatch patch;
  patch.url = "https://dropbox.example.org";
  patch.client_secret = core::Secret("new");
  auto patched = service_.Update(Admin(), core::ProviderId("dropbox"), patch, &invalidator_);
  ASSERT_FALSE(patched.ok());
  EXPECT_EQ(patched.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_TRUE(invalidator_.calls.empty());
  EXPECT_EQ(repo_.Find(core::ProviderId("dropbox"))->url, "http://127.0.0.1:4567");
}

TEST_F(ProviderServiceTest, ACanonicalSpellingOfTheStoredUrlIsNoRetarget) {
  ASSERT_TRUE(service_.Create(Admin(), DataRequest(core::ProviderKind::kDropbox, "")).ok());
  const core::ConnectionId alice = Connect("dropbox", "alice");
  ProviderPatch patch;
  patch.url = "dropbox.com";

  ASSERT_TRUE(service_.Update(Admin(), core::ProviderId("dropbox"), patch).ok());

  EXPECT_TRUE(invalidator_.calls.empty());
  EXPECT_TRUE(connections_.Find(alice)->token.has_value());
  EXPECT_EQ(repo_.Find(core::ProviderId("dropbox"))->url, "https://www.dropbox.com");
}

TEST_F(ProviderServiceTest, DataConnectorsRefuseAppSlugAndImageRegistry) {
  ProviderCreate request = DataRequest(core::ProviderKind::kZenodo, "https://zenodo.org");
  request.app_slug = "an-app";
  auto created = service_.Create(Admin(), request);
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().message.find("app_slug"), std::string::npos);
  request = DataRequest(core::ProviderKind::kDropbox, "");
  request.image_registry_url = "https://ghcr.io";
  created = service_.Create(Admin(), request);
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().message.find("image_registry_url"), std::string::npos);
}

TEST_F(ProviderServiceTest, PatchingAGitHubIntoADropboxDropsItsSlugAndRegistry) {
  ProviderCreate github = GitLabRequest("g");
  github.kind = core::ProviderKind::kGitHub;
  github.url = "https://github.com";
  github.app_slug = "my-app";
  ASSERT_TRUE(service_.Create(Admin(), github).ok());
  ProviderPatch patch;
  patch.kind = core::ProviderKind::kDropbox;
  patch.url = "";
  patch.client_secret = core::Secret("dropbox-secret");

  auto updated = service_.Update(Admin(), core::ProviderId("g"), patch, &invalidator_);

  ASSERT_TRUE(updated.ok()) << updated.error().message;
  EXPECT_EQ(updated->kind, core::ProviderKind::kDropbox);
  EXPECT_EQ(updated->url, "https://www.dropbox.com");
  EXPECT_TRUE(updated->app_slug.empty());
  ASSERT_EQ(invalidator_.calls.size(), 1U);
  EXPECT_EQ(invalidator_.calls[0].before.url, "https://github.com");

  // Named in the patch, the slug is refused rather than dropped.
  ProviderPatch named;
  named.app_slug = "still-an-app";
  EXPECT_FALSE(service_.Update(Admin(), core::ProviderId("g"), named).ok());
}

}  // namespace
}  // namespace keybridge::service
