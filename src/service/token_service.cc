#include "service/token_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>

#include "crypto/hash.h"
#include "service/provider_service.h"

namespace keybridge::service {
namespace {

using core::ErrorCode;
using core::MakeError;

core::Error NotFound() {
  return MakeError(ErrorCode::kNotFound, "Connection does not exist or you do not have access.");
}

// What status_reason says after a refresh timed out: the provider may have rotated the refresh
// token without us seeing the answer, which support must tell apart from a revocation.
constexpr const char* kLostAnswerReason =
    "the provider did not answer the last refresh in time; if it was rotated, reconnect";

// The provider's Retry-After in seconds, if the error carries one (oauth/ sets it from the
// provider's answer).
std::optional<std::int64_t> RetryAfterSeconds(const core::Error& error) {
  if (!error.retry_after) {
    return std::nullopt;
  }
  return error.retry_after->count();
}

// A transport timeout (net/curl_http_client: "request to <host> timed out"): the request may
// have reached the provider, so a rotated refresh token may have been lost with the answer.
bool TimedOut(const core::Error& error) {
  return error.code == ErrorCode::kUnavailable
         && error.message.find("timed out") != std::string::npos;
}

core::Error RetryLater(const std::string& what, core::Seconds left) {
  const std::int64_t seconds = std::max<std::int64_t>(1, left.count());
  return MakeError(ErrorCode::kUnavailable,
                   what + " Try again in " + std::to_string(seconds) + " s.",
                   "retry_after=" + std::to_string(seconds))
      .WithRetryAfter(core::Seconds(seconds));
}

// How long a token lasts from issue to expiry, if known.
std::optional<core::Seconds> Lifetime(const core::TokenSet& token) {
  if (token.expires_in && *token.expires_in > 0) {
    return core::Seconds(*token.expires_in);
  }
  if (token.expires_at && *token.expires_at > token.obtained_at) {
    return std::chrono::duration_cast<core::Seconds>(*token.expires_at - token.obtained_at);
  }
  return std::nullopt;
}

}  // namespace

void AuditTokenHandedOut(AuditLog* audit, const core::Caller& caller,
                         const core::Connection& connection, std::string_view consumer,
                         std::string_view target) {
  if (audit != nullptr) {
    audit->TokenHandedOut(caller, connection, consumer, target);
    return;
  }
  if (caller.session_scope) {
    spdlog::info(
        "token handed out: connection={} provider={} user={} session_token={} session={} via={}",
        connection.id.value(), connection.provider_id.value(), caller.user_id.value(),
        caller.session_scope->token_id, caller.session_scope->session_name, consumer);
    return;
  }
  spdlog::info("token handed out: connection={} provider={} user={} via={}", connection.id.value(),
               connection.provider_id.value(), caller.user_id.value(), consumer);
}

TokenService::TokenService(core::ConnectionRepository& connections,
                           core::ProviderRepository& providers, ProviderGateway& gateway,
                           const core::Clock& clock, SessionScopePolicy& scope,
                           TokenServiceOptions options)
    : connections_(connections),
      providers_(providers),
      gateway_(gateway),
      clock_(clock),
      scope_(scope),
      options_(std::move(options)) {}

core::Result<core::Connection> TokenService::Usable(core::Connection connection) const {
  switch (connection.status) {
    case core::ConnectionStatus::kConnected:
      if (!connection.token) {
        return MakeError(ErrorCode::kInternal, "connected connection without a token",
                         "connection " + connection.id.value());
      }
      return connection;
    case core::ConnectionStatus::kPending:
      return MakeError(ErrorCode::kPermissionDenied,
                       "The connection is not connected yet: finish connecting at "
                           + options_.public_urls.Authorize(connection.provider_id));
    case core::ConnectionStatus::kInvalidCredentials: {
      core::Error error =
          MakeError(ErrorCode::kReauthorizationRequired,
                    "The refresh token for the connected service has expired or is invalid ("
                        + connection.status_reason + "). Please reconnect at "
                        + options_.public_urls.Authorize(connection.provider_id));
      return error;
    }
  }
  return MakeError(ErrorCode::kInternal, "unknown connection status");
}

core::Result<core::Connection> TokenService::FreshConnection(
    const core::Caller& caller, const core::ConnectionId& connection_id, core::Seconds min_valid) {
  TokenDemand demand;
  demand.min_valid = min_valid;
  return FreshConnection(caller, connection_id, demand);
}

core::Result<core::Connection> TokenService::FreshConnection(
    const core::Caller& caller, const core::ConnectionId& connection_id,
    const TokenDemand& demand) {
  if (!caller.IsAuthenticated() && !caller.rejected_reason.empty()) {
    // A credential was presented and refused (revoked or expired session token...): say so (401)
    // rather than hiding the connection, which a bare anonymous caller gets (404).
    return RequireUser(caller).error();
  }
  auto found = connections_.Find(connection_id);
  if (!found.ok()) {
    return found.error().code == ErrorCode::kNotFound ? NotFound() : std::move(found).TakeError();
  }
  if (!caller.IsAuthenticated() || found->user_id != caller.user_id) {
    return NotFound();  // never confirm that someone else's connection exists
  }
  // Before the status: a session must not learn anything about connections outside its scope.
  KEYBRIDGE_RETURN_IF_ERROR(scope_.CheckConnection(caller, found->provider_id, found->id));
  KEYBRIDGE_ASSIGN_OR_RETURN(core::Connection connection, Usable(std::move(found).value()));
  if (demand.force_refresh && demand.rejected_token_sha256.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "force_refresh requires rejected_token_sha256 (the hex SHA-256 of the access "
                     "token the provider rejected)");
  }
  core::Seconds min_valid = demand.min_valid;
  core::Seconds margin = options_.refresh_margin;
  const std::optional<core::Seconds> lifetime = Lifetime(*connection.token);
  if (lifetime) {
    // A provider issuing tokens shorter than the margin must not be refreshed on every read.
    margin = std::min(margin, *lifetime / 2);
    // No caller can make every read refresh: at most half the lifetime is asked, which a
    // refreshed token meets for half its life (a demand of the whole lifetime would refresh on
    // every read, and GitLab and GitHub Apps revoke the previous token on each refresh).
    min_valid = std::min(min_valid, *lifetime / 2);
  }
  const core::Seconds needed = std::max(min_valid, margin);
  const bool forced =
      demand.force_refresh
      && crypto::ConstantTimeEquals(crypto::Sha256Hex(connection.token->access_token.Reveal()),
                                    demand.rejected_token_sha256);
  if (!forced && !connection.token->IsExpiring(clock_.Now(), needed)) {
    return connection;
  }
  if (!demand.may_call_provider) {
    KEYBRIDGE_RETURN_IF_ERROR(CheckBackoff(connection_id));
    return MakeError(ErrorCode::kWouldWait, "", "token refresh needs the provider");
  }
  // A rejection another client already reported got the token replaced: no lease, no refresh.
  if (forced) {
    const core::TimePoint now = clock_.Now();
    {
      std::lock_guard lock(mu_);
      auto it = last_forced_.find(connection_id);
      if (it != last_forced_.end() && now < it->second + options_.forced_refresh_interval) {
        return RetryLater("This connection's token was force-refreshed moments ago.",
                          std::chrono::duration_cast<core::Seconds>(
                              it->second + options_.forced_refresh_interval - now));
      }
      last_forced_[connection_id] = now;
    }
    return SharedRefresh(connection_id, needed, /*force=*/true, demand.rejected_token_sha256);
  }
  return SharedRefresh(connection_id, needed, /*force=*/false);
}

