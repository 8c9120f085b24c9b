// TokenService: hands out access tokens that are valid for at least the asked time, refreshing
// them when needed, and nothing else: what a session may reach is SessionScopePolicy's to decide
// (applied here before a token leaves), which provider serves a URL is ProviderMatcher's, and
// links are core::PublicUrls'. Refresh tokens may rotate (RFC 9700 §4.14: each refresh token is
// single use), so a lost race loses the grant; the rules are:
//  - one refresh per connection at a time: an in-process single-flight in front of the store's
//    cross-replica refresh lock;
//  - the row is re-read after the lock, so a waiter adopts the winner's token instead of
//    replaying a spent refresh token;
//  - the new token set is persisted before anyone gets it;
//  - invalid_grant/bad_refresh_token (under the lock, so not our own race) marks the connection
//    invalid_credentials with the reason; timeouts, 5xx and 429 are transient (503, refresh
//    token kept, connection untouched).
#pragma once

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
#include "service/provider_gateway.h"
#include "service/session_scope.h"

namespace keybridge::service {

struct TokenServiceOptions {
  // A read refreshes tokens that expire within this margin (or within min_valid, if larger).
  core::Seconds refresh_margin{300};
  // For the reconnect link in errors.
  core::PublicUrls public_urls;
};

// What a reader needs from FreshConnection.
struct TokenDemand {
  // The token must stay valid at least this long (a larger refresh margin still applies).
  core::Seconds min_valid{0};
  // Refresh even though the stored token looks valid, because a client saw the provider reject
  // it (git erased it). With `rejected_token_sha256` (hex SHA-256 of the rejected access token)
  // only while the stored token is still that one, so several clients that saw the same
  // rejection cause one refresh, not one each.
  bool force_refresh = false;
  std::string rejected_token_sha256;
};

class TokenService {
 public:
  // All references must outlive the service. Thread-safe.
  TokenService(core::ConnectionRepository& connections, core::ProviderRepository& providers,
               ProviderGateway& gateway, const core::Clock& clock, SessionScopePolicy& scope,
               TokenServiceOptions options);

  // The caller's connection with a token valid for at least max(margin, min_valid) when the
  // provider allows it. kNotFound (absent or someone else's), kPermissionDenied (pending: never
  // connected), kReauthorizationRequired (the provider rejected the refresh token; message names
  // the reconnect URL), kUnavailable (transient provider failure), kUpstreamFailed.
  //
  // A session caller (Caller::session) gets a connection only within its scope, else
  // kPermissionDenied (SessionScopePolicy::CheckConnection).
  core::Result<core::Connection> FreshConnection(const core::Caller& caller,
                                                 const std::string& connection_id,
                                                 core::Seconds min_valid);
  core::Result<core::Connection> FreshConnection(const core::Caller& caller,
                                                 const std::string& connection_id,
                                                 const TokenDemand& demand);
  // Background refresher entry point: refreshes `connection_id` if it has a refresh token,
  // regardless of the access token's expiry (to keep the grant alive). No ownership check.
  core::Status KeepAlive(const std::string& connection_id);

 private:
  // Single-flight: concurrent callers for one connection share one RefreshUnderLock.
  // `force`: refresh even if valid for `min_valid`; with a non-empty `only_if_sha256`, only
  // while the stored access token still hashes to it (re-checked under the lock).
  core::Result<core::Connection> SharedRefresh(const std::string& connection_id,
                                               core::Seconds min_valid, bool force,
                                               const std::string& only_if_sha256 = "");
  core::Result<core::Connection> RefreshUnderLock(const std::string& connection_id,
                                                  core::Seconds min_valid, bool force,
                                                  const std::string& only_if_sha256);
  core::Result<core::Connection> Usable(core::Connection connection) const;

  core::ConnectionRepository& connections_;
  core::ProviderRepository& providers_;
  ProviderGateway& gateway_;
  const core::Clock& clock_;
  SessionScopePolicy& scope_;
  const TokenServiceOptions options_;
  std::mutex mu_;
  std::map<std::string, std::shared_future<core::Result<core::Connection>>> inflight_;
};

// Audit line for every access token handed to a client (who, which session token, which
// connection, through which route); never the token. Call it right before the response is sent.
void AuditTokenHandedOut(const core::Caller& caller, const core::Connection& connection,
                         std::string_view via);

}  // namespace keybridge::service
