// In-memory repositories: the working fakes behind service unit tests. tests/contract runs the
// same typed suites on them as on SQLite and PostgreSQL (backend "InMemory"), so they keep the
// promises of core/repositories.h. InMemoryStore wires them together the way the schema's
// foreign keys do (deleting a provider deletes its connections and their authorization flows).
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/repositories.h"
#include "core/text.h"
#include "support/in_memory_audit.h"
#include "support/in_memory_trials.h"

namespace keybridge::testing {

class InMemoryProviderRepository final : public core::ProviderRepository {
 public:
  InMemoryProviderRepository() = default;
  // `on_delete` runs with the id of each deleted provider, after the delete (ON DELETE CASCADE).
  explicit InMemoryProviderRepository(std::function<void(const core::ProviderId&)> on_delete)
      : on_delete_(std::move(on_delete)) {}

  core::Result<std::vector<core::Provider>> List() override {
    std::lock_guard lock(mu_);
    std::vector<core::Provider> out;
    for (const auto& [id, p] : rows_) {
      out.push_back(p);
    }
    return out;
  }
  core::Result<core::Provider> Find(const core::ProviderId& id) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(id);
    if (it == rows_.end()) {
      return core::MakeError(core::ErrorCode::kNotFound, "no provider " + id.value());
    }
    return it->second;
  }
  core::Status Insert(const core::Provider& provider) override {
    std::lock_guard lock(mu_);
    if (!rows_.emplace(provider.id, provider).second) {
      return core::MakeError(core::ErrorCode::kConflict,
                             "OAuth2 Client with id '" + provider.id.value() + "' already exists.");
    }
    return core::OkStatus();
  }
  core::Status Update(const core::Provider& provider) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(provider.id);
    if (it == rows_.end()) {
      return core::MakeError(core::ErrorCode::kNotFound, "no provider " + provider.id.value());
    }
    it->second = provider;
    return core::OkStatus();
  }
  core::Result<bool> Delete(const core::ProviderId& id) override {
    bool deleted = false;
    {
      std::lock_guard lock(mu_);
      deleted = rows_.erase(id) > 0;
    }
    if (deleted && on_delete_) {
      on_delete_(id);
    }
    return deleted;
  }

 private:
  std::function<void(const core::ProviderId&)> on_delete_;
  std::mutex mu_;
  std::map<core::ProviderId, core::Provider> rows_;
};

class InMemoryApiTokenRepository final : public core::ApiTokenRepository {
 public:
  core::Status Insert(const core::ApiToken& token) override {
    std::lock_guard lock(mu_);
    for (const auto& t : rows_) {
      if (t.id == token.id || t.token_hash == token.token_hash) {
        return core::MakeError(core::ErrorCode::kConflict, "duplicate");
      }
    }
    rows_.push_back(token);
    return core::OkStatus();
  }
  core::Result<core::ApiToken> FindByHash(const std::string& token_hash) override {
    std::lock_guard lock(mu_);
    for (const auto& t : rows_) {
      if (t.token_hash == token_hash) {
        return t;
      }
    }
    return core::MakeError(core::ErrorCode::kNotFound, "no token");
  }
  core::Result<std::vector<core::ApiToken>> List() override {
    std::lock_guard lock(mu_);
    std::vector<core::ApiToken> out = rows_;
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
    });
    return out;
  }
  core::Result<bool> Revoke(const std::string& id, core::TimePoint now) override {
    std::lock_guard lock(mu_);
    for (auto& t : rows_) {
      if (t.id == id) {
        if (!t.revoked_at) {
          t.revoked_at = now;
        }
        return true;
      }
    }
    return false;
  }

 private:
  std::mutex mu_;
  std::vector<core::ApiToken> rows_;
};

