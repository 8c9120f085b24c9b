// Where keybridge git-proxy gets the Authorization it injects: a keybridge server's
// GET /api/data/git/credentials?provider_id=&path= (with the session's KEYBRIDGE_TOKEN), cached per
// repository until shortly before the token expires. The server does the refreshing (single
// flight across replicas); the proxy only asks again early enough.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/http_client.h"
#include "core/result.h"
#include "core/secret.h"
#include "gitproxy/proxy_target.h"

namespace keybridge::gitproxy {

struct UpstreamCredential {
  std::string repository_url;  // the provider URL joined with the repository path
  core::Secret authorization;  // "Basic base64(username:token)" (RFC 7617; git over HTTPS)
  std::string token_sha256;    // hex SHA-256 of the token, to report it rejected
  std::optional<core::TimePoint> expires_at;
  core::TimePoint fetched_at{};
};

class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  // A credential for `target`'s repository. With `rejected_sha256` set, the provider rejected the
  // token with that digest: the server refreshes it first (once, however many ask). Errors carry a
  // sentence for the person running git: kNotFound (no connection: connect at <url>),
  // kPermissionDenied (outside the session's scope), kReauthorizationRequired, kUnauthenticated
  // (keybridge refused KEYBRIDGE_TOKEN), kUnavailable (keybridge or the provider is down).
  virtual core::Result<UpstreamCredential> Fetch(const ProxyTarget& target,
                                                 const std::string& rejected_sha256) = 0;
  // A sentence naming what would give access when the provider refused the repository (for a
  // GitHub App: the install URL when the App is not installed for it), or "".
  virtual std::string AccessHint(const std::string& repository_url) = 0;
};

// The real source: a keybridge server.
class KeybridgeCredentials final : public CredentialSource {
 public:
  // `http` and `clock` must outlive this. `base_url` without a trailing slash.
  KeybridgeCredentials(core::HttpClient& http, const core::Clock& clock, std::string base_url,
                       core::Secret token);
  core::Result<UpstreamCredential> Fetch(const ProxyTarget& target,
                                         const std::string& rejected_sha256) override;
  std::string AccessHint(const std::string& repository_url) override;

 private:
  core::HttpClient& http_;
  const core::Clock& clock_;
  std::string base_url_;
  core::Secret token_;
};

struct CredentialCacheOptions {
  // A cached token is used while it stays valid for longer than this (the server hands out tokens
  // valid for at least 5 minutes, so a cached one is asked for again well before it expires).
  core::Seconds refetch_margin{120};
  // Every token is asked for again after this (with or without an expiry), so a revoked session
  // token or a disconnected connection stops working within it.
  core::Seconds max_age{300};
  std::size_t max_entries = 1024;
};

// Thread-safe cache in front of a CredentialSource, one entry per repository (a session scoped to
// one repository must not reach another through a cached token of the same provider).
class CredentialCache {
 public:
  CredentialCache(CredentialSource& source, const core::Clock& clock,
                  CredentialCacheOptions options = {});
  core::Result<UpstreamCredential> Get(const ProxyTarget& target);
  // The provider answered 401 to `rejected`: ask the server for a refreshed token.
  core::Result<UpstreamCredential> Replace(const ProxyTarget& target,
                                           const UpstreamCredential& rejected);
  // Drops the entry (after a 401 that cannot be retried: the next git command gets a new token).
  void Forget(const ProxyTarget& target);
  // CredentialSource::AccessHint, uncached (asked only after a refusal).
  std::string Hint(const std::string& repository_url) { return source_.AccessHint(repository_url); }
  std::size_t size() const;

 private:
  core::Result<UpstreamCredential> Store(const ProxyTarget& target,
                                         core::Result<UpstreamCredential> fetched);

  CredentialSource& source_;
  const core::Clock& clock_;
  CredentialCacheOptions options_;
  mutable std::mutex mutex_;
  std::map<std::string, UpstreamCredential> entries_;  // by ProxyTarget::RepositoryKey()
};

}  // namespace keybridge::gitproxy
