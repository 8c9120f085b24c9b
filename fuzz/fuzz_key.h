// The public half of a throwaway RSA-2048 key (its private half was discarded after signing the
// seed tokens in fuzz/corpus/jwt and fuzz/corpus/jws): the issuer key of the JWT, JWKS and JWS
// harnesses, which check keybridge's verification against OpenSSL's own with this key.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <string_view>

namespace keybridge::fuzz {

inline constexpr std::string_view kIssuer = "https://sso.example.org/realms/renku";
inline constexpr std::string_view kAudience = "keybridge";
inline constexpr std::string_view kKeyId = "fuzz-rsa";
// RFC 7518 §6.3.1: the modulus and exponent, base64url.
inline constexpr std::string_view kModulus =
    "wVm65_"
    "Zip29ICg3nb7Ne5s6JKgIHFLoHiBur9kqjH6FasucmSIhoAP3jXyK1pTOAVBLqGNDIE4GdEvB1CoIxNOgNmiuCTbV93fOA"
    "8J_02uKxQ3U3K5rw8P-7iMPll6ANtRRPuA58ZHHARvIo-Sf2rmKFe4ddhjuJHsYWdAO-"
    "7ZtoGhS3C2i6m799DtNCS9SAy3PmXFAD17toOx2ju0ArtiJr9pPPqTBzBEuSVBcHrs26SxAKu3ozAJ2LIxWqd8jS0rolsT"
    "loj0mIo9p5P_vA4ifxQeXv97PPplYQ8lqiu0bOUpJxAwZysjIaX71B_RZNootTWq30zIY4929VamOKOQ";
inline constexpr std::string_view kExponent = "AQAB";

inline constexpr std::string_view kPublicKeyPem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwVm65/Zip29ICg3nb7Ne\n"
    "5s6JKgIHFLoHiBur9kqjH6FasucmSIhoAP3jXyK1pTOAVBLqGNDIE4GdEvB1CoIx\n"
    "NOgNmiuCTbV93fOA8J/02uKxQ3U3K5rw8P+7iMPll6ANtRRPuA58ZHHARvIo+Sf2\n"
    "rmKFe4ddhjuJHsYWdAO+7ZtoGhS3C2i6m799DtNCS9SAy3PmXFAD17toOx2ju0Ar\n"
    "tiJr9pPPqTBzBEuSVBcHrs26SxAKu3ozAJ2LIxWqd8jS0rolsTloj0mIo9p5P/vA\n"
    "4ifxQeXv97PPplYQ8lqiu0bOUpJxAwZysjIaX71B/RZNootTWq30zIY4929VamOK\n"
    "OQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

// OpenSSL's own RS256 check (RSASSA-PKCS1-v1_5 with SHA-256) of `signature` over `input`.
inline bool OpenSslVerifiesRs256(std::string_view input, std::string_view signature) {
  static EVP_PKEY* const key = [] {
    BIO* bio = BIO_new_mem_buf(kPublicKeyPem.data(), static_cast<int>(kPublicKeyPem.size()));
    EVP_PKEY* parsed = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    return parsed;
  }();
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                  EVP_MD_CTX_free);
  if (key == nullptr || !context
      || EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
    return false;
  }
  // NOLINTBEGIN(cppcoreguidelines-pro-type-reinterpret-cast): OpenSSL takes bytes
  return EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                          input.size())
         == 1;
  // NOLINTEND(cppcoreguidelines-pro-type-reinterpret-cast)
}

}  // namespace keybridge::fuzz
