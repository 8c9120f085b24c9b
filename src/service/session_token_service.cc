#include "service/session_token_service.h"

#include <algorithm>
#include <utility>

#include "crypto/hash.h"
#include "identity/api_token_authenticator.h"
#include "service/provider_service.h"

namespace keybridge::service {
namespace {

using core::ErrorCode;
using core::MakeError;

constexpr std::size_t kIdRandomBytes = 6;

core::Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

core::Status RequireUserNotSession(const core::Caller& caller) {
  KEYBRIDGE_RETURN_IF_ERROR(RequireUser(caller));
  if (caller.IsSessionToken()) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "Session tokens can only obtain tokens; they cannot manage session tokens.");
  }
  return core::OkStatus();
}

// Input echoed in an error message: bounded, so a huge value does not become a huge response.
std::string Quoted(const std::string& value) {
  constexpr std::size_t kMaxEcho = 80;
  return "'" + value.substr(0, kMaxEcho) + (value.size() > kMaxEcho ? "...'" : "'");
}

std::string Trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) {
    return "";
  }
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// Session names land in audit log lines: no control characters (no forged lines).
core::Result<std::string> CheckSessionName(const std::string& raw) {
  std::string name = Trimmed(raw);
  if (name.empty()) {
    return Invalid("session_name must not be empty");
  }
  if (name.size() > core::kMaxSessionNameLength) {
    return Invalid("session_name must be at most " + std::to_string(core::kMaxSessionNameLength)
                   + " bytes");
  }
  if (std::any_of(name.begin(), name.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == '\x7f'; })) {
    return Invalid("session_name must not contain control characters");
  }
  return name;
}

}  // namespace

std::string_view ToString(SessionTokenState state) {
  switch (state) {
    case SessionTokenState::kActive:
      return "active";
    case SessionTokenState::kExpired:
      return "expired";
    case SessionTokenState::kRevoked:
      return "revoked";
  }
  return "revoked";
}

bool IsSessionTokenId(std::string_view id) {
  constexpr std::string_view kPrefix = "st_";
  return id.size() == kPrefix.size() + 2 * kIdRandomBytes && id.substr(0, kPrefix.size()) == kPrefix
         && std::all_of(id.begin() + kPrefix.size(), id.end(),
                        [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

SessionTokenService::SessionTokenService(core::SessionTokenRepository& tokens,
                                         SessionScopePolicy& scope, core::Random& random,
                                         const core::Clock& clock,
                                         SessionTokenServiceOptions options)
    : tokens_(tokens), scope_(scope), random_(random), clock_(clock), options_(options) {}

core::Result<IssuedSessionToken> SessionTokenService::Create(const core::Caller& caller,
                                                             const SessionTokenRequest& request) {
  KEYBRIDGE_RETURN_IF_ERROR(RequireUserNotSession(caller));
  KEYBRIDGE_ASSIGN_OR_RETURN(std::string name, CheckSessionName(request.session_name));
  const core::Seconds ttl = request.ttl.value_or(std::min(options_.default_ttl, options_.max_ttl));
  if (ttl < options_.min_ttl || ttl > options_.max_ttl) {
    return Invalid("ttl_seconds must be between " + std::to_string(options_.min_ttl.count())
                   + " and " + std::to_string(options_.max_ttl.count()));
  }
  SessionTokenRequest scoped = request;
  KEYBRIDGE_RETURN_IF_ERROR(scope_.CheckRequest(caller, scoped.connection_ids,
                                                scoped.repository_urls, scoped.image_repositories));

  IssuedSessionToken issued;
  issued.token = identity::GenerateBearerToken(identity::kSessionTokenPrefix, random_);
  issued.record.id = "st_" + crypto::HexEncode(random_.Bytes(kIdRandomBytes));
  issued.record.user_id = caller.user_id;
  issued.record.session_name = std::move(name);
  issued.record.token_hash = identity::HashBearerToken(issued.token.Reveal());
  issued.record.connection_ids = std::move(scoped.connection_ids);
  issued.record.repository_urls = std::move(scoped.repository_urls);
  issued.record.image_repositories = std::move(scoped.image_repositories);
  // Whole seconds, as stored, so the response and later reads agree.
  issued.record.created_at = core::FromUnixSeconds(core::ToUnixSeconds(clock_.Now()));
  issued.record.expires_at = issued.record.created_at + ttl;
  KEYBRIDGE_RETURN_IF_ERROR(tokens_.Insert(issued.record));
  Audit(core::AuditKind::kSessionTokenCreated, caller, issued.record.id);
  return issued;
}

void SessionTokenService::Audit(core::AuditKind kind, const core::Caller& caller,
                                const std::string& id) {
  if (audit_ == nullptr) {
    return;
  }
  core::AuditEvent event;
  event.kind = kind;
  event.actor = caller.user_id;
  event.caller_kind = std::string(core::AuditCallerKind(caller));
  event.session_token_id = id;  // the token created or revoked (its public id, never the token)
  audit_->Record(std::move(event));
}

core::Result<std::vector<ListedSessionToken>> SessionTokenService::List(
    const core::Caller& caller) {
  KEYBRIDGE_RETURN_IF_ERROR(RequireUserNotSession(caller));
  KEYBRIDGE_ASSIGN_OR_RETURN(std::vector<core::SessionToken> tokens,
                             tokens_.ListForUser(caller.user_id));
  const core::TimePoint now = clock_.Now();
  std::vector<ListedSessionToken> listed;
  listed.reserve(tokens.size());
  for (core::SessionToken& token : tokens) {
    const SessionTokenState state = token.revoked_at          ? SessionTokenState::kRevoked
                                    : now >= token.expires_at ? SessionTokenState::kExpired
                                                              : SessionTokenState::kActive;
    listed.push_back(ListedSessionToken{std::move(token), state});
  }
  return listed;
}

core::Status SessionTokenService::Revoke(const core::Caller& caller, const std::string& id) {
  KEYBRIDGE_RETURN_IF_ERROR(RequireUserNotSession(caller));
  KEYBRIDGE_ASSIGN_OR_RETURN(bool found, tokens_.Revoke(id, caller.user_id, clock_.Now()));
  if (!found) {
    return MakeError(ErrorCode::kNotFound, "You have no session token with id " + Quoted(id) + ".");
  }
  Audit(core::AuditKind::kSessionTokenRevoked, caller, id);
  return core::OkStatus();
}

}  // namespace keybridge::service
