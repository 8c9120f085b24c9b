#include "crypto/jws.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "crypto/base64.h"
#include "support/test_jwt_issuer.h"

namespace keybridge::crypto {
namespace {

using testing::MintOptions;
using testing::TestJwtIssuer;

std::map<std::string, Jwk> ParseJwks(const std::string& jwks_json) {
  std::map<std::string, Jwk> keys;
  const auto jwks = nlohmann::json::parse(jwks_json);
  for (const auto& k : jwks.at("keys")) {
    Jwk jwk;
    jwk.kty = k.at("kty").get<std::string>();
    jwk.n = k.value("n", "");
    jwk.e = k.value("e", "");
    jwk.crv = k.value("crv", "");
    jwk.x = k.value("x", "");
    jwk.y = k.value("y", "");
    keys[k.at("kid").get<std::string>()] = jwk;
  }
  return keys;
}

PublicKey KeyOf(const TestJwtIssuer& issuer, const std::string& kid) {
  auto key = PublicKey::FromJwk(ParseJwks(issuer.JwksJson()).at(kid));
  EXPECT_TRUE(key.ok()) << (key.ok() ? "" : key.error().message);
  return std::move(key).value();
}

struct SplitToken {
  std::string signing_input;
  std::string signature;
};

SplitToken Split(const std::string& jwt) {
  const std::size_t last_dot = jwt.rfind('.');
  return SplitToken{jwt.substr(0, last_dot), *Base64UrlDecode(jwt.substr(last_dot + 1))};
}

class JwsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    issuer_ = new TestJwtIssuer("https://issuer.test");
    other_ = new TestJwtIssuer("https://other.test");
  }
  static void TearDownTestSuite() {
    delete issuer_;
    delete other_;
  }
  // Suite-wide fixtures: key generation is slow.
  static TestJwtIssuer* issuer_;
  static TestJwtIssuer* other_;
};
TestJwtIssuer* JwsTest::issuer_ = nullptr;
TestJwtIssuer* JwsTest::other_ = nullptr;

TEST_F(JwsTest, VerifiesRs256) {
  const PublicKey key = KeyOf(*issuer_, "rsa-1");
  const SplitToken token = Split(issuer_->Mint({{"sub", "u"}}));

  const core::Status status = VerifySignature(key, "RS256", token.signing_input, token.signature);

  EXPECT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(key.type(), PublicKey::Type::kRsa);
  EXPECT_EQ(key.bits(), 2048);
}

TEST_F(JwsTest, VerifiesEs256) {
  const PublicKey key = KeyOf(*issuer_, "ec-1");
  const SplitToken token = Split(issuer_->Mint({{"sub", "u"}}, MintOptions{.alg = "ES256"}));

  const core::Status status = VerifySignature(key, "ES256", token.signing_input, token.signature);

  EXPECT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(key.type(), PublicKey::Type::kEcP256);
}

TEST_F(JwsTest, RejectsSignatureFromAnotherKey) {
  const SplitToken rsa = Split(other_->Mint({{"sub", "u"}}));
  const SplitToken ec = Split(other_->Mint({{"sub", "u"}}, MintOptions{.alg = "ES256"}));

  const core::Status rsa_status =
      VerifySignature(KeyOf(*issuer_, "rsa-1"), "RS256", rsa.signing_input, rsa.signature);
  const core::Status ec_status =
      VerifySignature(KeyOf(*issuer_, "ec-1"), "ES256", ec.signing_input, ec.signature);

  ASSERT_FALSE(rsa_status.ok());
  EXPECT_EQ(rsa_status.error().code, core::ErrorCode::kUnauthenticated);
  EXPECT_EQ(rsa_status.error().message, "signature invalid");
  ASSERT_FALSE(ec_status.ok());
  EXPECT_EQ(ec_status.error().message, "signature invalid");
}

TEST_F(JwsTest, RejectsTamperedSigningInput) {
  const SplitToken token = Split(issuer_->Mint({{"sub", "u"}}));
  std::string tampered = token.signing_input;
  tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == 'A' ? 'B' : 'A';

  const core::Status status =
      VerifySignature(KeyOf(*issuer_, "rsa-1"), "RS256", tampered, token.signature);

  EXPECT_FALSE(status.ok());
}

TEST_F(JwsTest, RejectsAlgorithmThatDoesNotMatchKeyType) {
  const SplitToken es = Split(issuer_->Mint({{"sub", "u"}}, MintOptions{.alg = "ES256"}));
  const SplitToken rs = Split(issuer_->Mint({{"sub", "u"}}));

  const core::Status es_with_rsa =
      VerifySignature(KeyOf(*issuer_, "rsa-1"), "ES256", es.signing_input, es.signature);
  const core::Status rs_with_ec =
      VerifySignature(KeyOf(*issuer_, "ec-1"), "RS256", rs.signing_input, rs.signature);

  ASSERT_FALSE(es_with_rsa.ok());
  EXPECT_EQ(es_with_rsa.error().message, "algorithm does not match key type");
  ASSERT_FALSE(rs_with_ec.ok());
  EXPECT_EQ(rs_with_ec.error().message, "algorithm does not match key type");
}

