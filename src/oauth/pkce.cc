#include "oauth/pkce.h"

#include <algorithm>
#include <string>
#include <utility>

#include "crypto/base64.h"
#include "crypto/hash.h"

namespace keybridge::oauth {
namespace {

// 32 bytes give a 43-character verifier, the RFC 7636 §4.1 minimum length and 256 bits of
// entropy. Renku used standard base64 of 48 bytes, whose '+' and '/' the RFC does not allow.
constexpr std::size_t kRandomBytes = 32;

}  // namespace

Pkce MakePkce(core::Random& random) {
  std::string verifier = crypto::Base64UrlEncode(random.Bytes(kRandomBytes));
  std::string challenge = ChallengeFor(verifier);
  return Pkce{core::Secret(std::move(verifier)), std::move(challenge)};
}

std::string ChallengeFor(std::string_view verifier) {
  return crypto::Base64UrlEncode(crypto::Sha256(verifier));
}

bool IsValidVerifier(std::string_view verifier) {
  if (verifier.size() < 43 || verifier.size() > 128) {
    return false;
  }
  return std::all_of(verifier.begin(), verifier.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
           || c == '.' || c == '_' || c == '~';
  });
}

core::Secret MakeState(core::Random& random) {
  return core::Secret(crypto::Base64UrlEncode(random.Bytes(kRandomBytes)));
}

}  // namespace keybridge::oauth