class InMemoryConnectionRepository final : public core::ConnectionRepository {
 public:
  InMemoryConnectionRepository() = default;
  // `on_delete` runs with the id of each deleted connection, after the delete (ON DELETE CASCADE);
  // `on_invalidate_provider` with the provider id after InvalidateForProvider (its flows go).
  explicit InMemoryConnectionRepository(
      std::function<void(const core::ConnectionId&)> on_delete,
      std::function<void(const core::ProviderId&)> on_invalidate_provider = {})
      : on_delete_(std::move(on_delete)),
        on_invalidate_provider_(std::move(on_invalidate_provider)) {}

  core::Result<std::vector<core::Connection>> ListForUser(const core::UserId& user_id) override {
    std::lock_guard lock(mu_);
    std::vector<core::Connection> out;
    for (const auto& [id, c] : rows_) {
      if (c.user_id == user_id) {
        out.push_back(c);
      }
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.provider_id < b.provider_id; });
    return out;
  }
  core::Result<core::Connection> Find(const core::ConnectionId& id) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(id);
    if (it == rows_.end()) {
      return core::MakeError(core::ErrorCode::kNotFound, "no connection");
    }
    return it->second;
  }
  core::Result<core::Connection> FindOrInsert(const core::Connection& candidate) override {
    std::lock_guard lock(mu_);
    for (const auto& [id, c] : rows_) {
      if (c.user_id == candidate.user_id && c.provider_id == candidate.provider_id) {
        return c;
      }
    }
    rows_[candidate.id] = candidate;
    return candidate;
  }
  core::Result<core::Connection> StoreToken(const core::ConnectionId& id,
                                            const core::TokenSet& token,
                                            core::TimePoint now) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(id);
    if (it == rows_.end()) {
      return core::MakeError(core::ErrorCode::kNotFound, "no connection");
    }
    Apply(it->second, core::RefreshNewToken{token}, now);
    return it->second;
  }
  core::Result<core::Connection> WithRefreshLock(
      const core::ConnectionId& id,
      const std::function<core::Result<core::RefreshOutcome>(const core::Connection&)>& refresh)
      override {
    std::unique_lock refresh_lock(LockFor(id));
    auto current = Find(id);
    if (!current.ok()) {
      return current;
    }
    auto outcome = refresh(*current);
    if (!outcome.ok()) {
      return std::move(outcome).TakeError();
    }
    std::lock_guard lock(mu_);
    auto it = rows_.find(id);
    if (it == rows_.end()) {
      return core::MakeError(core::ErrorCode::kNotFound, "no connection");
    }
    // The SQL compare-and-set on token_version: a write meanwhile (e.g. InvalidateForProvider)
    // wins over this refresh's outcome.
    if (it->second.token_version == current->token_version) {
      Apply(it->second, *outcome, it->second.updated_at);
    }
    return it->second;
  }
  core::Result<std::optional<core::Connection>> Delete(const core::ConnectionId& id) override {
    std::optional<core::Connection> deleted;
    {
      std::lock_guard lock(mu_);
      if (auto it = rows_.find(id); it != rows_.end()) {
        deleted = std::move(it->second);
        rows_.erase(it);
      }
    }
    if (deleted && on_delete_) {
      on_delete_(id);
    }
    return deleted;
  }
  // Most overdue first, ties by id (the SQL ORDER BY refresh_due_at, id).
  core::Result<std::vector<core::ConnectionId>> ClaimDueRefreshes(core::TimePoint now,
                                                                  core::Seconds claim_for,
                                                                  std::size_t limit) override {
    std::lock_guard lock(mu_);
    std::vector<std::pair<core::TimePoint, core::ConnectionId>> due_rows;
    for (const auto& [id, c] : rows_) {
      auto claimed = claimed_until_.find(id);
      const std::optional<core::TimePoint> due = claimed != claimed_until_.end()
                                                     ? std::optional(claimed->second)
                                                 : c.token ? core::RefreshDueAt(*c.token)
                                                           : std::nullopt;
      if (c.status == core::ConnectionStatus::kConnected && due && *due <= now) {
        due_rows.emplace_back(*due, id);
      }
    }
    std::sort(due_rows.begin(), due_rows.end());
    std::vector<core::ConnectionId> out;
    for (const auto& [due, id] : due_rows) {
      if (out.size() >= limit) {
        break;
      }
      claimed_until_[id] = now + claim_for;
      out.push_back(id);
    }
    return out;
  }
  // The provider's side of ON DELETE CASCADE: removes its connections (and, through on_delete,
  // their flows).
  void DeleteForProvider(const core::ProviderId& provider_id) {
    std::vector<core::ConnectionId> deleted;
    {
      std::lock_guard lock(mu_);
      for (auto it = rows_.begin(); it != rows_.end();) {
        if (it->second.provider_id == provider_id) {
          deleted.push_back(it->first);
          it = rows_.erase(it);
        } else {
          ++it;
        }
      }
    }
    if (on_delete_) {
      for (const core::ConnectionId& id : deleted) {
        on_delete_(id);
      }
    }
  }
  core::Result<std::int64_t> CountForProvider(const core::ProviderId& provider_id) override {
    std::lock_guard lock(mu_);
    return static_cast<std::int64_t>(std::count_if(rows_.begin(), rows_.end(), [&](const auto& kv) {
      return kv.second.provider_id == provider_id;
    }));
  }
  core::Result<std::vector<core::Connection>> InvalidateForProvider(
      const core::ProviderId& provider_id, const std::string& reason,
      core::TimePoint now) override {
    std::vector<core::Connection> before;
    {
      std::lock_guard lock(mu_);
      for (auto& [id, c] : rows_) {
        if (c.provider_id != provider_id
            || (!c.token && c.status == core::ConnectionStatus::kPending)) {
          continue;
        }
        before.push_back(c);
        c.token.reset();
        c.status = core::ConnectionStatus::kInvalidCredentials;
        c.status_reason = core::TruncateUtf8(reason, 500);
        ++c.token_version;
        c.updated_at = now;
        claimed_until_.erase(id);
      }
    }
    if (on_invalidate_provider_) {
      on_invalidate_provider_(provider_id);
    }
    return before;
  }

 private:
  void Apply(core::Connection& c, const core::RefreshOutcome& outcome, core::TimePoint now) {
    if (const auto* fresh = std::get_if<core::RefreshNewToken>(&outcome)) {
      claimed_until_.erase(c.id);  // the new token has its own due time
      c.token = fresh->token;
      c.status = core::ConnectionStatus::kConnected;
      c.status_reason.clear();
      ++c.token_version;
      c.updated_at = now;
    } else if (const auto* invalid = std::get_if<core::RefreshMarkInvalid>(&outcome)) {
      c.status = core::ConnectionStatus::kInvalidCredentials;
      c.status_reason = core::TruncateUtf8(invalid->reason, 500);  // as the SQL repository keeps
      ++c.token_version;
    } else if (const auto* note = std::get_if<core::RefreshNoteReason>(&outcome)) {
      c.status_reason = note->reason;  // token and version stay
    }
  }
  std::mutex& LockFor(const core::ConnectionId& id) {
    std::lock_guard lock(mu_);
    return refresh_locks_[id];
  }

  std::function<void(const core::ConnectionId&)> on_delete_;
  std::function<void(const core::ProviderId&)> on_invalidate_provider_;
  std::mutex mu_;
  std::map<core::ConnectionId, core::Connection> rows_;
  std::map<core::ConnectionId, core::TimePoint> claimed_until_;
  std::map<core::ConnectionId, std::mutex> refresh_locks_;
};

