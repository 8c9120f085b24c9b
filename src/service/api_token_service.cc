#include "service/api_token_service.h"

#include "crypto/hash.h"
#include "identity/api_token_authenticator.h"

namespace keybridge::service {

ApiTokenService::ApiTokenService(core::ApiTokenRepository& tokens, core::Random& random,
                                 const core::Clock& clock)
    : tokens_(tokens), random_(random), clock_(clock) {}

core::Result<IssuedApiToken> ApiTokenService::Create(const core::UserId& user_id, bool is_admin,
                                                     const std::string& name,
                                                     std::optional<core::Seconds> ttl) {
  if (user_id.empty()) {
    return core::MakeError(core::ErrorCode::kInvalidArgument, "--user must not be empty");
  }
  if (ttl && ttl->count() <= 0) {
    return core::MakeError(core::ErrorCode::kInvalidArgument, "--ttl must be positive");
  }
  IssuedApiToken issued;
  issued.token = identity::GenerateApiToken(random_);
  issued.record.id = "tok_" + crypto::HexEncode(random_.Bytes(6));
  issued.record.user_id = user_id;
  issued.record.name = name;
  issued.record.is_admin = is_admin;
  issued.record.token_hash = identity::HashApiToken(issued.token.Reveal());
  issued.record.created_at = clock_.Now();
  if (ttl) {
    issued.record.expires_at = issued.record.created_at + *ttl;
  }
  KEYBRIDGE_RETURN_IF_ERROR(tokens_.Insert(issued.record));
  return issued;
}

core::Result<std::vector<core::ApiToken>> ApiTokenService::List() {
  return tokens_.List();
}

core::Status ApiTokenService::Revoke(const std::string& id) {
  KEYBRIDGE_ASSIGN_OR_RETURN(bool found, tokens_.Revoke(id, clock_.Now()));
  if (!found) {
    return core::MakeError(core::ErrorCode::kNotFound, "no token with id '" + id + "'");
  }
  return core::OkStatus();
}

core::Result<ApiTokenRevocation> ApiTokenService::RevokeAndSignOut(
    const std::string& id, core::BrowserSessionRepository& sessions) {
  ApiTokenRevocation revocation;
  // Whose token it is, looked up before revoking (a failed listing only skips the sign-out).
  if (auto all = tokens_.List(); all.ok()) {
    for (const auto& token : *all) {
      if (token.id == id) {
        revocation.user_id = token.user_id;
      }
    }
  }
  KEYBRIDGE_RETURN_IF_ERROR(Revoke(id));
  if (!revocation.user_id.empty()) {
    auto ended = sessions.DeleteForUser(revocation.user_id);
    if (ended.ok()) {
      revocation.browser_sessions_ended = *ended;
    } else {
      revocation.sign_out_error = ended.error();
    }
  }
  return revocation;
}

}  // namespace keybridge::service
