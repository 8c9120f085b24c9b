#include "service/provider_gateway.h"

#include <gtest/gtest.h>

#include "support/fake_clock.h"
#include "support/scripted_http_client.h"

namespace keybridge::service {
namespace {

constexpr const char* kDiscovery =
    "https://id.example.org/realms/hpc/.well-known/openid-configuration";

core::Provider Oidc() {
  core::Provider p;
  p.id = core::ProviderId("hpc");
  p.kind = core::ProviderKind::kGenericOidc;
  p.client_id = "c";
  p.display_name = "HPC";
  p.url = "https://hpc.example.org";
  p.oidc_issuer_url = "https://id.example.org/realms/hpc";
  return p;
}

std::string Metadata() {
  return R"({"issuer":"https://id.example.org/realms/hpc",)"
         R"("authorization_endpoint":"https://id.example.org/realms/hpc/auth",)"
         R"("token_endpoint":"https://id.example.org/realms/hpc/token",)"
         R"("userinfo_endpoint":"https://id.example.org/realms/hpc/userinfo",)"
         R"("jwks_uri":"https://id.example.org/realms/hpc/certs"})";
}

TEST(ProviderGateway, CachesOidcDiscoveryForABoundedTime) {
  testing::FakeClock clock;
  testing::ScriptedHttpClient http;
  http.Always("GET", kDiscovery, testing::JsonResponse(200, Metadata()));
  ProviderGateway gateway(http, clock, core::Seconds(3600));

  ASSERT_TRUE(gateway.Endpoints(Oidc()).ok());
  ASSERT_TRUE(gateway.Endpoints(Oidc()).ok());
  EXPECT_EQ(http.CountRequests(kDiscovery), 1U);
  clock.Advance(core::Seconds(3601));
  auto endpoints = gateway.Endpoints(Oidc());

  ASSERT_TRUE(endpoints.ok());
  EXPECT_EQ(endpoints->token_url, "https://id.example.org/realms/hpc/token");
  EXPECT_EQ(http.CountRequests(kDiscovery), 2U);
}

TEST(ProviderGateway, DiscoveryFailureIsA502NotA500) {
  testing::FakeClock clock;
  testing::ScriptedHttpClient http;
  http.Always("GET", kDiscovery, testing::JsonResponse(500, "oops"));
  ProviderGateway gateway(http, clock);

  auto endpoints = gateway.Endpoints(Oidc());

  ASSERT_FALSE(endpoints.ok());
  EXPECT_EQ(endpoints.error().code, core::ErrorCode::kUpstreamFailed);
  EXPECT_NE(endpoints.error().message.find("hpc"), std::string::npos);
}

TEST(ProviderGateway, AStaleDocumentIsUsedWhileTheIssuerIsDown) {
  testing::FakeClock clock;
  testing::ScriptedHttpClient http;
  http.Enqueue("GET", kDiscovery, testing::JsonResponse(200, Metadata()));
  http.Always("GET", kDiscovery, testing::JsonResponse(503, ""));
  ProviderGateway gateway(http, clock, core::Seconds(60));
  ASSERT_TRUE(gateway.Endpoints(Oidc()).ok());
  clock.Advance(core::Seconds(61));

  EXPECT_TRUE(gateway.Endpoints(Oidc()).ok());
}

TEST(ProviderGateway, IssuerMismatchIsRejected) {
  testing::FakeClock clock;
  testing::ScriptedHttpClient http;
  std::string metadata = Metadata();
  metadata.replace(metadata.find("realms/hpc\""), 10, "realms/evil");
  http.Always("GET", kDiscovery, testing::JsonResponse(200, metadata));
  ProviderGateway gateway(http, clock);

  EXPECT_FALSE(gateway.Endpoints(Oidc()).ok());
}

}  // namespace
}  // namespace keybridge::service
