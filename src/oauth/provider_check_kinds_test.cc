// "Test this integration" for the data connector kinds (dropbox, google, zenodo), with token
// endpoint answers shaped as each provider sends them to a code that was never issued.
#include <gtest/gtest.h>

#include "oauth/form.h"
#include "oauth/provider_check.h"
#include "oauth/provider_check_text.h"
#include "oauth/test_fixtures.h"

namespace keybridge::oauth {
namespace {

using testing::DropboxProvider;
using testing::GoogleProvider;
using testing::Json;
using testing::Response;
using testing::ZenodoProvider;

constexpr const char* kCallback = "https://kb.example.org/api/data/oauth2/callback";

bool Mentions(std::string_view text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

ProviderEndpoints EndpointsOf(const core::Provider& provider) {
  auto endpoints = EndpointsFor(provider, nullptr);
  EXPECT_TRUE(endpoints.ok()) << endpoints.error().message;
  return endpoints.ok() ? *endpoints : ProviderEndpoints{};
}

// Each provider's answer to the probe code with the right and with a wrong client.
struct KindAnswers {
  core::Provider provider;
  core::HttpResponse credentials_fine;
  core::HttpResponse credentials_wrong;
  std::string console;  // what CredentialsAdvice must name
};

std::vector<KindAnswers> AllKinds() {
  return {
      {DropboxProvider(),
       Json(400,
            R"({"error":"invalid_grant","error_description":"code doesn't exist or has expired"})"),
       Json(
           400,
           R"({"error":"invalid_client","error_description":"Invalid client_id or client_secret"})"),
       "Dropbox App Console"},
      {GoogleProvider(),
       Json(400, R"({"error":"invalid_grant","error_description":"Malformed auth code."})"),
       Json(401, R"({"error":"invalid_client","error_description":"Unauthorized"})"),
       "Google Cloud Console"},
      {ZenodoProvider(), Json(400, R"({"error":"invalid_grant"})"),
       Json(401, R"({"error":"invalid_client"})"), "Developer applications"},
  };
}

TEST(DataConnectorCheck, TheTokenProbeGoesToTheKindsTokenEndpointWithBodyCredentials) {
  const std::vector<std::string> token_urls = {"https://api.dropboxapi.com/oauth2/token",
                                               "https://oauth2.googleapis.com/token",
                                               "https://zenodo.org/oauth/token"};
  const auto kinds = AllKinds();
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    const core::Provider& provider = kinds[i].provider;
    const core::HttpRequest request = BuildTokenProbe(provider, EndpointsOf(provider), kCallback);
    EXPECT_EQ(request.url, token_urls[i]);
    auto form = FormDecode(request.body);
    ASSERT_TRUE(form.has_value());
    EXPECT_EQ(*FindField(*form, "code"), kProbeCode);
    EXPECT_EQ(*FindField(*form, "client_id"), provider.client_id);
    EXPECT_EQ(*FindField(*form, "client_secret"), provider.client_secret->Reveal());
  }
}

TEST(DataConnectorCheck, InvalidGrantProvesTheEndpointAndTheCredentials) {
  for (const KindAnswers& kind : AllKinds()) {
    const std::string name = KindName(kind.provider.kind);
    const auto endpoints = EndpointsCheck(kind.provider, EndpointsOf(kind.provider),
                                          kind.credentials_fine, std::nullopt);
    EXPECT_EQ(endpoints.status, CheckStatus::kPass) << name << ": " << endpoints.detail;
    EXPECT_TRUE(Mentions(endpoints.detail, "as a " + name + " token endpoint does"))
        << endpoints.detail;
    const auto credentials =
        ClientCredentialsCheck(kind.provider, ClassifyTokenProbe(kind.credentials_fine));
    EXPECT_EQ(credentials.status, CheckStatus::kPass) << name;
  }
}

TEST(DataConnectorCheck, InvalidClientFailsPointingAtTheKindsConsole) {
  for (const KindAnswers& kind : AllKinds()) {
    const auto probe = ClassifyTokenProbe(kind.credentials_wrong);
    EXPECT_EQ(probe.verdict, TokenProbeVerdict::kCredentialsRejected);
    EXPECT_EQ(EndpointsCheck(kind.provider, EndpointsOf(kind.provider), kind.credentials_wrong,
                             std::nullopt)
                  .status,
              CheckStatus::kPass);
    const auto check = ClientCredentialsCheck(kind.provider, probe);
    EXPECT_EQ(check.status, CheckStatus::kFail);
    EXPECT_TRUE(Mentions(check.detail, "the Client ID or Client Secret is wrong"));
    EXPECT_TRUE(Mentions(check.fix, kind.console)) << check.fix;
    EXPECT_FALSE(Mentions(check.detail + check.fix, kind.provider.client_secret->Reveal()));
  }
}

TEST(DataConnectorCheck, RedirectUriIsSkippedNamingWhereToRegisterTheCallback) {
  const std::vector<std::string> places = {"Dropbox App Console", "Google Cloud Console",
                                           "Zenodo developer application"};
  const auto kinds = AllKinds();
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    const auto check = RedirectUriCheck(kinds[i].provider,
                                        ClassifyTokenProbe(kinds[i].credentials_fine), kCallback);
    EXPECT_EQ(check.status, CheckStatus::kSkip);
    EXPECT_TRUE(Mentions(check.detail, kCallback));
    EXPECT_TRUE(Mentions(check.fix, places[i])) << check.fix;
  }
}

TEST(DataConnectorCheck, GitHubOnlyChecksAreSkipped) {
  for (const KindAnswers& kind : AllKinds()) {
    const auto slug = AppSlugConfigCheck(kind.provider);
    ASSERT_TRUE(slug.has_value());
    EXPECT_EQ(slug->status, CheckStatus::kSkip);
    EXPECT_FALSE(BuildRegistryProbe(kind.provider).has_value());
    EXPECT_EQ(ImageRegistryCheck(kind.provider, std::nullopt).status, CheckStatus::kSkip);
  }
}

TEST(DataConnectorCheck, AZenodoUrlWithoutAnOAuthServerSaysHowToSetIt) {
  const auto zenodo = ZenodoProvider("https://zenodo.example.org/deposit");
  const auto check =
      EndpointsCheck(zenodo, EndpointsOf(zenodo),
                     Response(404, "text/html", "<html>not found</html>"), std::nullopt);
  EXPECT_EQ(check.status, CheckStatus::kFail);
  EXPECT_TRUE(Mentions(check.detail, "no Zenodo OAuth token endpoint")) << check.detail;
  EXPECT_TRUE(Mentions(check.fix, "https://sandbox.zenodo.org")) << check.fix;
}

TEST(DataConnectorCheck, AWellKnownHostOfAnotherKindNamesTheKindToSet) {
  const auto zenodo = ZenodoProvider("https://github.com");
  const auto check = EndpointsCheck(zenodo, EndpointsOf(zenodo),
                                    Response(404, "text/html", "<html/>"), std::nullopt);
  EXPECT_EQ(check.status, CheckStatus::kFail);
  EXPECT_TRUE(Mentions(check.detail, "the URL is GitHub's")) << check.detail;
  EXPECT_TRUE(Mentions(check.fix, "Set Kind to GitHub")) << check.fix;

  const auto gitlab = testing::GitLabProvider("https://www.dropbox.com");
  const auto at_dropbox = EndpointsCheck(gitlab, EndpointsOf(gitlab),
                                         Response(404, "text/html", "<html/>"), std::nullopt);
  EXPECT_TRUE(Mentions(at_dropbox.fix, "Set Kind to Dropbox")) << at_dropbox.fix;

  const auto github = testing::GitHubProvider("https://sandbox.zenodo.org");
  const auto at_zenodo = EndpointsCheck(github, EndpointsOf(github),
                                        Response(404, "text/html", "<html/>"), std::nullopt);
  EXPECT_TRUE(Mentions(at_zenodo.fix, "Set Kind to Zenodo")) << at_zenodo.fix;
}

TEST(DataConnectorCheck, AnUnreachableFixedEndpointSaysTheUrlIsFixed) {
  const auto dropbox = DropboxProvider("http://127.0.0.1:9");
  const auto check = EndpointsCheck(dropbox, EndpointsOf(dropbox),
                                    Response(404, "text/plain", "no such path"), std::nullopt);
  EXPECT_EQ(check.status, CheckStatus::kFail);
  EXPECT_TRUE(Mentions(check.fix, "Leave URL empty")) << check.fix;
  EXPECT_TRUE(Mentions(check.fix, "https://www.dropbox.com")) << check.fix;
}

TEST(DataConnectorCheck, AnUnreachableCanonicalUrlPointsAtTheNetworkNotTheUrl) {
  const core::Result<core::HttpResponse> unreachable = core::MakeError(
      core::ErrorCode::kUnavailable, "cannot reach www.dropbox.com: Couldn't resolve host name");
  const auto check = BaseUrlCheck(DropboxProvider(), unreachable);
  EXPECT_EQ(check.status, CheckStatus::kFail);
  EXPECT_TRUE(Mentions(check.fix, "let this server reach it")) << check.fix;
  const auto stand_in = BaseUrlCheck(DropboxProvider("http://127.0.0.1:9"), unreachable);
  EXPECT_FALSE(Mentions(stand_in.fix, "let this server reach it")) << stand_in.fix;
  const auto zenodo = BaseUrlCheck(ZenodoProvider(), unreachable);
  EXPECT_FALSE(Mentions(zenodo.fix, "let this server reach it")) << zenodo.fix;
}

TEST(KindOfWellKnownHost, NamesPublicHostsOnly) {
  EXPECT_EQ(KindOfWellKnownHost("https://www.dropbox.com"), core::ProviderKind::kDropbox);
  EXPECT_EQ(KindOfWellKnownHost("https://accounts.google.com"), core::ProviderKind::kGoogle);
  EXPECT_EQ(KindOfWellKnownHost("https://zenodo.org/"), core::ProviderKind::kZenodo);
  EXPECT_EQ(KindOfWellKnownHost("https://sandbox.zenodo.org"), core::ProviderKind::kZenodo);
  EXPECT_EQ(KindOfWellKnownHost("https://github.com"), core::ProviderKind::kGitHub);
  EXPECT_EQ(KindOfWellKnownHost("https://gitlab.com"), core::ProviderKind::kGitLab);
  EXPECT_FALSE(KindOfWellKnownHost("https://gitlab.example.org"));
  EXPECT_FALSE(KindOfWellKnownHost("http://127.0.0.1:4000"));
  EXPECT_FALSE(KindOfWellKnownHost("not a url"));
}

}  // namespace
}  // namespace keybridge::oauth
