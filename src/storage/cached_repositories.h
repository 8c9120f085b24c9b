// Cached repositories: the repository ports of the hot path (who is calling, which connection,
// which integrations) answered from memory, in front of the SQL repositories. A token read in the
// steady state then touches neither the database nor a lock shared with slow work, and can be
// answered on an I/O thread (core/memory_only.h).
//
// Correctness comes from the ChangeFeed (storage/change_feed.h): the caches answer only while it
// vouches for them, so a change made by any replica or process is seen within its promise. Writes
// made through these repositories also invalidate their keys at once, so a replica always reads
// its own writes. Not-found answers are never cached (a made-up token costs a database read,
// bounded by its compartment). Decrypted token sets stay in memory while cached; core::Secret
// wipes them when they are evicted or replaced.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/repositories.h"
#include "storage/change_feed.h"
#include "storage/read_cache.h"

namespace keybridge::storage {

// The tables whose changes the caches follow (the names in the change payloads, migration 0007).
inline constexpr std::string_view kConnectionsTable = "oauth2_connections";
inline constexpr std::string_view kUserConnections = "user_connections";  // keyed by user id
inline constexpr std::string_view kSessionTokensTable = "session_tokens";
inline constexpr std::string_view kApiTokensTable = "api_tokens";
inline constexpr std::string_view kProvidersTable = "oauth2_clients";

class CachedConnectionRepository final : public core::ConnectionRepository {
 public:
  CachedConnectionRepository(std::unique_ptr<core::ConnectionRepository> inner,
                             std::size_t capacity, ChangeFeed& feed);

  core::Result<std::vector<core::Connection>> ListForUser(const core::UserId& user_id) override;
  core::Result<core::Connection> Find(const core::ConnectionId& id) override;
  core::Result<core::Connection> FindOrInsert(const core::Connection& candidate) override;
  core::Result<core::Connection> StoreToken(const core::ConnectionId& id,
                                            const core::TokenSet& token,
                                            core::TimePoint now) override;
  core::Result<core::Connection> WithRefreshLock(
      const core::ConnectionId& id,
      const std::function<core::Result<core::RefreshOutcome>(const core::Connection&)>& refresh)
      override;
  core::Result<std::optional<core::Connection>> Delete(const core::ConnectionId& id) override;
  core::Result<std::vector<core::ConnectionId>> ClaimDueRefreshes(core::TimePoint now,
                                                                  core::Seconds claim_for,
                                                                  std::size_t limit) override;
  core::Result<std::int64_t> CountForProvider(const core::ProviderId& provider_id) override;
  core::Result<std::vector<core::Connection>> InvalidateForProvider(
      const core::ProviderId& provider_id, const std::string& reason, core::TimePoint now) override;

  ReadCache<core::Connection>& cache() { return cache_; }
  ReadCache<std::vector<core::Connection>>& by_user() { return by_user_; }

 private:
  // After a write: the connection's own entry, and its user's list (all lists when the write's
  // answer does not name the user).
  void Invalidate(const core::ConnectionId& id, const core::Result<core::Connection>& written);

  std::unique_ptr<core::ConnectionRepository> inner_;
  ReadCache<core::Connection> cache_;
  ReadCache<std::vector<core::Connection>> by_user_;  // ListForUser (git credentials)
};

class CachedSessionTokenRepository final : public core::SessionTokenRepository {
 public:
  CachedSessionTokenRepository(std::unique_ptr<core::SessionTokenRepository> inner,
                               std::size_t capacity, ChangeFeed& feed);

  core::Status Insert(const core::SessionToken& token) override;
  core::Result<core::SessionToken> FindByHash(const std::string& token_hash) override;
  core::Result<std::vector<core::SessionToken>> ListForUser(const core::UserId& user_id) override;
  core::Result<bool> Revoke(const std::string& id, const core::UserId& user_id,
                            core::TimePoint now) override;

  ReadCache<core::SessionToken>& cache() { return cache_; }

 private:
  std::unique_ptr<core::SessionTokenRepository> inner_;
  ReadCache<core::SessionToken> cache_;
};

class CachedApiTokenRepository final : public core::ApiTokenRepository {
 public:
  CachedApiTokenRepository(std::unique_ptr<core::ApiTokenRepository> inner, std::size_t capacity,
                           ChangeFeed& feed);

  core::Status Insert(const core::ApiToken& token) override;
  core::Result<core::ApiToken> FindByHash(const std::string& token_hash) override;
  core::Result<std::vector<core::ApiToken>> List() override;
  core::Result<bool> Revoke(const std::string& id, core::TimePoint now) override;

  ReadCache<core::ApiToken>& cache() { return cache_; }

 private:
  std::unique_ptr<core::ApiTokenRepository> inner_;
  ReadCache<core::ApiToken> cache_;
};

// The integrations: few and read on every git-credential request, so the whole list is one entry.
class CachedProviderRepository final : public core::ProviderRepository {
 public:
  CachedProviderRepository(std::unique_ptr<core::ProviderRepository> inner, ChangeFeed& feed);

  core::Result<std::vector<core::Provider>> List() override;
  core::Result<core::Provider> Find(const core::ProviderId& id) override;
  core::Status Insert(const core::Provider& provider) override;
  core::Status Update(const core::Provider& provider) override;
  core::Result<bool> Delete(const core::ProviderId& id) override;

  ReadCache<std::vector<core::Provider>>& cache() { return cache_; }

 private:
  std::unique_ptr<core::ProviderRepository> inner_;
  ReadCache<std::vector<core::Provider>> cache_;
};

}  // namespace keybridge::storage
