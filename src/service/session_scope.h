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
//  - Container images (image_repositories, "registry-host[:port][/path-prefix]"): CheckImage
//    (the image check, pull secrets) needs an entry covering the image (core::ImageWithin),
//    CheckRegistry (registry credentials, which docker asks per registry) an entry on that
//    registry. A token without image_repositories gets neither, whatever else it may reach; an
//    entry lets FreshConnection hand out the token of the registry's integration.
// Callers that are not sessions always pass; ownership is checked elsewhere. Which routes a
// session may call at all is the routes' access table, not this policy.
#pragma once

#include <string>
#include <vector>

#include "core/caller.h"
#include "core/image_reference.h"
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
  // The same with container image scopes: each image_repositories entry must be
  // "registry-host[:port][/path-prefix]" naming a registry an integration serves
  // (ProviderSnapshot::MatchRegistry); entries are normalised (lower-case host, no trailing '/').
  core::Status CheckRequest(const core::Caller& caller,
                            std::vector<core::ConnectionId>& connection_ids,
                            std::vector<std::string>& repository_urls,
                            std::vector<std::string>& image_repositories);
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
  // OK unless `caller` is a session none of whose image_repositories covers `image`; then
  // kPermissionDenied. Reads nothing.
  static core::Status CheckImage(const core::Caller& caller, const core::ImageReference& image);
  // OK unless `caller` is a session none of whose image_repositories is on `registry`
  // (host[:port]); then kPermissionDenied naming the registry. Reads nothing.
  static core::Status CheckRegistry(const core::Caller& caller, std::string_view registry);

 private:
  core::ConnectionRepository& connections_;
  ProviderMatcher& providers_;
};

}  // namespace keybridge::service
