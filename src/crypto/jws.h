// JWS signature verification (RFC 7515) for the identity module: public keys from JWKs (RFC 7517,
// RFC 7518 §6) and RS256 / ES256 signatures. There is deliberately no HMAC or "none" path: a
// token's header can never make us verify with a secret or skip verification.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header.

namespace keybridge::crypto {

// The members of a JWK that describe a public key, still base64url-encoded as in the JSON
// (identity/ parses the JSON; crypto stays JSON-free). Members a key type does not use are empty.
// Every member has an initializer so designated initializers may name only what they need.
struct Jwk {
  std::string kty{};  // "RSA" or "EC"
  std::string n{};    // RSA modulus
  std::string e{};    // RSA public exponent
  std::string crv{};  // EC curve: only "P-256"
  std::string x{};    // EC point, 32 bytes each
  std::string y{};
};

// An immutable public key. Cheap to copy (shared, reference-counted) and safe to use from several
// threads at once.
class PublicKey {
 public:
  enum class Type { kRsa, kEcP256 };

  // kInvalidArgument for an unsupported kty/crv, members that are not valid base64url, an RSA
  // modulus under 2048 (or over 8192) bits, an unusual exponent, or an EC point not on P-256.
  static core::Result<PublicKey> FromJwk(const Jwk& jwk);

  Type type() const { return type_; }
  // Modulus size for RSA, 256 for P-256.
  int bits() const;

 private:
  PublicKey(Type type, std::shared_ptr<evp_pkey_st> key) : type_(type), key_(std::move(key)) {}
  friend core::Status VerifySignature(const PublicKey& key, std::string_view alg,
                                      std::string_view signing_input, std::string_view signature);

  Type type_;
  std::shared_ptr<evp_pkey_st> key_;
};

// Verifies a JWS signature over `signing_input` ("<header b64>.<payload b64>"). `alg` must be
// "RS256" (RSASSA-PKCS1-v1_5 with SHA-256, RSA key) or "ES256" (ECDSA P-256 with SHA-256, EC key,
// 64-byte r||s signature as in RFC 7518 §3.4). kUnauthenticated with a short reason
// ("unsupported algorithm", "algorithm does not match key type", "signature invalid") otherwise.
core::Status VerifySignature(const PublicKey& key, std::string_view alg,
                             std::string_view signing_input, std::string_view signature);

}  // namespace keybridge::crypto
