// BrowserSessionService: browser sign-in. A signed-in browser holds a 256-bit random
// session id in an HttpOnly cookie; only its SHA-256 is stored. Sessions end after an idle period
// or an absolute lifetime, whichever comes first (OWASP Session Management: both timeouts), and on
// sign-out. The CSRF token is an HMAC of the session id, so it needs no storage and changes with
// every session.
//
// Ways in: a one-time administrator link that `keybridge serve` prints while no administrator has
// a session (the embedded default without an identity issuer), a local `kb_` token pasted into the
// sign-in form, or a caller verified by the OIDC sign-in (BrowserLoginService).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/caller.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/repositories.h"
#include "core/result.h"
#include "core/secret.h"
#include "identity/api_token_authenticator.h"
#include "identity/authenticator.h"
#include "service/audit_log.h"

namespace keybridge::service {

struct BrowserSessionOptions {
  core::Seconds idle_lifetime{12 * 3600};
  core::Seconds absolute_lifetime{7 * 86400};
  core::Seconds link_lifetime{3600};  // one-time administrator link
  // last_seen_at is written at most this often, so reads do not each cost a write.
  core::Seconds touch_interval{60};
  // An OIDC session asks the identity provider again this often (a new sign-in, one click while
  // the provider's own session lasts), so a role or user removed there stops counting here.
  core::Seconds identity_recheck_interval{3600};
};

struct SignedIn {
  core::Secret cookie_value;  // the session id, for the HttpOnly cookie only
  core::Caller caller;
  std::string csrf_token;
};

class BrowserSessionService final : public identity::BrowserSessionVerifier {
 public:
  // All references must outlive the service. Thread-safe.
  BrowserSessionService(core::BrowserSessionRepository& sessions,
                        identity::ApiTokenAuthenticator& local_tokens, core::Random& random,
                        const core::Clock& clock, BrowserSessionOptions options = {});

  // A fresh one-time administrator sign-in token (stored hashed, single use, link_lifetime) while
  // no administrator has ever signed in here; nullopt once one has (then only IssueAdminLink).
  core::Result<std::optional<core::Secret>> IssueAdminLinkIfNoAdmin();
  // A fresh one-time administrator sign-in token, whoever signed in before (`keybridge
  // admin-link`, run by someone with access to the database and key).
  core::Result<core::Secret> IssueAdminLink();
  // kUnauthenticated for an unknown, used or expired link. The session is an administrator's.
  core::Result<SignedIn> SignInWithLink(std::string_view link_token);
  // A `kb_` token from `keybridge tokens create`: a session with that token's user and admin
  // flag, ending no later than the token and re-checking it on every use (revoked or expired:
  // the session ends). kUnauthenticated for session tokens and unknown, revoked or expired
  // tokens.
  core::Result<SignedIn> SignInWithApiToken(std::string_view local_token);
  // A session for a caller some other check already verified (OIDC sign-in); it ends at its
  // identity re-check (options.identity_recheck_interval) and the user signs in again.
  core::Result<SignedIn> SignIn(const core::Caller& caller);

  core::Result<core::Caller> VerifySession(std::string_view cookie_value) override;
  // Deletes the session; signing out twice is not an error.
  core::Status SignOut(std::string_view cookie_value);

  // The CSRF token of the session with this cookie value (base64url HMAC-SHA-256).
  static std::string CsrfToken(std::string_view cookie_value);
  // Whether `presented` (the X-CSRF-Token header) is the CSRF token of the session with this
  // cookie value; compared in constant time, so the comparison leaks nothing of the token.
  static bool IsCsrfTokenOf(std::string_view cookie_value, std::string_view presented);
  core::Seconds absolute_lifetime() const { return options_.absolute_lifetime; }

  // Where sign-ins are recorded (null: none). Set before use.
  void SetAuditLog(AuditLog* audit) { audit_ = audit; }

 private:
  // What a new session rests on besides its own lifetime (core::BrowserSession).
  struct Source {
    std::string token_hash;                           // local token sessions
    std::optional<core::TimePoint> token_expires_at;  // caps the session
    bool identity_recheck = false;                    // OIDC sessions
  };
  core::Result<SignedIn> Create(const core::Caller& caller, std::string name, Source source);
  // Whether what the session rests on still holds; kUnauthenticated (and the session deleted)
  // if not. Returns the session's admin flag as it holds now.
  core::Result<bool> RecheckSource(const core::BrowserSession& session, core::TimePoint now);

  core::BrowserSessionRepository& sessions_;
  identity::ApiTokenAuthenticator& api_tokens_;
  core::Random& random_;
  const core::Clock& clock_;
  const BrowserSessionOptions options_;
  AuditLog* audit_ = nullptr;
};

}  // namespace keybridge::service