class InMemoryAuthorizationFlowRepository final : public core::AuthorizationFlowRepository {
 public:
  core::Status Insert(const core::AuthorizationFlow& flow) override {
    std::lock_guard lock(mu_);
    if (!rows_.emplace(flow.state_hash, flow).second) {
      return core::MakeError(core::ErrorCode::kConflict, "duplicate state");
    }
    return core::OkStatus();
  }
  core::Result<core::AuthorizationFlow> Take(const std::string& state_hash) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(state_hash);
    if (it == rows_.end()) {
      return core::MakeError(core::ErrorCode::kNotFound, "no flow");
    }
    auto flow = it->second;
    rows_.erase(it);
    return flow;
  }
  core::Result<std::int64_t> DeleteExpired(core::TimePoint now) override {
    std::lock_guard lock(mu_);
    std::int64_t n = 0;
    for (auto it = rows_.begin(); it != rows_.end();) {
      if (it->second.expires_at <= now) {
        it = rows_.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  }
  std::size_t size() {
    std::lock_guard lock(mu_);
    return rows_.size();
  }
  // ON DELETE CASCADE from the flow's connection, or from its provider.
  void DeleteForConnection(const core::ConnectionId& connection_id) {
    std::lock_guard lock(mu_);
    std::erase_if(rows_, [&](const auto& kv) { return kv.second.connection_id == connection_id; });
  }
  void DeleteForProvider(const core::ProviderId& provider_id) {
    std::lock_guard lock(mu_);
    std::erase_if(rows_, [&](const auto& kv) { return kv.second.provider_id == provider_id; });
  }

 private:
  std::mutex mu_;
  std::map<std::string, core::AuthorizationFlow> rows_;
};

class InMemorySessionTokenRepository final : public core::SessionTokenRepository {
 public:
  core::Status Insert(const core::SessionToken& token) override {
    std::lock_guard lock(mu_);
    for (const auto& t : rows_) {
      if (t.id == token.id || t.token_hash == token.token_hash) {
        return core::MakeError(core::ErrorCode::kConflict, "duplicate");
      }
    }
    rows_.push_back(token);
    return core::OkStatus();
  }
  core::Result<core::SessionToken> FindByHash(const std::string& token_hash) override {
    std::lock_guard lock(mu_);
    for (const auto& t : rows_) {
      if (t.token_hash == token_hash) {
        return t;
      }
    }
    return core::MakeError(core::ErrorCode::kNotFound, "no session token");
  }
  core::Result<std::vector<core::SessionToken>> ListForUser(const core::UserId& user_id) override {
    std::lock_guard lock(mu_);
    std::vector<core::SessionToken> out;
    for (const auto& t : rows_) {
      if (t.user_id == user_id) {
        out.push_back(t);
      }
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.created_at != b.created_at ? a.created_at < b.created_at : a.id < b.id;
    });
    return out;
  }
  core::Result<bool> Revoke(const std::string& id, const core::UserId& user_id,
                            core::TimePoint now) override {
    std::lock_guard lock(mu_);
    for (auto& t : rows_) {
      if (t.id == id && t.user_id == user_id) {
        if (!t.revoked_at) {
          t.revoked_at = now;
        }
        return true;
      }
    }
    return false;
  }

 private:
  std::mutex mu_;
  std::vector<core::SessionToken> rows_;
};

