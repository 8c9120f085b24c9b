#include "app/config.h"

#include <gtest/gtest.h>

namespace keybridge::app {
namespace {

TEST(ServeConfig, DerivesListenPartsAndPublicUrl) {
  ServeConfig config;
  config.listen = "0.0.0.0:9090";

  ASSERT_TRUE(Validate(config).ok());

  EXPECT_EQ(config.listen_host, "0.0.0.0");
  EXPECT_EQ(config.listen_port, 9090);
  EXPECT_EQ(config.public_url, "http://0.0.0.0:9090");
}

TEST(ServeConfig, ReportsEveryProblemAtOnce) {
  ServeConfig config;
  config.listen = "nope";
  config.database = "mysql://x";
  config.oidc_issuer = "http://id.example.org";

  auto status = Validate(config);

  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("--listen"), std::string::npos);
  EXPECT_NE(status.error().message.find("--database"), std::string::npos);
  EXPECT_NE(status.error().message.find("--oidc-issuer"), std::string::npos);
}

TEST(ServeConfig, AnIssuerNeedsAnAudienceWhichDefaultsToTheSignInClient) {
  ServeConfig without;
  without.oidc_issuer = "https://id.example.org/realms/renku";
  ServeConfig with_client = without;
  with_client.oidc_client_id = "renku-ui";
  ServeConfig explicit_audience = with_client;
  explicit_audience.oidc_audiences = {"renku"};

  auto refused = Validate(without);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("--oidc-audience"), std::string::npos);
  ASSERT_TRUE(Validate(with_client).ok());
  EXPECT_EQ(with_client.oidc_audiences, std::vector<std::string>({"renku-ui"}));
  ASSERT_TRUE(Validate(explicit_audience).ok());
  EXPECT_EQ(explicit_audience.oidc_audiences, std::vector<std::string>({"renku"}));
}

TEST(ServeConfig, StripsTrailingSlashFromPublicUrl) {
  ServeConfig config;
  config.public_url = "https://renku.example.org/";
  ASSERT_TRUE(Validate(config).ok());
  EXPECT_EQ(config.public_url, "https://renku.example.org");
}

TEST(ParseDuration, AcceptsUnitsAndRejectsGarbage) {
  EXPECT_EQ(ParseDuration("90").value(), core::Seconds(90));
  EXPECT_EQ(ParseDuration("15m").value(), core::Seconds(900));
  EXPECT_EQ(ParseDuration("12h").value(), core::Seconds(43200));
  EXPECT_EQ(ParseDuration("30d").value(), core::Seconds(2592000));
  for (const char* bad : {"", "h", "-5m", "0", "5w", "5mm"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace keybridge::app