core::Status TokenService::CheckBackoff(const core::ConnectionId& connection_id) {
  const core::TimePoint now = clock_.Now();
  std::lock_guard lock(mu_);
  auto it = backoff_.find(connection_id);
  if (it == backoff_.end() || now >= it->second.retry_at) {
    return core::OkStatus();
  }
  return RetryLater("The provider is temporarily unavailable; the token could not be refreshed.",
                    std::chrono::ceil<core::Seconds>(it->second.retry_at - now));
}

core::Seconds TokenService::StartBackoff(const core::ConnectionId& connection_id,
                                         const core::Error& error) {
  constexpr core::Seconds kMaxProviderRetryAfter{3600};
  std::lock_guard lock(mu_);
  Backoff& backoff = backoff_[connection_id];
  if (const std::optional<std::int64_t> asked = RetryAfterSeconds(error)) {
    // The provider said when: obey it, within sane bounds.
    backoff.window = std::clamp(core::Seconds(*asked), core::Seconds(1), kMaxProviderRetryAfter);
  } else {
    backoff.window = backoff.window.count() == 0
                         ? options_.first_backoff
                         : std::min(backoff.window * 2, options_.max_backoff);
  }
  backoff.retry_at = clock_.Now() + backoff.window;
  return backoff.window;
}

