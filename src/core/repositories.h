// Repository ports: how services load and store domain objects. storage/ implements them on
// SQLite and PostgreSQL (one SQL implementation, two dialects); tests/contract holds them to the
// same behaviour. All methods are thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/api_token.h"
#include "core/browser_session.h"
#include "core/connection.h"
#include "core/ids.h"
#include "core/integration_trial.h"
#include "core/provider.h"
#include "core/result.h"
#include "core/session_token.h"

namespace keybridge::core {

class ProviderRepository {
 public:
  virtual ~ProviderRepository() = default;
  // Ordered by id.
  virtual Result<std::vector<Provider>> List() = 0;
  // kNotFound if there is no provider with this id.
  virtual Result<Provider> Find(const ProviderId& id) = 0;
  // kConflict if the id is taken.
  virtual Status Insert(const Provider& provider) = 0;
  // Replaces every field of the stored row with `provider` (matched by id); kNotFound if absent.
  virtual Status Update(const Provider& provider) = 0;
  // Returns whether a row was deleted.
  virtual Result<bool> Delete(const ProviderId& id) = 0;
};

class ApiTokenRepository {
 public:
  virtual ~ApiTokenRepository() = default;
  // kConflict if the id or the hash is taken.
  virtual Status Insert(const ApiToken& token) = 0;
  // kNotFound if no token has this hash (revoked and expired tokens are returned; the caller
  // decides).
  virtual Result<ApiToken> FindByHash(const std::string& token_hash) = 0;
  // Ordered by created_at, then id.
  virtual Result<std::vector<ApiToken>> List() = 0;
  // Sets revoked_at if not yet revoked; returns whether a token with this id exists.
  virtual Result<bool> Revoke(const std::string& id, TimePoint now) = 0;
};

// What a refresh decided, to be persisted while the refresh lock is still held.
struct RefreshNewToken {
  TokenSet token;
};
struct RefreshMarkInvalid {
  std::string reason;
};
struct RefreshNoChange {};
// The stored token stays (same version, still connected) but status_reason records something
// support must be able to tell apart from a revocation, e.g. a refresh whose answer was lost.
struct RefreshNoteReason {
  std::string reason;
};
using RefreshOutcome =
    std::variant<RefreshNewToken, RefreshMarkInvalid, RefreshNoChange, RefreshNoteReason>;

class ConnectionRepository {
 public:
  virtual ~ConnectionRepository() = default;
  // The user's connections, ordered by provider id.
  virtual Result<std::vector<Connection>> ListForUser(const UserId& user_id) = 0;
  // kNotFound if absent.
  virtual Result<Connection> Find(const ConnectionId& id) = 0;
  // Returns the (user, provider) connection, inserting `candidate` (status pending, no token) if
  // there is none. Two concurrent calls for the same pair return the same row, never an error.
  virtual Result<Connection> FindOrInsert(const Connection& candidate) = 0;
  // Stores a token from a completed authorization: status connected, reason cleared, version+1.
  // kNotFound if the connection was deleted meanwhile.
  virtual Result<Connection> StoreToken(const ConnectionId& id, const TokenSet& token,
                                        TimePoint now) = 0;
  // Runs `refresh` while holding this connection's cross-replica refresh lock, a lease: taken
  // with a short compare-and-set, held WITHOUT a database connection or transaction while
  // `refresh` runs (it calls the provider), and expiring on its own if the holder dies. A second
  // caller waits for the lease without holding a connection. `refresh` receives the row as
  // re-read AFTER the lease was taken, so a waiter sees the token another replica just stored.
  // Its outcome is persisted (version+1; RefreshNoteReason changes only status_reason) with a
  // compare-and-set on the version and the lease before the lease is released; the stored row is
  // returned. The lease is released also when `refresh` fails or throws.
  virtual Result<Connection> WithRefreshLock(
      const ConnectionId& id,
      const std::function<Result<RefreshOutcome>(const Connection&)>& refresh) = 0;
  // Deletes the row and returns it as it was when deleted (the token set to revoke: one a
  // refresh stored a moment before is in it), or nullopt if there was none. A token set that
  // cannot be opened is returned as no token; the row is deleted all the same.
  virtual Result<std::optional<Connection>> Delete(const ConnectionId& id) = 0;
  // Background refresh: atomically claims up to `limit` connected connections whose refresh is
  // due (core::RefreshDueAt of the stored token <= now), pushing their due time to
  // `now + claim_for` so other replicas skip them; returns the claimed ids, most overdue first.
  virtual Result<std::vector<ConnectionId>> ClaimDueRefreshes(TimePoint now, Seconds claim_for,
                                                              std::size_t limit) = 0;
  // Number of connections to a provider (the admin UI warns before deleting it).
  virtual Result<std::int64_t> CountForProvider(const ProviderId& provider_id) = 0;
  // The provider's destination changed (service::ProviderService): atomically, every connection
  // to it that holds a token or is not pending loses its token set and becomes
  // invalid_credentials with `reason` (token_version+1, no refresh due, the refresh lease
  // cleared, so a refresh in flight cannot store its result), and the provider's pending
  // authorization flows are dropped (their codes must not reach the new destination). Returns
  // the connections as they were before, with the token sets that could be opened, so the caller
  // can revoke them at the old provider.
  virtual Result<std::vector<Connection>> InvalidateForProvider(const ProviderId& provider_id,
                                                                const std::string& reason,
                                                                TimePoint now) = 0;
};

class AuthorizationFlowRepository {
 public:
  virtual ~AuthorizationFlowRepository() = default;
  // kConflict if the state hash exists (cannot happen with 256-bit states; checked anyway).
  virtual Status Insert(const AuthorizationFlow& flow) = 0;
  // Deletes the flow and returns it, atomically: of two concurrent Takes of one state exactly one
  // succeeds. kNotFound if there is no such flow (unknown, already used).
  virtual Result<AuthorizationFlow> Take(const std::string& state_hash) = 0;
  // Removes flows that expired before `now`; returns how many.
  virtual Result<std::int64_t> DeleteExpired(TimePoint now) = 0;
};

class SessionTokenRepository {
 public:
  virtual ~SessionTokenRepository() = default;
  // kConflict if the id or the hash is taken.
  virtual Status Insert(const SessionToken& token) = 0;
  // kNotFound if no token has this hash (revoked and expired tokens are returned; the caller
  // decides).
  virtual Result<SessionToken> FindByHash(const std::string& token_hash) = 0;
  // The user's tokens (revoked and expired ones included), ordered by created_at, then id.
  virtual Result<std::vector<SessionToken>> ListForUser(const UserId& user_id) = 0;
  // Sets revoked_at if not yet revoked (the first time is kept); returns whether `user_id` owns a
  // token with this id.
  virtual Result<bool> Revoke(const std::string& id, const UserId& user_id, TimePoint now) = 0;
};

// Browser sign-in: sessions, one-time administrator sign-in links and pending OIDC
// sign-ins. Every secret is stored as its SHA-256 only.
class BrowserSessionRepository {
 public:
  virtual ~BrowserSessionRepository() = default;
  // kConflict if the hash is taken.
  virtual Status Insert(const BrowserSession& session) = 0;
  // kNotFound if absent (expired sessions are returned; the caller decides).
  virtual Result<BrowserSession> FindByHash(const std::string& id_hash) = 0;
  // Sets last_seen_at; a missing row is not an error.
  virtual Status Touch(const std::string& id_hash, TimePoint last_seen_at) = 0;
  // Returns whether a row was deleted.
  virtual Result<bool> Delete(const std::string& id_hash) = 0;
  // Signs `user_id` out of every browser (e.g. after one of their API tokens was revoked);
  // returns how many sessions were removed.
  virtual Result<std::int64_t> DeleteForUser(const UserId& user_id) = 0;
  // Removes sessions, links and login flows that expired before `now`; returns how many rows.
  virtual Result<std::int64_t> DeleteExpired(TimePoint now) = 0;
  // Whether an administrator has ever had a browser session here (recorded by Insert, kept after
  // the session is gone).
  virtual Result<bool> AdminEverSignedIn() = 0;