class InMemoryBrowserSessionRepository final : public core::BrowserSessionRepository {
 public:
  core::Status Insert(const core::BrowserSession& session) override {
    std::lock_guard lock(mu_);
    if (!sessions_.emplace(session.id_hash, session).second) {
      return core::MakeError(core::ErrorCode::kConflict, "duplicate");
    }
    admin_ever_signed_in_ = admin_ever_signed_in_ || session.is_admin;
    return core::OkStatus();
  }
  core::Result<core::BrowserSession> FindByHash(const std::string& id_hash) override {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(id_hash);
    if (it == sessions_.end()) {
      return core::MakeError(core::ErrorCode::kNotFound, "no browser session");
    }
    return it->second;
  }
  core::Status Touch(const std::string& id_hash, core::TimePoint last_seen_at) override {
    std::lock_guard lock(mu_);
    if (auto it = sessions_.find(id_hash); it != sessions_.end()) {
      it->second.last_seen_at = last_seen_at;
    }
    return core::OkStatus();
  }
  core::Result<bool> Delete(const std::string& id_hash) override {
    std::lock_guard lock(mu_);
    return sessions_.erase(id_hash) > 0;
  }
  core::Result<std::int64_t> DeleteForUser(const core::UserId& user_id) override {
    std::lock_guard lock(mu_);
    return static_cast<std::int64_t>(
        std::erase_if(sessions_, [&](const auto& kv) { return kv.second.user_id == user_id; }));
  }
  core::Result<std::int64_t> DeleteExpired(core::TimePoint now) override {
    std::lock_guard lock(mu_);
    std::int64_t n = 0;
    n += static_cast<std::int64_t>(
        std::erase_if(sessions_, [&](const auto& kv) { return kv.second.expires_at < now; }));
    n += static_cast<std::int64_t>(
        std::erase_if(links_, [&](const auto& kv) { return kv.second < now; }));
    n += static_cast<std::int64_t>(
        std::erase_if(flows_, [&](const auto& kv) { return kv.second.expires_at < now; }));
    return n;
  }
  core::Result<bool> AdminEverSignedIn() override {
    std::lock_guard lock(mu_);
    return admin_ever_signed_in_;
  }
  core::Status InsertSignInLink(const std::string& token_hash, core::TimePoint /*created_at*/,
                                core::TimePoint expires_at) override {
    std::lock_guard lock(mu_);
    if (!links_.emplace(token_hash, expires_at).second) {
      return core::MakeError(core::ErrorCode::kConflict, "duplicate");
    }
    return core::OkStatus();
  }
  core::Result<core::TimePoint> TakeSignInLink(const std::string& token_hash) override {
    std::lock_guard lock(mu_);
    auto it = links_.find(token_hash);
    if (it == links_.end()) {
      return core::MakeError(core::ErrorCode::kNotFound, "no link");
    }
    const core::TimePoint expires_at = it->second;
    links_.erase(it);
    return expires_at;
  }
  core::Status InsertLoginFlow(const core::BrowserLoginFlow& flow,
                               std::size_t max_pending) override {
    std::lock_guard lock(mu_);
    if (!flows_.emplace(flow.state_hash, flow).second) {
      return core::MakeError(core::ErrorCode::kConflict, "duplicate");
    }
    while (flows_.size() > max_pending) {  // drop the one that expires first (ties: lowest hash)
      auto oldest =
          std::min_element(flows_.begin(), flows_.end(), [](const auto& a, const auto& b) {
            return std::tie(a.second.expires_at, a.first) < std::tie(b.second.expires_at, b.first);
          });
      flows_.erase(oldest);
    }
    return core::OkStatus();
  }
  core::Result<core::BrowserLoginFlow> TakeLoginFlow(const std::string& state_hash) override {
    std::lock_guard lock(mu_);
    auto it = flows_.find(state_hash);
    if (it == flows_.end()) {
      return core::MakeError(core::ErrorCode::kNotFound, "no flow");
    }
    core::BrowserLoginFlow flow = it->second;
    flows_.erase(it);
    return flow;
  }

 private:
  std::mutex mu_;
  std::map<std::string, core::BrowserSession> sessions_;
  std::map<std::string, core::TimePoint> links_;
  std::map<std::string, core::BrowserLoginFlow> flows_;
  bool admin_ever_signed_in_ = false;
};

// The six repositories wired like one database: a provider's delete removes its connections and
// flows, a connection's delete its flows. Declared in dependency order (flows first).
struct InMemoryStore {
  InMemoryAuthorizationFlowRepository flows;
  InMemoryIntegrationTrialRepository trials;
  InMemoryConnectionRepository connections{
      [this](const core::ConnectionId& id) { flows.DeleteForConnection(id); },
      [this](const core::ProviderId& id) {
        flows.DeleteForProvider(id);
      }};
  InMemoryProviderRepository providers{[this](const core::ProviderId& id) {
    connections.DeleteForProvider(id);
    flows.DeleteForProvider(id);
    trials.DeleteForProvider(id);
  }};
  InMemoryApiTokenRepository api_tokens;
  InMemorySessionTokenRepository session_tokens;
  InMemoryBrowserSessionRepository browser_sessions;
  InMemoryAuditRepository audit;
};

}  // namespace keybridge::testing
