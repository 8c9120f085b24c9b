// GitCredentialService: answers "which user name and token does git use for this remote?" for
// `keybridge git-credential` (through GET /api/data/git/credentials). It finds the provider that
// serves the remote (ProviderMatcher), the caller's connection to it, and a token
// fresh enough for the git command; when there is no usable connection it says where to connect.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/caller.h"
#include "core/clock.h"
#include "core/provider.h"
#include "core/public_urls.h"
#include "core/repositories.h"
#include "core/repository_match.h"
#include "core/result.h"
#include "core/secret.h"
#include "service/provider_matcher.h"
#include "service/token_service.h"

namespace keybridge::service {

struct GitCredential {
  std::string username;   // "oauth2" (GitLab, OIDC) or "x-access-token" (GitHub)
  core::Secret password;  // the access token
  std::optional<core::TimePoint> expires_at;
  core::Connection connection;  // the connection the token belongs to (for the audit line)
};

struct GitCredentialLookup {
  core::Provider provider;  // the provider that serves the remote
  // The repository's URL at the provider: the remote itself, or for LookupAt the provider URL
  // joined with the repository path (where keybridge git-proxy forwards to).
  std::string repository_url;
  // The credential, or why there is none: kNotFound (no connection, or connecting never
  // finished), kReauthorizationRequired (the provider rejected the stored grant),
  // kPermissionDenied (a session token not scoped to this repository), kUnavailable, ...
  core::Result<GitCredential> credential;
  // Where the user (re)connects, set when connecting would help: no connection yet, or the
  // grant must be renewed.
  std::string connect_url;
  // GitHub Apps: where the App is installed, since a token only reaches installed repositories.
  std::string install_url;
};

class GitCredentialService {
 public:
  // All references must outlive the service. Thread-safe.
  GitCredentialService(core::ProviderRepository& providers, core::ConnectionRepository& connections,
                       ProviderMatcher& matcher, TokenService& tokens, core::PublicUrls urls);

  // Errors only where no provider is involved: kUnauthenticated (anonymous caller),
  // kInvalidArgument (not an absolute http(s) URL), kNotFound (no provider serves the URL: git
  // should try its other credential helpers), repository failures.
  core::Result<GitCredentialLookup> Lookup(const core::Caller& caller,
                                           const std::string& repository_url,
                                           const TokenDemand& demand);
  // The same for the repository at `repository_path` ("group/project.git") below the URL of the
  // provider `provider_id`, without prefix matching: keybridge git-proxy names the provider in
  // its own URL. kNotFound for an unknown provider, kInvalidArgument for a path that could leave
  // the provider's URL (empty, ".", ".." or encoded segments; see core::ParseRepositoryUrl).
  core::Result<GitCredentialLookup> LookupAt(const core::Caller& caller,
                                             const core::ProviderId& provider_id,
                                             std::string_view repository_path,
                                             const TokenDemand& demand);

  // Where the routes record what they hand out (TokenService's audit trail; null: none).
  AuditLog* audit() const { return tokens_.audit(); }

 private:
  core::Result<GitCredentialLookup> LookupFor(const core::Caller& caller, core::Provider provider,
                                              const core::RepositoryUrl& repository,
                                              const TokenDemand& demand);

  core::ProviderRepository& providers_;
  core::ConnectionRepository& connections_;
  ProviderMatcher& matcher_;
  TokenService& tokens_;
  const core::PublicUrls urls_;
};

}  // namespace keybridge::service
