#include "identity/api_token_authenticator.h"

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

core::Secret GenerateBearerToken(std::string_view prefix, core::Random& random) {
  return core::Secret(std::string(prefix)
                      + crypto::Base64UrlEncode(random.Bytes(kTokenEntropyBytes)));
}

std::string HashBearerToken(std::string_view token) {
  return crypto::Sha256Hex(token);
}

core::Secret GenerateApiToken(core::Random& random) {
  return GenerateBearerToken(kApiTokenPrefix, random);
}

std::string HashApiToken(std::string_view token) {
  return HashBearerToken(token);
}

ApiTokenAuthenticator::ApiTokenAuthenticator(core::ApiTokenRepository& tokens,
                                             const core::Clock& clock)
    : tokens_(tokens), clock_(clock) {}

core::Result<core::Caller> ApiTokenAuthenticator::Authenticate(std::string_view token) {
  if (token.size() > kMaxTokenSize || token.substr(0, kApiTokenPrefix.size()) != kApiTokenPrefix) {
    return Reject("unknown token");
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(const core::ApiToken stored, CheckHash(HashApiToken(token)));
  core::Caller caller;
  caller.user_id = stored.user_id;
  caller.is_admin = stored.is_admin;
  caller.credential = "api-token";
  return caller;
}

core::Result<core::ApiToken> ApiTokenAuthenticator::CheckHash(std::string_view hash) {
  auto found = tokens_.FindByHash(std::string(hash));
  if (!found.ok()) {
    if (found.error().code == core::ErrorCode::kNotFound) {
      return Reject("unknown token");
    }
    return std::move(found).TakeError();
  }
  core::ApiToken& stored = *found;
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
  if (stored.user_id.empty()) {
    return Reject("unknown token");
  }
  return std::move(stored);
}

SessionTokenAuthenticator::SessionTokenAuthenticator(core::SessionTokenRepository& tokens,
                                                     const core::Clock& clock)
    : tokens_(tokens), clock_(clock) {}

core::Result<core::Caller> SessionTokenAuthenticator::Authenticate(std::string_view token) {
  if (token.size() > kMaxTokenSize
      || token.substr(0, kSessionTokenPrefix.size()) != kSessionTokenPrefix) {
    return Reject("unknown session token");
  }
  return AuthenticateHash(HashBearerToken(token));
}

core::Result<core::Caller> SessionTokenAuthenticator::AuthenticateHash(std::string_view hash) {
  auto found = tokens_.FindByHash(std::string(hash));
  if (!found.ok()) {
    if (found.error().code == core::ErrorCode::kNotFound) {
      return Reject("unknown session token");
    }
    return std::move(found).TakeError();
  }
  core::SessionToken& stored = *found;
  // As for API tokens: never trust the lookup to have compared the whole hash.
  if (!crypto::ConstantTimeEquals(stored.token_hash, hash) || stored.user_id.empty()) {
    return Reject("unknown session token");
  }
  if (stored.revoked_at) {
    return Reject("session token revoked");
  }
  if (clock_.Now() >= stored.expires_at) {
    return Reject("session token expired");
  }
  // Never an administrator, whoever minted it: a session only reads tokens within its scope.
  core::Caller caller = core::Caller::User(std::move(stored.user_id));
  caller.session_scope = core::SessionScope{std::move(stored.id),
                                            std::move(stored.session_name),
                                            std::move(stored.connection_ids),
                                            std::move(stored.repository_urls),
                                            std::move(stored.image_repositories),
                                            std::move(stored.token_hash),
                                            stored.expires_at};
  return caller;
}

}  // namespace keybridge::identity
