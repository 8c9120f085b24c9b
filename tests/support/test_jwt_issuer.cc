#include "support/test_jwt_issuer.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <stdexcept>

namespace keybridge::testing {
namespace {

void Require(bool ok, const char* what) {
  if (!ok) {
    throw std::runtime_error(std::string("TestJwtIssuer: ") + what);
  }
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

EVP_PKEY* Generate(const char* type, bool rsa) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  Require(ctx != nullptr, "EVP_PKEY_CTX_new_from_name");
  EVP_PKEY* key = nullptr;
  bool ok = EVP_PKEY_keygen_init(ctx) == 1;
  if (rsa) {
    ok = ok && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) == 1;
  } else {
    ok = ok && EVP_PKEY_CTX_set_group_name(ctx, "P-256") == 1;
  }
  ok = ok && EVP_PKEY_generate(ctx, &key) == 1;
  EVP_PKEY_CTX_free(ctx);
  Require(ok, "key generation");
  return key;
}

std::string BnParam(const EVP_PKEY* key, const char* name, int pad_to = 0) {
  BIGNUM* bn = nullptr;
  Require(EVP_PKEY_get_bn_param(key, name, &bn) == 1, "EVP_PKEY_get_bn_param");
  const int size = pad_to > 0 ? pad_to : BN_num_bytes(bn);
  std::string out(static_cast<std::size_t>(size), '\0');
  const int written = BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), size);
  BN_free(bn);
  Require(written == size, "BN_bn2binpad");
  return out;
}

std::string DigestSign(EVP_PKEY* key, std::string_view input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t length = 0;
  bool ok = ctx != nullptr && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1
            && EVP_DigestSign(ctx, nullptr, &length, Bytes(input), input.size()) == 1;
  std::string signature(length, '\0');
  ok = ok
       && EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &length,
                         Bytes(input), input.size())
              == 1;
  EVP_MD_CTX_free(ctx);
  Require(ok, "EVP_DigestSign");
  signature.resize(length);
  return signature;
}

// DER ECDSA-Sig-Value -> JOSE r || s (RFC 7518 §3.4).
std::string DerToJose(const std::string& der) {
  const auto* p = Bytes(der);
  // NOLINTNEXTLINE(google-runtime-int): OpenSSL's length type
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  Require(sig != nullptr, "d2i_ECDSA_SIG");
  std::string out(64, '\0');
  auto* raw = reinterpret_cast<unsigned char*>(out.data());
  const bool ok = BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32) == 32
                  && BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32) == 32;
  ECDSA_SIG_free(sig);
  Require(ok, "BN_bn2binpad");
  return out;
}

std::string Hs256(std::string_view key, std::string_view input) {
  std::string mac(32, '\0');
  unsigned int length = 0;
  Require(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), Bytes(input), input.size(),
               reinterpret_cast<unsigned char*>(mac.data()), &length)
              != nullptr,
          "HMAC");
  return mac;
}

}  // namespace

void TestJwtIssuer::KeyDeleter::operator()(evp_pkey_st* key) const {
  EVP_PKEY_free(key);
}

std::string TestBase64Url(std::string_view bytes) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (const char c : bytes) {
    buffer = (buffer << 8U) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> static_cast<unsigned>(bits)) & 0x3FU];
    }
  }
  if (bits > 0) {
    out += kAlphabet[(buffer << static_cast<unsigned>(6 - bits)) & 0x3FU];
  }
  return out;
}

TestJwtIssuer::TestJwtIssuer(std::string issuer_url)
    : issuer_url_(std::move(issuer_url)), rsa_(Generate("RSA", true)), ec_(Generate("EC", false)) {}

TestJwtIssuer::~TestJwtIssuer() = default;

std::string TestJwtIssuer::DiscoveryUrl() const {
  std::string base = issuer_url_;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  return base + "/.well-known/openid-configuration";
}

std::string TestJwtIssuer::JwksUrl() const {
  std::string base = issuer_url_;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  return base + "/protocol/openid-connect/certs";
}

