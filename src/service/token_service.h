// TokenService: hands out access tokens that are valid for at least the asked time, refreshing
// them when needed, and nothing else: what a session may reach is SessionScopePolicy's to decide
// (applied here before a token leaves), which provider serves a URL is ProviderMatcher's, and
// links are core::PublicUrls'. Refresh tokens may rotate (RFC 9700 §4.14: each refresh token is
// single use), so a lost race loses the grant; the rules are:
//  - one refresh per connection at a time: an in-process single-flight (exception-safe: a
//    throwing refresh answers every waiter with an error and leaves no entry behind) in front of
//    the store's cross-replica refresh lease, which is held without a database connection while
//    the provider is called;
//  - the row is re-read after the lease is taken, so a waiter adopts the winner's token instead
//    of replaying a spent refresh token;
//  - the new token set is persisted before anyone gets it;
//  - invalid_grant/bad_refresh_token (under the lease, so not our own race) marks the connection
//    invalid_credentials with the reason; timeouts, 5xx and 429 are transient (503, refresh
//    token kept, connection untouched, except that a timeout notes in status_reason that the
//    answer may have been lost);
//  - after a transient failure the provider is not asked again for that connection until its
//    back-off window has passed (the provider's Retry-After, else exponential); reads in between
//    get 503 with the time left. The window is kept in memory, per process: it is a politeness
//    limit, not a correctness one, so N replicas make at most N attempts per window, and the
//    failure path needs no database write (the database may be the struggling part);
//  - no caller can make every read refresh: a forced refresh needs the hash of the rejected token
//    and is limited to one per connection per `forced_refresh_interval` (per process);
//    min_valid is clamped to half the lifetime of the stored token, which a refresh meets for
//    half the token's life.
#pragma once

#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/caller.h"
#include "core/clock.h"
#include "core/connection.h"
#include "core/public_urls.h"
#include "core/repositories.h"
#include "core/result.h"
#include "service/audit_log.h"
#include "service/provider_gateway.h"
#include "service/session_scope.h"

namespace keybridge::service {

struct TokenServiceOptions {
  // A read refreshes tokens that expire within this margin (or within min_valid, if larger).
  core::Seconds refresh_margin{300};
  // For the reconnect link in errors.
  core::PublicUrls public_urls;
  // Back-off after a transient refresh failure when the provider sent no Retry-After: starts
  // here and doubles per failure up to `max_backoff`.
  core::Seconds first_backoff{5};
  core::Seconds max_backoff{300};
  // At most one forced refresh per connection per interval (GitLab and GitHub Apps invalidate
  // the previous token on refresh, so forced refreshes must not come from every client).
  core::Seconds forced_refresh_interval{30};
  // Called once per refresh request sent to a provider, with how it ended: "refreshed",
  // "rejected" (the grant is gone), "unavailable" (transient), "lost_answer" (timed out after
  // sending), "failed" (any other error). For metrics; may be empty. Must not block.
  std::function<void(const core::ProviderId&, std::string_view outcome)> on_provider_refresh{};
  // Where hand-outs and refresh failures are recorded; null: only a log line.
  AuditLog* audit = nullptr;
};

// What a reader needs from FreshConnection.
struct TokenDemand {
  // The token must stay valid at least this long (a larger refresh margin still applies).
  core::Seconds min_valid{0};
  // Refresh even though the stored token looks valid, because a client saw the provider reject
  // it (git erased it). Needs `rejected_token_sha256` (hex SHA-256 of the rejected access token;
  // kInvalidArgument without it) and refreshes only while the stored token is still that one, so
  // several clients that saw the same rejection cause one refresh, not one each. At most one per
  // connection per forced_refresh_interval: a later one gets the stored token if it differs from
  // the rejected one, else kUnavailable naming the seconds left ("retry_after=<n>" in detail).
  bool force_refresh = false;
  std::string rejected_token_sha256;
  // False: answer only from the stored token; when the provider would have to be called (a
  // refresh), fail with kWouldWait instead, so the caller can move to where waiting on a provider
  // is allowed (routes: from the database compartment to the provider compartment). A connection
  // inside its back-off window still gets its 503 at once.
  bool may_call_provider = true;
};

class TokenService {
 public:
  // All references must outlive the service. Thread-safe.
  TokenService(core::ConnectionRepository& connections, core::ProviderRepository& providers,
               ProviderGateway& gateway, const core::Clock& clock, SessionScopePolicy& scope,
               TokenServiceOptions options);

