// TestJwtIssuer: an in-process OpenID issuer for tests. It owns real RSA-2048 and EC P-256 keys,
// renders the discovery document and JWKS that a ScriptedHttpClient can serve, and mints tokens,
// including the hostile ones (alg "none", HS256 keyed with the public key) verifiers must reject.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct evp_pkey_st;

namespace keybridge::testing {

struct MintOptions {
  // "RS256" signs with the current RSA key, "ES256" with the EC key, "HS256" as
  // hs256_with_public_key. Any other value is written to the header as is and the token is signed
  // with RS256 (to probe a verifier's allow-list).
  std::string alg = "RS256";
  // Header kid; defaults to the kid of the key that signs (the RSA kid for HS256 and none).
  std::optional<std::string> kid{};
  // alg "HS256", HMAC keyed with the RSA public key's PEM (the classic key-confusion attack).
  bool hs256_with_public_key = false;
  // alg "none" and an empty signature.
  bool alg_none = false;
};

class TestJwtIssuer {
 public:
  explicit TestJwtIssuer(std::string issuer_url);
  ~TestJwtIssuer();
  TestJwtIssuer(const TestJwtIssuer&) = delete;
  TestJwtIssuer& operator=(const TestJwtIssuer&) = delete;

  const std::string& issuer_url() const { return issuer_url_; }
  // Conventional URLs under the issuer (Keycloak layout), for scripting an HttpClient.
  std::string DiscoveryUrl() const;
  std::string JwksUrl() const;

  std::string DiscoveryJson(std::string jwks_uri) const;
  // Both public keys: RSA (kid "rsa-1" until RotateKeys) and EC P-256 (kid "ec-1").
  std::string JwksJson() const;
  // Replaces the RSA key with a fresh one under a new kid ("rsa-2", "rsa-3", ...); the old one
  // leaves the JWKS.
  void RotateKeys();
  std::string RsaKid() const { return rsa_kid_; }
  std::string EcKid() const { return ec_kid_; }
  // PEM (SubjectPublicKeyInfo) of the current RSA public key.
  std::string RsaPublicKeyPem() const;

  std::string Mint(const nlohmann::json& claims, const MintOptions& opts = {}) const;
  // iss, sub, aud "renku", iat, exp (now + 5 min), email, name, realm_access.roles.
  nlohmann::json DefaultClaims(std::string sub, std::vector<std::string> roles,
                               std::chrono::system_clock::time_point now) const;

 private:
  struct KeyDeleter {
    void operator()(evp_pkey_st* key) const;
  };
  using Key = std::unique_ptr<evp_pkey_st, KeyDeleter>;

  std::string issuer_url_;
  Key rsa_;
  Key ec_;
  std::string rsa_kid_ = "rsa-1";
  std::string ec_kid_ = "ec-1";
  int rotations_ = 0;
};

// base64url without padding (independent of crypto/ on purpose, so tests cross-check it).
std::string TestBase64Url(std::string_view bytes);

}  // namespace keybridge::testing
