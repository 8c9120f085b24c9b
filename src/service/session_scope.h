// SessionScopePolicy: every rule about what a session token may reach, in one place.
//  - When a token is minted (CheckRequest): its scope names only the user's own connections and
//    repository URLs that an integration serves; an empty scope is refused (default deny).
//  - When a token asks for a connection's access token (CheckConnection, applied by
//    TokenService::FreshConnection): the connection is in its scope, or one of its scoped
//    repositories is served by the connection's provider.
//  - When a token asks for a repository by URL (CheckRepository: git credentials, the repository
//    check): the connection is in its scope, or the repository is one of its scoped ones
//    (core::SameRepository), so a session scoped to repository A gets no token for B on the same
//    provider.
// Callers that are not sessions always pass; ownership is checked elsewhere. Which routes a
// session may call at all is the routes' access table, not this policy.
#pragma once

#include <string>
#include <vector>

#include "core/caller.h"
#include "core/repositories.h"
#include "core/result.h"
#include "core/url.h"
#include "service/provider_matcher.h"

namespace keybridge::service {

class SessionScopePolicy {
 public:
  // References must outlive the policy. Thread-safe.
  SessionScopePolicy(core::ConnectionRepository& connections, ProviderMatcher& providers);

  // The scope `caller` asks for when minting a token. Removes duplicates in place, then
  // kInvalidArgument naming the entry for: an empty scope, more than kMaxSessionScopeEntries
  // entries in either list, a connection id that is not the caller's, a URL that is not an http(s)
  // repository URL or that no integration serves. Providers are read at most once.
  core::Status CheckRequest(const core::Caller& caller,
                            std::vector<core::ConnectionId>& connection_ids,
                            std::vector<std::string>& repository_urls);
  // OK unless `caller` is a session whose scope covers neither `connection_id` nor a repository
  // that `provider_id` serves; then kPermissionDenied. Providers are read at most once, however
  // many repositories the scope names.
  core::Status CheckConnection(const core::Caller& caller, const core::ProviderId& provider_id,
                               const core::ConnectionId& connection_id);
  // For requests addressed by repository URL: OK unless `caller` is a session whose scope covers
  // neither `connection_id` (may be "" when the caller has no connection) nor `repository`; then
  // kPermissionDenied. Reads nothing.
  static core::Status CheckRepository(const core::Caller& caller, const core::Url& repository,
                                      const core::ConnectionId& connection_id);

 private:
  core::ConnectionRepository& connections_;
  ProviderMatcher& providers_;
};

}  // namespace keybridge::service
