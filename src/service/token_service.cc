#include "service/token_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

#include "crypto/hash.h"
#include "service/provider_service.h"

namespace keybridge::service {
namespace {

using core::ErrorCode;
using core::MakeError;

core::Error NotFound() {
  return MakeError(ErrorCode::kNotFound, "Connection does not exist or you do not have access.");
}

}  // namespace

void AuditTokenHandedOut(const core::Caller& caller, const core::Connection& connection,
                         std::string_view via) {
  if (caller.session_scope) {
    spdlog::info(
        "token handed out: connection={} provider={} user={} session_token={} session={} via={}",
        connection.id, connection.provider_id, caller.user_id, caller.session_scope->token_id,
        caller.session_scope->session_name, via);
    return;
  }
  spdlog::info("token handed out: connection={} provider={} user={} via={}", connection.id,
               connection.provider_id, caller.user_id, via);
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
                         "connection " + connection.id);
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

core::Result<core::Connection> TokenService::FreshConnection(const core::Caller& caller,
                                                             const std::string& connection_id,
                                                             core::Seconds min_valid) {
  TokenDemand demand;
  demand.min_valid = min_valid;
  return FreshConnection(caller, connection_id, demand);
}

core::Result<core::Connection> TokenService::FreshConnection(const core::Caller& caller,
                                                             const std::string& connection_id,
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
  const core::Seconds min_valid = demand.min_valid;
  core::Seconds margin = options_.refresh_margin;
  if (connection.token->expires_in && *connection.token->expires_in > 0) {
    // A provider issuing tokens shorter than the margin must not be refreshed on every read.
    margin = std::min(margin, core::Seconds(*connection.token->expires_in / 2));
  }
  // An explicit min_valid_seconds is honoured as asked.
  const core::Seconds needed = std::max(min_valid, margin);
  // A rejection another client already reported got the token replaced: no lock, no refresh.
  if (demand.force_refresh
      && (demand.rejected_token_sha256.empty()
          || crypto::ConstantTimeEquals(crypto::Sha256Hex(connection.token->access_token.Reveal()),
                                        demand.rejected_token_sha256))) {
    return SharedRefresh(connection_id, needed, /*force=*/true, demand.rejected_token_sha256);
  }
  if (!connection.token->IsExpiring(clock_.Now(), needed)) {
    return connection;
  }
  return SharedRefresh(connection_id, needed, /*force=*/false);
}

core::Status TokenService::KeepAlive(const std::string& connection_id) {
  KEYBRIDGE_ASSIGN_OR_RETURN([[maybe_unused]] auto connection,
                             SharedRefresh(connection_id, options_.refresh_margin, /*force=*/true));
  return core::OkStatus();
}

core::Result<core::Connection> TokenService::SharedRefresh(const std::string& connection_id,
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
    auto result = RefreshUnderLock(connection_id, min_valid, force, only_if_sha256);
    {
      std::lock_guard lock(mu_);
      inflight_.erase(connection_id);
    }
    promise.set_value(std::move(result));
  }
  return future.get();
}

core::Result<core::Connection> TokenService::RefreshUnderLock(const std::string& connection_id,
                                                              core::Seconds min_valid, bool force,
                                                              const std::string& only_if_sha256) {
  // Set inside the callback when the provider call failed transiently: nothing is persisted and
  // the caller gets a 503, never invalid_credentials.
  std::optional<core::Error> transient;
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
        if (!token.refresh_token) {
          if (token.expires_at && *token.expires_at <= clock_.Now()) {
            return core::RefreshOutcome(core::RefreshMarkInvalid{
                "the access token expired and the provider issued no refresh token"});
          }
          return core::RefreshOutcome(core::RefreshNoChange{});
        }
        auto refreshed = gateway_.Refresh(provider, *token.refresh_token);
        if (refreshed.ok()) {
          core::TokenSet next = std::move(refreshed).value();
          if (!next.refresh_token) {
            // RFC 6749 6: the server MAY keep the old refresh token valid and not return one.
            next.refresh_token = token.refresh_token;
            if (!next.refresh_token_expires_at) {
              next.refresh_token_expires_at = token.refresh_token_expires_at;
            }
          }
          spdlog::info("refreshed token of connection {} (provider {})", current.id,
                       current.provider_id);
          return core::RefreshOutcome(core::RefreshNewToken{std::move(next)});
        }
        const core::Error& error = refreshed.error();
        if (error.code == ErrorCode::kReauthorizationRequired) {
          // We hold the refresh lock and re-read the row, so this is not a lost race with
          // another replica: the provider really refuses this grant.
          spdlog::warn("provider {} rejected the refresh token of connection {}: {}",
                       current.provider_id, current.id, error.detail);
          return core::RefreshOutcome(core::RefreshMarkInvalid{
              provider.display_name + " rejected the stored refresh token ("
              + (error.detail.empty() ? "invalid_grant" : error.detail) + ")"});
        }
        transient = error;
        return std::move(refreshed).TakeError();
      });
  if (!stored.ok()) {
    if (transient && (transient->code == ErrorCode::kUnavailable)) {
      spdlog::warn("transient failure refreshing connection {}: {}", connection_id,
                   transient->message);
      return MakeError(ErrorCode::kUnavailable,
                       "The provider is temporarily unavailable; the token could not be "
                       "refreshed. Try again shortly.",
                       transient->detail);
    }
    return stored;
  }
  return Usable(std::move(stored).value());
}

}  // namespace keybridge::service