  // kConflict if the hash is taken.
  virtual Status InsertSignInLink(const std::string& token_hash, TimePoint created_at,
                                  TimePoint expires_at) = 0;
  // Deletes the link and returns its expiry, atomically (single use). kNotFound if absent.
  virtual Result<TimePoint> TakeSignInLink(const std::string& token_hash) = 0;

  // kConflict if the state hash is taken. Keeps at most `max_pending` flows, dropping those that
  // expire first, so that no number of anonymous sign-in starts grows storage past a bound.
  virtual Status InsertLoginFlow(const BrowserLoginFlow& flow, std::size_t max_pending) = 0;
  // Deletes the flow and returns it, atomically (single use). kNotFound if absent.
  virtual Result<BrowserLoginFlow> TakeLoginFlow(const std::string& state_hash) = 0;
};

// "Try connecting" round trips (service::IntegrationTrialService).
class IntegrationTrialRepository {
 public:
  virtual ~IntegrationTrialRepository() = default;
  // kConflict if the id is taken. Stages, start and finish are not stored by Insert.
  virtual Status Insert(const IntegrationTrial& trial) = 0;
  // kNotFound if absent.
  virtual Result<IntegrationTrial> Find(const std::string& id) = 0;
  // Records that authorize sent the browser to the provider with `flow`, only if the trial has
  // not started yet; returns false if it had (a trial runs once).
  virtual Result<bool> Start(const std::string& id, const TrialFlow& flow, TimePoint now) = 0;
  // Takes the pending flow whose state hash is `state_hash` (it is cleared: of two concurrent
  // calls exactly one succeeds) and returns it with its trial. kNotFound if no trial has it
  // (unknown, already used, or a connect's state).
  virtual Result<std::pair<IntegrationTrial, TrialFlow>> TakeFlow(
      const std::string& state_hash) = 0;
  // Stores the stages the callback recorded and finished_at = now. kNotFound if absent.
  virtual Status Finish(const std::string& id, const std::vector<TrialStage>& stages,
                        TimePoint now) = 0;
  // Removes trials created before `before`; returns how many.
  virtual Result<std::int64_t> DeleteCreatedBefore(TimePoint before) = 0;
};

}  // namespace keybridge::core
