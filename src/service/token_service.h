// TokenService: hands out access tokens that are valid for at least the asked time, refreshing
// them when needed. The refresh is the part peers get wrong (peers.md 8.1), so the rules are:
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
#include <string>

#include "core/caller.h"
#include "core/clock.h"
#include "core/connection.h"
#include "core/repositories.h"
#include "core/result.h"
#include "service/provider_gateway.h"

namespace keybridge::service {

struct TokenServiceOptions {
  // A read refreshes tokens that expire within this margin (or within min_valid, if larger).
  core::Seconds refresh_margin{300};
  // The public base URL, for the reconnect link in errors.
  std::string public_url;
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
  core::Result<core::Connection> FreshConnection(const core::Caller& caller,
                                                 const std::string& connection_id,
                                                 core::Seconds min_valid);
  // Background refresher entry point: refreshes `connection_id` if it has a refresh token,
  // regardless of the access token's expiry (to keep the grant alive). No ownership check.
  core::Status KeepAlive(const std::string& connection_id);

  // The URL where the owner of a connection to `provider_id` can reconnect.
  std::string ReconnectUrl(const std::string& provider_id) const;

 private:
  // Single-flight: concurrent callers for one connection share one RefreshUnderLock.
  core::Result<core::Connection> SharedRefresh(const std::string& connection_id,
                                               core::Seconds min_valid, bool force);
  core::Result<core::Connection> RefreshUnderLock(const std::string& connection_id,
                                                  core::Seconds min_valid, bool force);
  core::Result<core::Connection> Usable(core::Connection connection) const;

  core::ConnectionRepository& connections_;
  core::ProviderRepository& providers_;
  ProviderGateway& gateway_;
  const core::Clock& clock_;
  const TokenServiceOptions options_;
  std::mutex mu_;
  std::map<std::string, std::shared_future<core::Result<core::Connection>>> inflight_;
};

}  // namespace keybridge::service
