#include "support/test_jwt_issuer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace keybridge::testing {
namespace {

struct Parts {
  nlohmann::json header;
  nlohmann::json claims;
  std::string signature_b64;
};

std::string DecodeSegment(const std::string& segment) {
  // Minimal base64url decoder, enough to read back what the issuer wrote.
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (const char c : segment) {
    buffer = (buffer << 6U) | static_cast<unsigned>(kAlphabet.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> static_cast<unsigned>(bits)) & 0xFFU);
    }
  }
  return out;
}

Parts Split(const std::string& jwt) {
  const std::size_t first = jwt.find('.');
  const std::size_t second = jwt.find('.', first + 1);
  return Parts{nlohmann::json::parse(DecodeSegment(jwt.substr(0, first))),
               nlohmann::json::parse(DecodeSegment(jwt.substr(first + 1, second - first - 1))),
               jwt.substr(second + 1)};
}

TEST(TestBase64Url, MatchesRfc4648WithoutPadding) {
  EXPECT_EQ(TestBase64Url("f"), "Zg");
  EXPECT_EQ(TestBase64Url("fo"), "Zm8");
  EXPECT_EQ(TestBase64Url("foobar"), "Zm9vYmFy");
  EXPECT_EQ(TestBase64Url("\xfb\xff"), "-_8");
}

TEST(TestJwtIssuer, PublishesRsaAndEcKeys) {
  TestJwtIssuer issuer("https://issuer.test/realms/renku");

  const auto jwks = nlohmann::json::parse(issuer.JwksJson());
  const auto discovery = nlohmann::json::parse(issuer.DiscoveryJson(issuer.JwksUrl()));

  ASSERT_EQ(jwks.at("keys").size(), 2U);
  EXPECT_EQ(jwks["keys"][0]["kid"], "rsa-1");
  EXPECT_EQ(jwks["keys"][0]["kty"], "RSA");
  EXPECT_EQ(DecodeSegment(jwks["keys"][0]["n"]).size(), 256U);
  EXPECT_EQ(jwks["keys"][1]["kid"], "ec-1");
  EXPECT_EQ(jwks["keys"][1]["crv"], "P-256");
  EXPECT_EQ(DecodeSegment(jwks["keys"][1]["x"]).size(), 32U);
  EXPECT_EQ(discovery["issuer"], "https://issuer.test/realms/renku");
  EXPECT_EQ(discovery["jwks_uri"],
            "https://issuer.test/realms/renku/protocol/openid-connect/certs");
  EXPECT_EQ(issuer.DiscoveryUrl(),
            "https://issuer.test/realms/renku/.well-known/openid-configuration");
}

TEST(TestJwtIssuer, RotateReplacesRsaKey) {
  TestJwtIssuer issuer("https://issuer.test");
  const auto before = nlohmann::json::parse(issuer.JwksJson());

  issuer.RotateKeys();

  const auto after = nlohmann::json::parse(issuer.JwksJson());
  EXPECT_EQ(after["keys"][0]["kid"], "rsa-2");
  EXPECT_NE(after["keys"][0]["n"], before["keys"][0]["n"]);
  EXPECT_EQ(after["keys"][1], before["keys"][1]);
  EXPECT_EQ(issuer.RsaKid(), "rsa-2");
}

TEST(TestJwtIssuer, MintsHeadersForEachMode) {
  TestJwtIssuer issuer("https://issuer.test");
  const nlohmann::json claims = {{"sub", "u1"}};

  const Parts rs = Split(issuer.Mint(claims));
  const Parts es = Split(issuer.Mint(claims, MintOptions{.alg = "ES256"}));
  const Parts none = Split(issuer.Mint(claims, MintOptions{.alg_none = true}));
  const Parts hs = Split(issuer.Mint(claims, MintOptions{.hs256_with_public_key = true}));
  const Parts kid = Split(issuer.Mint(claims, MintOptions{.kid = "other"}));

  EXPECT_EQ(rs.header["alg"], "RS256");
  EXPECT_EQ(rs.header["kid"], "rsa-1");
  EXPECT_EQ(DecodeSegment(rs.signature_b64).size(), 256U);
  EXPECT_EQ(rs.claims, claims);
  EXPECT_EQ(es.header["alg"], "ES256");
  EXPECT_EQ(es.header["kid"], "ec-1");
  EXPECT_EQ(DecodeSegment(es.signature_b64).size(), 64U);
  EXPECT_EQ(none.header["alg"], "none");
  EXPECT_EQ(none.signature_b64, "");
  EXPECT_EQ(hs.header["alg"], "HS256");
  EXPECT_EQ(DecodeSegment(hs.signature_b64).size(), 32U);
  EXPECT_EQ(kid.header["kid"], "other");
}

TEST(TestJwtIssuer, DefaultClaimsFollowKeycloakLayout) {
  TestJwtIssuer issuer("https://issuer.test");
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));

  const auto claims = issuer.DefaultClaims("user-1", {"renku-admin"}, now);

  EXPECT_EQ(claims["iss"], "https://issuer.test");
  EXPECT_EQ(claims["sub"], "user-1");
  EXPECT_EQ(claims["aud"], "renku");
  EXPECT_EQ(claims["exp"], 1'700'000'300);
  EXPECT_EQ(claims["realm_access"]["roles"][0], "renku-admin");
  EXPECT_EQ(claims["email"], "user-1@example.org");
}

TEST(TestJwtIssuer, PemIsSubjectPublicKeyInfo) {
  TestJwtIssuer issuer("https://issuer.test");

  const std::string pem = issuer.RsaPublicKeyPem();

  EXPECT_EQ(pem.rfind("-----BEGIN PUBLIC KEY-----\n", 0), 0U);
}

}  // namespace
}  // namespace keybridge::testing
