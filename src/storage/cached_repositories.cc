#include "storage/cached_repositories.h"

#include <utility>

namespace keybridge::storage {
namespace {

// The one read-through step: answer from the cache, else read and fill (never a failure or a
// not-found).
template <typename Value, typename Read>
core::Result<Value> ReadThrough(ReadCache<Value>& cache, const std::string& key, Read read) {
  if (std::optional<Value> cached = cache.Get(key)) {
    return std::move(*cached);
  }
  const auto ticket = cache.BeginFill();
  core::Result<Value> read_value = read();
  if (read_value.ok()) {
    cache.Fill(key, *read_value, ticket);
  }
  return read_value;
}

// Runs a write, then drops `key` whatever the write answered (a failed write may still have
// committed, e.g. when the answer was lost).
template <typename Value, typename Write>
auto WriteThrough(ReadCache<Value>& cache, const std::string& key, Write write) {
  auto result = write();
  cache.Invalidate(key);
  return result;
}

}  // namespace

// --- connections ------------------------------------------------------------------------------

CachedConnectionRepository::CachedConnectionRepository(
    std::unique_ptr<core::ConnectionRepository> inner, std::size_t capacity, ChangeFeed& feed)
    : inner_(std::move(inner)),
      cache_(std::string(kConnectionsTable), capacity, feed),
      by_user_(std::string(kUserConnections), capacity, feed) {}

void CachedConnectionRepository::Invalidate(const core::ConnectionId& id,
                                            const core::Result<core::Connection>& written) {
  cache_.Invalidate(id.value());
  if (written.ok()) {
    by_user_.Invalidate(written->user_id.value());
  } else {
    by_user_.Clear();
  }
}

core::Result<std::vector<core::Connection>> CachedConnectionRepository::ListForUser(
    const core::UserId& user_id) {
  return ReadThrough(by_user_, user_id.value(), [&] { return inner_->ListForUser(user_id); });
}

core::Result<core::Connection> CachedConnectionRepository::Find(const core::ConnectionId& id) {
  return ReadThrough(cache_, id.value(), [&] { return inner_->Find(id); });
}

core::Result<core::Connection> CachedConnectionRepository::FindOrInsert(
    const core::Connection& candidate) {
  core::Result<core::Connection> connection = inner_->FindOrInsert(candidate);
  Invalidate(connection.ok() ? connection->id : candidate.id, connection);
  return connection;
}

core::Result<core::Connection> CachedConnectionRepository::StoreToken(const core::ConnectionId& id,
                                                                      const core::TokenSet& token,
                                                                      core::TimePoint now) {
  core::Result<core::Connection> connection = inner_->StoreToken(id, token, now);
  Invalidate(id, connection);
  return connection;
}

core::Result<core::Connection> CachedConnectionRepository::WithRefreshLock(
    const core::ConnectionId& id,
    const std::function<core::Result<core::RefreshOutcome>(const core::Connection&)>& refresh) {
  core::Result<core::Connection> connection = inner_->WithRefreshLock(id, refresh);
  Invalidate(id, connection);
  return connection;
}

core::Result<std::optional<core::Connection>> CachedConnectionRepository::Delete(
    const core::ConnectionId& id) {
  core::Result<std::optional<core::Connection>> deleted = inner_->Delete(id);
  cache_.Invalidate(id.value());
  by_user_.Clear();  // whose it was is not known here; deletions are rare
  return deleted;
}

core::Result<std::vector<core::ConnectionId>> CachedConnectionRepository::ClaimDueRefreshes(
    core::TimePoint now, core::Seconds claim_for, std::size_t limit) {
  // Only the due time changes, which no cached Connection carries.
  return inner_->ClaimDueRefreshes(now, claim_for, limit);
}

core::Result<std::int64_t> CachedConnectionRepository::CountForProvider(
    const core::ProviderId& provider_id) {
  return inner_->CountForProvider(provider_id);
}

core::Result<std::vector<core::Connection>> CachedConnectionRepository::InvalidateForProvider(
    const core::ProviderId& provider_id, const std::string& reason, core::TimePoint now) {
  core::Result<std::vector<core::Connection>> before =
      inner_->InvalidateForProvider(provider_id, reason, now);
  // Also on failure: the transaction may have committed before the answer was lost.
  cache_.Clear();
  by_user_.Clear();
  return before;
}

// --- session tokens ---------------------------------------------------------------------------

CachedSessionTokenRepository::CachedSessionTokenRepository(
    std::unique_ptr<core::SessionTokenRepository> inner, std::size_t capacity, ChangeFeed& feed)
    : inner_(std::move(inner)), cache_(std::string(kSessionTokensTable), capacity, feed) {}

core::Status CachedSessionTokenRepository::Insert(const core::SessionToken& token) {
  return WriteThrough(cache_, token.token_hash, [&] { return inner_->Insert(token); });
}

core::Result<core::SessionToken> CachedSessionTokenRepository::FindByHash(
    const std::string& token_hash) {
  return ReadThrough(cache_, token_hash, [&] { return inner_->FindByHash(token_hash); });
}

core::Result<std::vector<core::SessionToken>> CachedSessionTokenRepository::ListForUser(
    const core::UserId& user_id) {
  return inner_->ListForUser(user_id);
}

core::Result<bool> CachedSessionTokenRepository::Revoke(const std::string& id,
                                                        const core::UserId& user_id,
                                                        core::TimePoint now) {
  // Revoked by id, cached by hash: drop them all (revocations are rare).
  core::Result<bool> revoked = inner_->Revoke(id, user_id, now);
  cache_.Clear();
  return revoked;
}

// --- API tokens -------------------------------------------------------------------------------

CachedApiTokenRepository::CachedApiTokenRepository(std::unique_ptr<core::ApiTokenRepository> inner,
                                                   std::size_t capacity, ChangeFeed& feed)
    : inner_(std::move(inner)), cache_(std::string(kApiTokensTable), capacity, feed) {}

core::Status CachedApiTokenRepository::Insert(const core::ApiToken& token) {
  return WriteThrough(cache_, token.token_hash, [&] { return inner_->Insert(token); });
}

core::Result<core::ApiToken> CachedApiTokenRepository::FindByHash(const std::string& token_hash) {
  return ReadThrough(cache_, token_hash, [&] { return inner_->FindByHash(token_hash); });
}

core::Result<std::vector<core::ApiToken>> CachedApiTokenRepository::List() {
  return inner_->List();
}

core::Result<bool> CachedApiTokenRepository::Revoke(const std::string& id, core::TimePoint now) {
  core::Result<bool> revoked = inner_->Revoke(id, now);
  cache_.Clear();
  return revoked;
}

// --- providers --------------------------------------------------------------------------------

namespace {
constexpr std::string_view kAllProviders = "all";
}  // namespace

CachedProviderRepository::CachedProviderRepository(std::unique_ptr<core::ProviderRepository> inner,
                                                   ChangeFeed& feed)
    : inner_(std::move(inner)), cache_(std::string(kProvidersTable), 1, feed) {}

core::Result<std::vector<core::Provider>> CachedProviderRepository::List() {
  return ReadThrough(cache_, std::string(kAllProviders), [&] { return inner_->List(); });
}

core::Result<core::Provider> CachedProviderRepository::Find(const core::ProviderId& id) {
  KEYBRIDGE_ASSIGN_OR_RETURN(std::vector<core::Provider> all, List());
  for (core::Provider& provider : all) {
    if (provider.id == id) {
      return std::move(provider);
    }
  }
  return inner_->Find(id);  // its not-found answer, worded once
}

core::Status CachedProviderRepository::Insert(const core::Provider& provider) {
  return WriteThrough(cache_, std::string(kAllProviders), [&] { return inner_->Insert(provider); });
}

core::Status CachedProviderRepository::Update(const core::Provider& provider) {
  return WriteThrough(cache_, std::string(kAllProviders), [&] { return inner_->Update(provider); });
}

core::Result<bool> CachedProviderRepository::Delete(const core::ProviderId& id) {
  return WriteThrough(cache_, std::string(kAllProviders), [&] { return inner_->Delete(id); });
}

}  // namespace keybridge::storage
