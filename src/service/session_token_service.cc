#include "service/session_token_service.h"

#include <algorithm>
#include <utility>

#include "core/url.h"
#include "crypto/hash.h"
#include "identity/local_token.h"
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
  if (caller.IsSession()) {
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

void Deduplicate(std::vector<std::string>& items) {
  std::vector<std::string> unique;
  for (std::string& item : items) {
    if (std::find(unique.begin(), unique.end(), item) == unique.end()) {
      unique.push_back(std::move(item));
    }
  }
  items = std::move(unique);
}

core::Status CheckRepositoryUrl(const std::string& url) {
  if (url.size() > core::kMaxUrlLength) {
    return Invalid("repository_urls entries must be at most " + std::to_string(core::kMaxUrlLength)
                   + " characters");
  }
  auto parsed = core::ParseUrl(url);
  if (!parsed.ok() || (parsed->scheme != "https" && parsed->scheme != "http")) {
    return Invalid("repository_urls entry " + Quoted(url)
                   + " is not an http(s) repository URL (e.g. https://gitlab.example.org/group/"
                     "project.git)");
  }
  if (!parsed->userinfo.empty() || parsed->has_query || parsed->has_fragment) {
    return Invalid("repository_urls entry " + Quoted(url)
                   + " must not contain credentials, a query or a fragment");
  }
  return core::OkStatus();
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
                                         core::ConnectionRepository& connections,
                                         TokenService& token_service, core::Random& random,
                                         const core::Clock& clock,
                                         SessionTokenServiceOptions options)
    : tokens_(tokens),
      connections_(connections),
      token_service_(token_service),
      random_(random),
      clock_(clock),
      options_(options) {}

core::Status SessionTokenService::CheckScope(const core::Caller& caller,
                                             SessionTokenRequest& request) {
  Deduplicate(request.connection_ids);
  Deduplicate(request.repository_urls);
  if (request.connection_ids.empty() && request.repository_urls.empty()) {
    // Default deny: a token without a scope could obtain nothing, so it is a mistake.
    return Invalid(
        "give connection_ids or repository_urls: a session token may only obtain tokens for the "
        "connections and repositories it is scoped to");
  }
  if (request.connection_ids.size() > core::kMaxSessionScopeEntries
      || request.repository_urls.size() > core::kMaxSessionScopeEntries) {
    return Invalid("connection_ids and repository_urls may have at most "
                   + std::to_string(core::kMaxSessionScopeEntries) + " entries each");
  }
  for (const std::string& id : request.connection_ids) {
    auto found = connections_.Find(id);
    if (!found.ok() && found.error().code != ErrorCode::kNotFound) {
      return std::move(found).TakeError();
    }
    // Someone else's connection reads exactly like an absent one.
    if (!found.ok() || found->user_id != caller.user_id) {
      return Invalid("connection_ids entry " + Quoted(id) + " is not one of your connections");
    }
  }
  for (const std::string& url : request.repository_urls) {
    KEYBRIDGE_RETURN_IF_ERROR(CheckRepositoryUrl(url));
    KEYBRIDGE_ASSIGN_OR_RETURN(std::optional<core::Provider> serving,
                               token_service_.ProviderServing(url));
    if (!serving) {
      return Invalid("repository_urls entry " + Quoted(url) + " is not served by any integration");
    }
  }
  return core::OkStatus();
}

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
  KEYBRIDGE_RETURN_IF_ERROR(CheckScope(caller, scoped));

  IssuedSessionToken issued;
  issued.token = identity::GenerateBearerToken(identity::kSessionTokenPrefix, random_);
  issued.record.id = "st_" + crypto::HexEncode(random_.Bytes(kIdRandomBytes));
  issued.record.user_id = caller.user_id;
  issued.record.session_name = std::move(name);
  issued.record.token_hash = identity::HashBearerToken(issued.token.Reveal());
  issued.record.connection_ids = std::move(scoped.connection_ids);
  issued.record.repository_urls = std::move(scoped.repository_urls);
  // Whole seconds, as stored, so the response and later reads agree.
  issued.record.created_at = core::FromUnixSeconds(core::ToUnixSeconds(clock_.Now()));
  issued.record.expires_at = issued.record.created_at + ttl;
  KEYBRIDGE_RETURN_IF_ERROR(tokens_.Insert(issued.record));
  return issued;
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
  return core::OkStatus();
}

}  // namespace keybridge::service