TEST_F(JwsTest, RejectsEveryOtherAlgorithm) {
  const SplitToken token = Split(issuer_->Mint({{"sub", "u"}}));
  const PublicKey key = KeyOf(*issuer_, "rsa-1");

  for (const char* alg : {"none", "HS256", "RS384", "RS512", "PS256", "rs256", "", "ES256K"}) {
    const core::Status status = VerifySignature(key, alg, token.signing_input, token.signature);
    ASSERT_FALSE(status.ok()) << alg;
    EXPECT_EQ(status.error().message, "unsupported algorithm") << alg;
  }
}

TEST_F(JwsTest, RejectsEs256SignatureOfWrongSize) {
  const SplitToken token = Split(issuer_->Mint({{"sub", "u"}}, MintOptions{.alg = "ES256"}));
  const PublicKey key = KeyOf(*issuer_, "ec-1");

  EXPECT_FALSE(VerifySignature(key, "ES256", token.signing_input, token.signature + "x").ok());
  EXPECT_FALSE(VerifySignature(key, "ES256", token.signing_input, token.signature.substr(1)).ok());
  EXPECT_FALSE(VerifySignature(key, "ES256", token.signing_input, "").ok());
}

TEST(PublicKeyFromJwk, RejectsUnsupportedKeyTypes) {
  EXPECT_FALSE(PublicKey::FromJwk(Jwk{.kty = "oct"}).ok());
  EXPECT_FALSE(PublicKey::FromJwk(Jwk{.kty = "OKP", .crv = "Ed25519", .x = "AAAA"}).ok());
  EXPECT_FALSE(PublicKey::FromJwk(Jwk{}).ok());
}

TEST(PublicKeyFromJwk, RejectsShortRsaModulus) {
  std::string modulus(128, '\xff');  // 1024 bits

  const auto key =
      PublicKey::FromJwk(Jwk{.kty = "RSA", .n = Base64UrlEncode(modulus), .e = "AQAB"});

  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(key.error().message, "RSA key shorter than 2048 bits");
}

TEST(PublicKeyFromJwk, RejectsModulusPaddedWithZeroesToLookLong) {
  const std::string modulus = std::string(128, '\0') + std::string(128, '\xff');

  const auto key =
      PublicKey::FromJwk(Jwk{.kty = "RSA", .n = Base64UrlEncode(modulus), .e = "AQAB"});

  EXPECT_FALSE(key.ok());
}

TEST(PublicKeyFromJwk, RejectsBadRsaExponentAndEncoding) {
  const std::string n = Base64UrlEncode(std::string(256, '\xff'));

  EXPECT_TRUE(PublicKey::FromJwk(Jwk{.kty = "RSA", .n = n, .e = "AQAB"}).ok());
  EXPECT_FALSE(PublicKey::FromJwk(Jwk{.kty = "RSA", .n = n, .e = "AQAA"}).ok());  // even
  EXPECT_FALSE(PublicKey::FromJwk(Jwk{.kty = "RSA", .n = n, .e = "AQ"}).ok());    // 1
  EXPECT_FALSE(PublicKey::FromJwk(Jwk{.kty = "RSA", .n = n, .e = ""}).ok());
  EXPECT_FALSE(PublicKey::FromJwk(Jwk{.kty = "RSA", .n = n + "!", .e = "AQAB"}).ok());
}

TEST(PublicKeyFromJwk, RejectsEcPointOffTheCurve) {
  const std::string one = Base64UrlEncode(std::string(31, '\0') + "\x01");

  const auto key = PublicKey::FromJwk(Jwk{.kty = "EC", .crv = "P-256", .x = one, .y = one});

  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, core::ErrorCode::kInvalidArgument);
}

TEST_F(JwsTest, RejectsOtherCurvesAndShortCoordinates) {
  Jwk jwk = ParseJwks(issuer_->JwksJson()).at("ec-1");
  Jwk other_curve = jwk;
  other_curve.crv = "P-384";
  Jwk short_x = jwk;
  short_x.x = Base64UrlEncode(Base64UrlDecode(jwk.x)->substr(1));

  EXPECT_TRUE(PublicKey::FromJwk(jwk).ok());
  EXPECT_FALSE(PublicKey::FromJwk(other_curve).ok());
  EXPECT_FALSE(PublicKey::FromJwk(short_x).ok());
}

TEST_F(JwsTest, KeysAreSharedAcrossCopies) {
  const PublicKey key = KeyOf(*issuer_, "rsa-1");
  // The copy is what this test is about.
  const PublicKey copy = key;  // NOLINT(performance-unnecessary-copy-initialization)
  const SplitToken token = Split(issuer_->Mint({{"sub", "u"}}));

  EXPECT_TRUE(VerifySignature(copy, "RS256", token.signing_input, token.signature).ok());
}

}  // namespace
}  // namespace keybridge::crypto