core::Status TokenService::KeepAlive(const core::ConnectionId& connection_id) {
  KEYBRIDGE_ASSIGN_OR_RETURN([[maybe_unused]] auto connection,
                             SharedRefresh(connection_id, options_.refresh_margin, /*force=*/true));
  return core::OkStatus();
}

core::Result<core::Connection> TokenService::SharedRefresh(const core::ConnectionId& connection_id,
                                                           core::Seconds min_valid, bool force,
                                                           const std::string& only_if_sha256) {
  std::promise<core::Result<core::Connection>> promise;
  std::shared_future<core::Result<core::Connection>> future;
  bool leader = false;
  {
    std::lock_guard lock(mu_);
    auto it = inflight_.find(connection_id);
    if (it == inflight_.end()) {
      future = promise.get_future().share();
      inflight_.emplace(connection_id, future);
      leader = true;
    } else {
      future = it->second;
    }
  }
  if (leader) {
    std::optional<core::Result<core::Connection>> result;
    try {
      core::Status waited = CheckBackoff(connection_id);
      result = waited.ok() ? RefreshUnderLock(connection_id, min_valid, force, only_if_sha256)
                           : core::Result<core::Connection>(std::move(waited).TakeError());
    } catch (const std::exception& e) {
      // Last resort: a throw must not leave a broken promise in the map, which would answer
      // every later read of this connection with an error until a restart.
      result = MakeError(ErrorCode::kInternal, "The token could not be refreshed.",
                         std::string("refresh threw: ") + e.what());
    } catch (...) {
      result = MakeError(ErrorCode::kInternal, "The token could not be refreshed.",
                         "refresh threw a non-standard exception");
    }
    {
      std::lock_guard lock(mu_);
      inflight_.erase(connection_id);
    }
    promise.set_value(std::move(*result));
  }
  return future.get();
}

void TokenService::RevokeIfOrphaned(const core::Provider& provider,
                                    const core::ConnectionId& connection_id,
                                    const core::TokenSet& issued,
                                    const core::Result<core::Connection>& stored) {
  // The connection was disconnected (row gone) or invalidated (token dropped) while the provider
  // answered: whoever ended it revoked the pair the row held, which is not this one. Nobody else
  // knows this pair, so it is revoked here or it stays live at the provider until it expires.
  // (A row that holds another live token set means another replica won the refresh; then this
  // pair is left alone, because revoking it may end the grant that replica's pair belongs to.)
  const bool gone = stored.ok()
                        ? (stored->status != core::ConnectionStatus::kConnected || !stored->token)
                        : stored.error().code == ErrorCode::kNotFound;
  if (!gone) {
    return;
  }
  const core::Status revoked = gateway_.Revoke(provider, issued);
  spdlog::warn("connection {} ended while its token was being refreshed; the newly issued token {}",
               connection_id.value(),
               revoked.ok() ? "was revoked at the provider"
                            : "could not be revoked at the provider: " + revoked.error().message);
}