std::string TestJwtIssuer::DiscoveryJson(std::string jwks_uri) const {
  return nlohmann::json{
      {"issuer", issuer_url_},
      {"jwks_uri", std::move(jwks_uri)},
      {"authorization_endpoint", issuer_url_ + "/protocol/openid-connect/auth"},
      {"token_endpoint", issuer_url_ + "/protocol/openid-connect/token"},
      {"id_token_signing_alg_values_supported", {"RS256", "ES256"}},
      // As Keycloak (since version 19): `iss` in every authorization response (RFC 9207).
      {"authorization_response_iss_parameter_supported", true},
  }
      .dump();
}

std::string TestJwtIssuer::JwksJson() const {
  nlohmann::json rsa = {
      {"kid", rsa_kid_},
      {"kty", "RSA"},
      {"alg", "RS256"},
      {"use", "sig"},
      {"n", TestBase64Url(BnParam(rsa_.get(), OSSL_PKEY_PARAM_RSA_N))},
      {"e", TestBase64Url(BnParam(rsa_.get(), OSSL_PKEY_PARAM_RSA_E))},
  };
  nlohmann::json ec = {
      {"kid", ec_kid_},
      {"kty", "EC"},
      {"alg", "ES256"},
      {"use", "sig"},
      {"crv", "P-256"},
      {"x", TestBase64Url(BnParam(ec_.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32))},
      {"y", TestBase64Url(BnParam(ec_.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32))},
  };
  return nlohmann::json{{"keys", {rsa, ec}}}.dump();
}

void TestJwtIssuer::RotateKeys() {
  rsa_.reset(Generate("RSA", true));
  ++rotations_;
  rsa_kid_ = "rsa-" + std::to_string(rotations_ + 1);
}

std::string TestJwtIssuer::RsaPublicKeyPem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  Require(bio != nullptr && PEM_write_bio_PUBKEY(bio, rsa_.get()) == 1, "PEM_write_bio_PUBKEY");
  std::string pem(BIO_ctrl_pending(bio), '\0');
  const int read = BIO_read(bio, pem.data(), static_cast<int>(pem.size()));
  BIO_free(bio);
  Require(read == static_cast<int>(pem.size()), "BIO_read");
  return pem;
}

std::string TestJwtIssuer::Mint(const nlohmann::json& claims, const MintOptions& opts) const {
  std::string alg = opts.alg;
  if (opts.alg_none) {
    alg = "none";
  } else if (opts.hs256_with_public_key) {
    alg = "HS256";
  }
  const bool ec = alg == "ES256";
  nlohmann::json header = {{"alg", alg}, {"typ", "JWT"}};
  header["kid"] = opts.kid.value_or(ec ? ec_kid_ : rsa_kid_);

  const std::string signing_input =
      TestBase64Url(header.dump()) + "." + TestBase64Url(claims.dump());
  std::string signature;
  if (alg == "none") {
    signature = "";
  } else if (alg == "HS256") {
    signature = Hs256(RsaPublicKeyPem(), signing_input);
  } else if (ec) {
    signature = DerToJose(DigestSign(ec_.get(), signing_input));
  } else {
    signature = DigestSign(rsa_.get(), signing_input);
  }
  return signing_input + "." + TestBase64Url(signature);
}

nlohmann::json TestJwtIssuer::DefaultClaims(std::string sub, std::vector<std::string> roles,
                                            std::chrono::system_clock::time_point now) const {
  const auto iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::string email = sub + "@example.org";
  std::string name = "Test User " + sub;
  return nlohmann::json{
      {"iss", issuer_url_},
      {"sub", std::move(sub)},
      {"aud", "renku"},
      {"azp", "renku"},
      {"iat", iat},
      {"exp", iat + 300},
      {"email", std::move(email)},
      {"name", std::move(name)},
      {"realm_access", {{"roles", std::move(roles)}}},
  };
}

}  // namespace keybridge::testing
