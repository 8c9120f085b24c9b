#include "service/browser_session_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "crypto/base64.h"
#include "crypto/hash.h"

namespace keybridge::service {
namespace {

using core::ErrorCode;
using core::MakeError;

constexpr std::size_t kSecretBytes = 32;  // 256 bits

// The id of a sign-in link's administrator. Local tokens made with `--user admin --admin` name
// the same user, so both ways in see the same connections.
constexpr const char* kLinkAdminUser = "admin";

core::Error SignInAgain(std::string message) {
  return MakeError(ErrorCode::kUnauthenticated, std::move(message));
}

}  // namespace

BrowserSessionService::BrowserSessionService(core::BrowserSessionRepository& sessions,
                                             identity::ApiTokenAuthenticator& local_tokens,
                                             core::Random& random, const core::Clock& clock,
                                             BrowserSessionOptions options)
    : sessions_(sessions),
      api_tokens_(local_tokens),
      random_(random),
      clock_(clock),
      options_(options) {}

std::string BrowserSessionService::CsrfToken(std::string_view cookie_value) {
  return crypto::Base64UrlEncode(crypto::HmacSha256(cookie_value, "keybridge csrf v1"));
}

bool BrowserSessionService::IsCsrfTokenOf(std::string_view cookie_value,
                                          std::string_view presented) {
  return crypto::ConstantTimeEquals(presented, CsrfToken(cookie_value));
}

core::Result<std::optional<core::Secret>> BrowserSessionService::IssueAdminLinkIfNoAdmin() {
  KEYBRIDGE_ASSIGN_OR_RETURN(bool signed_in_before, sessions_.AdminEverSignedIn());
  if (signed_in_before) {
    return std::optional<core::Secret>();
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(core::Secret token, IssueAdminLink());
  return std::optional<core::Secret>(std::move(token));
}

core::Result<core::Secret> BrowserSessionService::IssueAdminLink() {
  const core::TimePoint now = clock_.Now();
  core::Secret token(crypto::Base64UrlEncode(random_.Bytes(kSecretBytes)));
  KEYBRIDGE_RETURN_IF_ERROR(sessions_.InsertSignInLink(crypto::Sha256Hex(token.Reveal()), now,
                                                       now + options_.link_lifetime));
  return token;
}

core::Result<SignedIn> BrowserSessionService::SignInWithLink(std::string_view link_token) {
  if (link_token.empty()) {
    return SignInAgain("The sign-in link is incomplete; copy the whole link keybridge printed.");
  }
  auto taken = sessions_.TakeSignInLink(crypto::Sha256Hex(link_token));
  if (!taken.ok()) {
    if (taken.error().code == ErrorCode::kNotFound) {
      return SignInAgain(
          "This sign-in link is unknown or was already used. Restart keybridge serve for a new "
          "one, or sign in with a token from `keybridge tokens create --admin`.");
    }
    return std::move(taken).TakeError();
  }
  if (clock_.Now() >= *taken) {
    return SignInAgain("This sign-in link has expired. Restart keybridge serve for a new one.");
  }
  spdlog::info("administrator signed in with the one-time link");
  return Create(core::Caller::User(core::UserId(kLinkAdminUser), true), "Administrator", {});
}

core::Result<SignedIn> BrowserSessionService::SignInWithApiToken(std::string_view local_token) {
  if (!local_token.starts_with(identity::kApiTokenPrefix)) {
    return SignInAgain(
        "That is not a keybridge token: paste a token from `keybridge tokens create` (it starts "
        "with kb_).");
  }
  const std::string token_hash = identity::HashApiToken(local_token);
  auto token = api_tokens_.CheckHash(token_hash);
  if (!token.ok()) {
    if (token.error().code == ErrorCode::kUnauthenticated) {
      return SignInAgain("The token was not accepted: " + token.error().message + ".");
    }
    return std::move(token).TakeError();
  }
  const std::string name = token->user_id.value();
  Source source;
  source.token_hash = token_hash;
  source.token_expires_at = token->expires_at;
  return Create(core::Caller::User(token->user_id, token->is_admin), name, std::move(source));
}

core::Result<SignedIn> BrowserSessionService::SignIn(const core::Caller& caller) {
  if (!caller.IsAuthenticated() || caller.IsSessionToken()) {
    return SignInAgain("Sign-in was not completed.");
  }
  Source source;
  source.identity_recheck = true;
  return Create(caller, caller.name.empty() ? caller.user_id.value() : caller.name,
                std::move(source));
}

core::Result<SignedIn> BrowserSessionService::Create(const core::Caller& caller, std::string name,
                                                     Source source) {
  const core::TimePoint now = clock_.Now();
  // Housekeeping on sign-in, the rare write path: expired rows would otherwise pile up.
  if (auto swept = sessions_.DeleteExpired(now); !swept.ok()) {
    spdlog::warn("could not remove expired browser sessions: {}", swept.error().message);
  }
  core::Secret cookie(crypto::Base64UrlEncode(random_.Bytes(kSecretBytes)));
  core::BrowserSession session;
  session.id_hash = crypto::Sha256Hex(cookie.Reveal());
  session.user_id = caller.user_id;
  session.name = std::move(name);
  session.is_admin = caller.is_admin;
  session.created_at = now;
  session.last_seen_at = now;
  session.expires_at = now + options_.absolute_lifetime;
  if (source.token_expires_at) {
    session.expires_at = std::min(session.expires_at, *source.token_expires_at);
  }
  session.source_token_hash = std::move(source.token_hash);
  if (source.identity_recheck) {
    session.identity_recheck_at = now + options_.identity_recheck_interval;
  }
  KEYBRIDGE_RETURN_IF_ERROR(sessions_.Insert(session));
  if (audit_ != nullptr) {
    core::AuditEvent event;
    event.kind = core::AuditKind::kSignedIn;
    event.actor = caller.user_id;
    event.caller_kind = "browser";
    audit_->Record(std::move(event));
  }
  SignedIn out{std::move(cookie), caller, ""};
  out.csrf_token = CsrfToken(out.cookie_value.Reveal());
  out.caller.name = session.name;
  out.caller.browser_session = true;
  return out;
}

core::Result<core::Caller> BrowserSessionService::VerifySession(std::string_view cookie_value) {
  const std::string hash = crypto::Sha256Hex(cookie_value);
  auto found = sessions_.FindByHash(hash);
  if (!found.ok()) {
    if (found.error().code == ErrorCode::kNotFound) {
      return SignInAgain("You are signed out; sign in again.");
    }
    return std::move(found).TakeError();
  }
  const core::TimePoint now = clock_.Now();
  if (now >= found->expires_at || now - found->last_seen_at >= options_.idle_lifetime) {
    static_cast<void>(sessions_.Delete(hash));
    return SignInAgain("Your session has expired; sign in again.");
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(const bool is_admin, RecheckSource(*found, now));
  if (now - found->last_seen_at >= options_.touch_interval) {
    if (auto touched = sessions_.Touch(hash, now); !touched.ok()) {
      spdlog::warn("could not record browser session activity: {}", touched.error().message);
    }
  }
  core::Caller caller = core::Caller::User(found->user_id, is_admin);
  caller.name = found->name;
  caller.browser_session = true;
  return caller;
}

core::Result<bool> BrowserSessionService::RecheckSource(const core::BrowserSession& session,
                                                        core::TimePoint now) {
  if (session.identity_recheck_at && now >= *session.identity_recheck_at) {
    static_cast<void>(sessions_.Delete(session.id_hash));
    return SignInAgain(
        "Keybridge asks your identity provider every hour whether you may still sign in, and as "
        "what; sign in again.");
  }
  if (session.source_token_hash.empty()) {
    return session.is_admin;
  }
  auto token = api_tokens_.CheckHash(session.source_token_hash);
  if (!token.ok()) {
    if (token.error().code != ErrorCode::kUnauthenticated) {
      return std::move(token).TakeError();  // e.g. the database is unavailable: not a sign-out
    }
    static_cast<void>(sessions_.Delete(session.id_hash));
    return SignInAgain("The token this session was signed in with is no longer valid ("
                       + token.error().message + "); sign in again.");
  }
  return session.is_admin && token->is_admin;
}

core::Status BrowserSessionService::SignOut(std::string_view cookie_value) {
  KEYBRIDGE_ASSIGN_OR_RETURN(bool deleted, sessions_.Delete(crypto::Sha256Hex(cookie_value)));
  static_cast<void>(deleted);
  return core::OkStatus();
}

}  // namespace keybridge::service