core::Result<core::Connection> TokenService::RefreshUnderLock(
    const core::ConnectionId& connection_id, core::Seconds min_valid, bool force,
    const std::string& only_if_sha256) {
  // Set inside the callback when the provider call failed transiently: nothing is persisted and
  // the caller gets a 503, never invalid_credentials.
  std::optional<core::Error> transient;
  // The token set the provider issued, if it did: revoked below when it could not be stored.
  std::optional<core::TokenSet> issued;
  // Everything the callback needs is loaded before the lock: it runs inside a database
  // transaction, and a second pool connection taken there could deadlock a busy pool.
  KEYBRIDGE_ASSIGN_OR_RETURN(core::Connection before, connections_.Find(connection_id));
  KEYBRIDGE_ASSIGN_OR_RETURN(core::Provider provider, providers_.Find(before.provider_id));
  auto stored = connections_.WithRefreshLock(
      connection_id, [&](const core::Connection& current) -> core::Result<core::RefreshOutcome> {
        if (current.status != core::ConnectionStatus::kConnected || !current.token) {
          return core::RefreshOutcome(core::RefreshNoChange{});
        }
        const core::TokenSet& token = *current.token;
        // Re-read after the lock: another replica may already have refreshed, also after a
        // rejection that several clients reported.
        const bool still_rejected =
            force
            && (only_if_sha256.empty()
                || crypto::ConstantTimeEquals(crypto::Sha256Hex(token.access_token.Reveal()),
                                              only_if_sha256));
        if (!still_rejected && !token.IsExpiring(clock_.Now(), min_valid)) {
          return core::RefreshOutcome(core::RefreshNoChange{});
        }
        // Someone else stored a new token while we waited for the lease: adopt it (it is as
        // fresh as ours would be) instead of refreshing again because min_valid asked for more.
        if (!force && current.token_version != before.token_version
            && !token.IsExpiring(clock_.Now(), std::min(min_valid, options_.refresh_margin))) {
          return core::RefreshOutcome(core::RefreshNoChange{});
        }
        if (!token.refresh_token) {
          if (token.expires_at && *token.expires_at <= clock_.Now()) {
            return core::RefreshOutcome(core::RefreshMarkInvalid{
                "the access token expired and the provider issued no refresh token"});
          }
          return core::RefreshOutcome(core::RefreshNoChange{});
        }
        auto refreshed = gateway_.Refresh(provider, *token.refresh_token);
        const auto record = [&](std::string_view outcome) {
          if (options_.on_provider_refresh) {
            options_.on_provider_refresh(provider.id, outcome);
          }
          if (options_.audit != nullptr && outcome != "refreshed") {
            core::AuditEvent event;
            event.kind = core::AuditKind::kRefreshFailed;
            event.actor = current.user_id;  // whose connection: a refresh has no caller of its own
            event.connection_id = current.id.value();
            event.provider_id = current.provider_id.value();
            // One of the fixed outcome words above: no escaping needed.
            event.changes = R"({"outcome":")" + std::string(outcome) + R"("})";
            options_.audit->Record(std::move(event));
          }
        };
        if (refreshed.ok()) {
          record("refreshed");
          core::TokenSet next = std::move(refreshed).value();
          if (!next.refresh_token) {
            // RFC 6749 6: the server MAY keep the old refresh token valid and not return one.
            next.refresh_token = token.refresh_token;
            if (!next.refresh_token_expires_at) {
              next.refresh_token_expires_at = token.refresh_token_expires_at;
            }
          }
          spdlog::info("refreshed token of connection {} (provider {})", current.id.value(),
                       current.provider_id.value());
          issued = next;
          return core::RefreshOutcome(core::RefreshNewToken{std::move(next)});
        }
        const core::Error& error = refreshed.error();
        if (error.code == ErrorCode::kReauthorizationRequired) {
          record("rejected");
          // We hold the refresh lock and re-read the row, so this is not a lost race with
          // another replica: the provider really refuses this grant.
          spdlog::warn("provider {} rejected the refresh token of connection {}: {}",
                       current.provider_id.value(), current.id.value(), error.detail);
          return core::RefreshOutcome(core::RefreshMarkInvalid{
              provider.display_name + " rejected the stored refresh token ("
              + (error.detail.empty() ? "invalid_grant" : error.detail) + ")"});
        }
        transient = error;
        record(TimedOut(error)                         ? "lost_answer"
               : error.code == ErrorCode::kUnavailable ? "unavailable"
                                                       : "failed");
        if (TimedOut(error)) {
          // The request may have been answered after all (with a rotated refresh token we never
          // saw): keep the token, which may still work, but say so where support looks.
          return core::RefreshOutcome(core::RefreshNoteReason{kLostAnswerReason});
        }
        return std::move(refreshed).TakeError();
      });
  if (transient && transient->code == ErrorCode::kUnavailable) {
    const core::Seconds window = StartBackoff(connection_id, *transient);
    spdlog::warn("transient failure refreshing connection {}: {} (next attempt in {} s)",
                 connection_id.value(), transient->message, window.count());
    return RetryLater("The provider is temporarily unavailable; the token could not be refreshed.",
                      window);
  }
  if (issued) {
    RevokeIfOrphaned(provider, connection_id, *issued, stored);
  }
  if (!stored.ok()) {
    return stored;
  }
  {
    // The provider answered (or there was nothing to ask): no back-off.
    std::lock_guard lock(mu_);
    backoff_.erase(connection_id);
  }
  return Usable(std::move(stored).value());
}

}  // namespace keybridge::service
