// TokenService: hands out access tokens that are valid for at least the asked time, refreshing
// them when needed. Refresh tokens may rotate (RFC 9700 §4.14: each refresh token is single use),
// so a lost race loses the grant; the rules are:
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
#include "core/repositories.h"
#include "core/result.h"
#include "core/url.h"
#include "service/provider_gateway.h"

namespace keybridge::service {

struct TokenServiceOptions {
  // A read refreshes tokens that expire within this margin (or within min_valid, if larger).
  core::Seconds refresh_margin{300};
  // The public base URL, for the reconnect link in errors.
  std::string public_url;
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
               ProviderGateway& gateway, const core::Clock& clock, TokenServiceOptions options);

  // The caller's connection with a token valid for at least max(margin, min_valid) when the
  // provider allows it. kNotFound (absent or someone else's), kPermissionDenied (pending: never
  // connected), kReauthorizationRequired (the provider rejected the refresh token; message names
  // the reconnect URL), kUnavailable (transient provider failure), kUpstreamFailed.
  //
  // A session caller (Caller::session) gets a connection only within its scope, else
  // kPermissionDenied (see CheckSessionScope).
  core::Result<core::Connection> FreshConnection(const core::Caller& caller,
                                                 const std::string& connection_id,
                                                 core::Seconds min_valid);
  core::Result<core::Connection> FreshConnection(const core::Caller& caller,
                                                 const std::string& connection_id,
                                                 const TokenDemand& demand);
  // OK unless `caller` is a session whose scope covers neither `connection_id` nor a repository
  // that `provider_id` serves (ProviderServing); then kPermissionDenied. Non-session callers
  // always pass (ownership is checked elsewhere).
  core::Status CheckSessionScope(const core::Caller& caller, const std::string& provider_id,
                                 const std::string& connection_id);
  // For routes addressed by repository URL (git credentials, the repository check): a session
  // may use its owner's connection for `repository` only when that connection is in its scope or
  // `repository` is one of its scoped repositories (core::SameRepository) — a session scoped to
  // repository A gets no token for B on the same provider. Non-session callers always pass.
  core::Status CheckSessionRepositoryScope(const core::Caller& caller, const core::Url& repository,
                                           const std::string& connection_id) const;
  // The provider serving the repository at `repository_url` by the longest-prefix rule of
  // core/repository_match.h (MatchProvider); nullopt if none does. kInvalidArgument if the URL is
  // not a usable http(s) repository URL (core::ParseRepositoryUrl).
  core::Result<std::optional<core::Provider>> ProviderServing(std::string_view repository_url);
  // Background refresher entry point: refreshes `connection_id` if it has a refresh token,
  // regardless of the access token's expiry (to keep the grant alive). No ownership check.
  core::Status KeepAlive(const std::string& connection_id);

  // The URL where the owner of a connection to `provider_id` can reconnect.
  std::string ReconnectUrl(const std::string& provider_id) const;

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
  const TokenServiceOptions options_;
  std::mutex mu_;
  std::map<std::string, std::shared_future<core::Result<core::Connection>>> inflight_;
};

// Audit line for every access token handed to a client (who, which session token, which
// connection, through which route); never the token. Call it right before the response is sent.
void AuditTokenHandedOut(const core::Caller& caller, const core::Connection& connection,
                         std::string_view via);

}  // namespace keybridge::service
