#include "crypto/jws.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <optional>

#include "crypto/base64.h"

namespace keybridge::crypto {
namespace {

constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;
constexpr std::size_t kMaxRsaExponentBytes = 4;
constexpr std::size_t kP256CoordinateSize = 32;

struct BnDeleter {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
struct ParamBldDeleter {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};
using Bn = std::unique_ptr<BIGNUM, BnDeleter>;
using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter>;
using Params = std::unique_ptr<OSSL_PARAM, ParamDeleter>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
using EcdsaSig = std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

core::Error InvalidKey(std::string message) {
  ERR_clear_error();
  return core::MakeError(core::ErrorCode::kInvalidArgument, std::move(message));
}

core::Error Rejected(std::string message) {
  ERR_clear_error();
  return core::MakeError(core::ErrorCode::kUnauthenticated, std::move(message));
}

Bn ToBignum(std::string_view big_endian) {
  return Bn(BN_bin2bn(Bytes(big_endian), static_cast<int>(big_endian.size()), nullptr));
}

std::string_view StripLeadingZeros(std::string_view bytes) {
  while (!bytes.empty() && bytes.front() == '\0') {
    bytes.remove_prefix(1);
  }
  return bytes;
}

// Builds an EVP_PKEY of `type_name` from OpenSSL 3 parameters (EVP_PKEY_fromdata).
EVP_PKEY* FromData(const char* type_name, OSSL_PARAM_BLD* builder) {
  Params params(OSSL_PARAM_BLD_to_param(builder));
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type_name, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1
      || EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return key;
}

core::Result<std::shared_ptr<evp_pkey_st>> RsaFromJwk(const Jwk& jwk) {
  const auto n = Base64UrlDecode(jwk.n);
  const auto e = Base64UrlDecode(jwk.e);
  if (!n || !e) {
    return InvalidKey("RSA key members are not base64url");
  }
  const std::string_view modulus = StripLeadingZeros(*n);
  const std::string_view exponent = StripLeadingZeros(*e);
  if (modulus.size() * 8 < static_cast<std::size_t>(kMinRsaBits)) {
    return InvalidKey("RSA key shorter than 2048 bits");
  }
  if (modulus.size() * 8 > static_cast<std::size_t>(kMaxRsaBits)) {
    return InvalidKey("RSA key longer than 8192 bits");
  }
  // Real exponents are 65537 (sometimes 3); a huge or even one is malformed or hostile.
  if (exponent.empty() || exponent.size() > kMaxRsaExponentBytes
      || (static_cast<unsigned char>(exponent.back()) & 1U) == 0
      || (exponent.size() == 1 && static_cast<unsigned char>(exponent[0]) < 3)) {
    return InvalidKey("RSA public exponent is not acceptable");
  }
  Bn bn_n = ToBignum(modulus);
  Bn bn_e = ToBignum(exponent);
  ParamBld builder(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !builder
      || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1
      || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return InvalidKey("RSA key cannot be built");
  }
  std::shared_ptr<evp_pkey_st> key(FromData("RSA", builder.get()), EVP_PKEY_free);
  if (!key) {
    return InvalidKey("RSA key cannot be built");
  }
  // Counts the significant bits (a modulus with a small top byte is under 8 * size).
  if (EVP_PKEY_get_bits(key.get()) < kMinRsaBits) {
    return InvalidKey("RSA key shorter than 2048 bits");
  }
  return key;
}

core::Result<std::shared_ptr<evp_pkey_st>> EcFromJwk(const Jwk& jwk) {
  if (jwk.crv != "P-256") {
    return InvalidKey("unsupported EC curve");
  }
  const auto x = Base64UrlDecode(jwk.x);
  const auto y = Base64UrlDecode(jwk.y);
  // RFC 7518 §6.2.1.2: coordinates are exactly the field size, leading zeros kept.
  if (!x || !y || x->size() != kP256CoordinateSize || y->size() != kP256CoordinateSize) {
    return InvalidKey("EC key coordinates are malformed");
  }
  // SEC 1 uncompressed point: 0x04 | x | y.
  std::string point = "\x04" + *x + *y;
  ParamBld builder(OSSL_PARAM_BLD_new());
  if (!builder
      || OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) != 1
      || OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                          point.size())
             != 1) {
    return InvalidKey("EC key cannot be built");
  }
  std::shared_ptr<evp_pkey_st> key(FromData("EC", builder.get()), EVP_PKEY_free);
  if (!key) {
    return InvalidKey("EC point is not on P-256");
  }
  // Import decodes the point; the explicit check also rejects the point at infinity and any
  // point outside the prime-order group (invalid-curve attacks).
  PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return InvalidKey("EC point is not on P-256");
  }
  return key;
}

// JOSE carries ECDSA signatures as fixed-size r || s; OpenSSL wants DER (SEQUENCE of INTEGERs).
std::optional<std::string> JoseToDer(std::string_view signature) {
  if (signature.size() != 2 * kP256CoordinateSize) {
    return std::nullopt;
  }
  EcdsaSig sig(ECDSA_SIG_new());
  Bn r = ToBignum(signature.substr(0, kP256CoordinateSize));
  Bn s = ToBignum(signature.substr(kP256CoordinateSize));
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return std::nullopt;
  }
  // ECDSA_SIG_set0 took ownership.
  static_cast<void>(r.release());
  static_cast<void>(s.release());
  const int length = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (length <= 0) {
    return std::nullopt;
  }
  std::string der(static_cast<std::size_t>(length), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != length) {
    return std::nullopt;
  }
  return der;
}

}  // namespace

core::Result<PublicKey> PublicKey::FromJwk(const Jwk& jwk) {
  if (jwk.kty == "RSA") {
    KEYBRIDGE_ASSIGN_OR_RETURN(auto key, RsaFromJwk(jwk));
    return PublicKey(Type::kRsa, std::move(key));
  }
  if (jwk.kty == "EC") {
    KEYBRIDGE_ASSIGN_OR_RETURN(auto key, EcFromJwk(jwk));
    return PublicKey(Type::kEcP256, std::move(key));
  }
  return InvalidKey("unsupported key type");
}

int PublicKey::bits() const {
  return EVP_PKEY_get_bits(key_.get());
}

core::Status VerifySignature(const PublicKey& key, std::string_view alg,
                             std::string_view signing_input, std::string_view signature) {
  PublicKey::Type required = PublicKey::Type::kRsa;
  if (alg == "RS256") {
    required = PublicKey::Type::kRsa;
  } else if (alg == "ES256") {
    required = PublicKey::Type::kEcP256;
  } else {
    return Rejected("unsupported algorithm");
  }
  // The algorithm comes from the (attacker-controlled) token header; the key type comes from the
  // issuer's JWKS. Both must agree, so a header can never pick how a key is used.
  if (key.type() != required) {
    return Rejected("algorithm does not match key type");
  }
  std::string der;
  std::string_view wire_signature = signature;
  if (required == PublicKey::Type::kEcP256) {
    auto converted = JoseToDer(signature);
    if (!converted) {
      return Rejected("signature invalid");
    }
    der = std::move(*converted);
    wire_signature = der;
  }
  MdCtx ctx(EVP_MD_CTX_new());
  const bool valid =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.key_.get()) == 1
      && EVP_DigestVerify(ctx.get(), Bytes(wire_signature), wire_signature.size(),
                          Bytes(signing_input), signing_input.size())
             == 1;
  if (!valid) {
    return Rejected("signature invalid");
  }
  return core::OkStatus();
}

}  // namespace keybridge::crypto
