#include "identity/local_token.h"

#include "crypto/base64.h"
#include "crypto/hash.h"

namespace keybridge::identity {
namespace {

constexpr std::size_t kTokenEntropyBytes = 32;
// Generated tokens are 46 characters; anything much longer is not ours and is not worth hashing.
constexpr std::size_t kMaxTokenSize = 256;

core::Error Reject(std::string reason) {
  return core::MakeError(core::ErrorCode::kUnauthenticated, std::move(reason));
}

}  // namespace

core::Secret GenerateLocalToken(core::Random& random) {
  return core::Secret(std::string(kLocalTokenPrefix)
                      + crypto::Base64UrlEncode(random.Bytes(kTokenEntropyBytes)));
}

std::string HashLocalToken(std::string_view token) {
  return crypto::Sha256Hex(token);
}

LocalTokenAuthenticator::LocalTokenAuthenticator(core::ApiTokenRepository& tokens,
                                                 const core::Clock& clock)
    : tokens_(tokens), clock_(clock) {}

core::Result<core::Caller> LocalTokenAuthenticator::Authenticate(std::string_view token) {
  if (token.size() > kMaxTokenSize
      || token.substr(0, kLocalTokenPrefix.size()) != kLocalTokenPrefix) {
    return Reject("unknown token");
  }
  const std::string hash = HashLocalToken(token);
  auto found = tokens_.FindByHash(hash);
  if (!found.ok()) {
    if (found.error().code == core::ErrorCode::kNotFound) {
      return Reject("unknown token");
    }
    return std::move(found).TakeError();
  }
  const core::ApiToken& stored = *found;
  // Defence in depth: the repository matched on the hash, but never trust a lookup (collation,
  // prefix matching) to have compared all of it.
  if (!crypto::ConstantTimeEquals(stored.token_hash, hash)) {
    return Reject("unknown token");
  }
  if (stored.revoked_at) {
    return Reject("token revoked");
  }
  if (stored.expires_at && clock_.Now() >= *stored.expires_at) {
    return Reject("token expired");
  }
  core::Caller caller;
  caller.user_id = stored.user_id;
  caller.is_admin = stored.is_admin;
  if (caller.user_id.empty()) {
    return Reject("unknown token");
  }
  return caller;
}

}  // namespace keybridge::identity