  // The caller's connection with a token valid for at least max(margin, min_valid) when the
  // provider allows it (min_valid is clamped to half the stored token's lifetime). kNotFound
  // (absent or someone else's), kPermissionDenied (pending: never connected),
  // kReauthorizationRequired (the provider rejected the refresh token; message names the reconnect
  // URL), kUnavailable (transient provider failure or back-off window; detail
  // "retry_after=<seconds>"), kInvalidArgument (force_refresh without the rejected hash),
  // kUpstreamFailed.
  //
  // A session caller (Caller::session) gets a connection only within its scope, else
  // kPermissionDenied (SessionScopePolicy::CheckConnection).
  core::Result<core::Connection> FreshConnection(const core::Caller& caller,
                                                 const core::ConnectionId& connection_id,
                                                 core::Seconds min_valid);
  core::Result<core::Connection> FreshConnection(const core::Caller& caller,
                                                 const core::ConnectionId& connection_id,
                                                 const TokenDemand& demand);
  // Background refresher entry point: refreshes `connection_id` if it has a refresh token,
  // regardless of the access token's expiry (to keep the grant alive). No ownership check.
  core::Status KeepAlive(const core::ConnectionId& connection_id);
  // The audit trail the services around this one record into (null: none).
  AuditLog* audit() const { return options_.audit; }

 private:
  // Single-flight: concurrent callers for one connection share one RefreshUnderLock.
  // `force`: refresh even if valid for `min_valid`; with a non-empty `only_if_sha256`, only
  // while the stored access token still hashes to it (re-checked under the lock).
  core::Result<core::Connection> SharedRefresh(const core::ConnectionId& connection_id,
                                               core::Seconds min_valid, bool force,
                                               const std::string& only_if_sha256 = "");
  // Revokes `issued` (a refresh's new token set) if the connection ended while it was being
  // obtained, so that it cannot outlive a disconnect; `stored` is what the refresh persisted.
  void RevokeIfOrphaned(const core::Provider& provider, const core::ConnectionId& connection_id,
                        const core::TokenSet& issued, const core::Result<core::Connection>& stored);
  core::Result<core::Connection> RefreshUnderLock(const core::ConnectionId& connection_id,
                                                  core::Seconds min_valid, bool force,
                                                  const std::string& only_if_sha256);
  core::Result<core::Connection> Usable(core::Connection connection) const;
  // kUnavailable while `connection_id` is inside its back-off window.
  core::Status CheckBackoff(const core::ConnectionId& connection_id);
  // Opens (or widens) the back-off window after a transient failure; returns its length.
  core::Seconds StartBackoff(const core::ConnectionId& connection_id, const core::Error& error);

  struct Backoff {
    core::TimePoint retry_at;
    core::Seconds window{0};
  };

  core::ConnectionRepository& connections_;
  core::ProviderRepository& providers_;
  ProviderGateway& gateway_;
  const core::Clock& clock_;
  SessionScopePolicy& scope_;
  const TokenServiceOptions options_;
  std::mutex mu_;
  std::map<core::ConnectionId, std::shared_future<core::Result<core::Connection>>> inflight_;
  // Per connection, in memory (see above); entries go when a refresh succeeds or is refused.
  std::map<core::ConnectionId, Backoff> backoff_;
  std::map<core::ConnectionId, core::TimePoint> last_forced_;
};

// Records every access token handed to a client (who, which credential and session token, which
// connection, through which consumer, for which repository or image): in the audit trail when
// `audit` is set, else as a log line; never the token. Call it right before the response is sent.
void AuditTokenHandedOut(AuditLog* audit, const core::Caller& caller,
                         const core::Connection& connection, std::string_view consumer,
                         std::string_view target = {});

}  // namespace keybridge::service
