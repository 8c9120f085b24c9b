#include "service/audit_log.h"

#include <spdlog/spdlog.h>

#include <utility>
#include <vector>

#include "crypto/hash.h"

namespace keybridge::service {
namespace {

void LogLine(const core::AuditEvent& event) {
  // One line per event, key=value, so a log pipeline has the trail even for dropped events.
  spdlog::info(
      "audit: kind={} actor={} caller={} session_token={} consumer={} connection={} provider={} "
      "target={} token_fingerprint={} changes={}",
      core::AuditKindName(event.kind), event.actor.value(), event.caller_kind,
      event.session_token_id, event.consumer, event.connection_id, event.provider_id, event.target,
      event.token_fingerprint, event.changes);
}

void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          constexpr std::string_view kHex = "0123456789abcdef";
          out += "\\u00";
          out += kHex[(static_cast<unsigned char>(c) >> 4) & 0xF];
          out += kHex[static_cast<unsigned char>(c) & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// The fields ProviderChanges compares, as text; never the client secret.
std::vector<std::pair<std::string_view, std::string>> AuditedFields(const core::Provider& p) {
  return {{"kind", std::string(core::ToString(p.kind))},
          {"display_name", p.display_name},
          {"app_slug", p.app_slug},
          {"client_id", p.client_id},
          {"scope", p.scope},
          {"url", p.url},
          {"use_pkce", p.use_pkce ? "true" : "false"},
          {"image_registry_url", p.image_registry_url.value_or("")},
          {"oidc_issuer_url", p.oidc_issuer_url.value_or("")}};
}

}  // namespace

std::string ProviderChanges(const core::Provider* before, const core::Provider* after) {
  const auto old_fields = before != nullptr
                              ? AuditedFields(*before)
                              : std::vector<std::pair<std::string_view, std::string>>{};
  const auto new_fields = after != nullptr
                              ? AuditedFields(*after)
                              : std::vector<std::pair<std::string_view, std::string>>{};
  const auto& names = before != nullptr ? old_fields : new_fields;
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string* old_value = before != nullptr ? &old_fields[i].second : nullptr;
    const std::string* new_value = after != nullptr ? &new_fields[i].second : nullptr;
    if (old_value != nullptr && new_value != nullptr && *old_value == *new_value) {
      continue;
    }
    if (out.size() > 1) {
      out += ',';
    }
    AppendJsonString(out, names[i].first);
    out += ":{\"before\":";
    if (old_value != nullptr) {
      AppendJsonString(out, *old_value);
    } else {
      out += "null";
    }
    out += ",\"after\":";
    if (new_value != nullptr) {
      AppendJsonString(out, *new_value);
    } else {
      out += "null";
    }
    out += '}';
  }
  out += '}';
  return out;
}

std::string TokenFingerprint(std::string_view token) {
  if (token.empty()) {
    return "";
  }
  return crypto::Sha256Hex(token).substr(0, 12);
}

AuditLog::AuditLog(core::AuditRepository& repository, const core::Clock& clock,
                   AuditLogOptions options)
    : repository_(repository), clock_(clock), options_(options) {}

AuditLog::~AuditLog() {
  Stop();
}

void AuditLog::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) {
    return;
  }
  thread_ = std::thread([this] { Run(); });
}

void AuditLog::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  Flush();
}

void AuditLog::Record(core::AuditEvent event) {
  LogLine(event);
  Enqueue(std::move(event));
}

void AuditLog::Enqueue(core::AuditEvent event) {
  if (event.time == core::TimePoint{}) {
    event.time = clock_.Now();
  }
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= options_.capacity) {
      dropped_.fetch_add(1);
      return;
    }
    queue_.push_back(std::move(event));
    if (queue_.size() < options_.batch) {
      return;  // the thread wakes for a full batch, else on its own schedule
    }
  }
  wake_.notify_one();
}

void AuditLog::TokenHandedOut(const core::Caller& caller, const core::Connection& connection,
                              std::string_view consumer, std::string_view target) {
  core::AuditEvent event;
  event.kind = core::AuditKind::kTokenHandout;
  event.actor = caller.user_id;
  event.caller_kind = std::string(core::AuditCallerKind(caller));
  if (caller.session_scope) {
    event.session_token_id = caller.session_scope->token_id;
  }
  event.consumer = std::string(consumer);
  event.connection_id = connection.id.value();
  event.provider_id = connection.provider_id.value();
  event.target = std::string(target);
  if (connection.token) {
    event.token_fingerprint = TokenFingerprint(connection.token->access_token.Reveal());
  }
  // The hand-out line keeps the shape support already searches for ("token handed out: …"),
  // with the session's name, which the stored event does not carry.
  spdlog::info(
      "token handed out: connection={} provider={} user={} session_token={} session={} via={} "
      "caller={} target={} token_fingerprint={}",
      event.connection_id, event.provider_id, event.actor.value(), event.session_token_id,
      caller.session_scope ? caller.session_scope->session_name : "", event.consumer,
      event.caller_kind, event.target, event.token_fingerprint);
  Enqueue(std::move(event));
}

void AuditLog::Changed(core::AuditKind kind, const core::Caller& caller, std::string provider_id,
                       std::string connection_id, std::string changes) {
  core::AuditEvent event;
  event.kind = kind;
  event.actor = caller.user_id;
  event.caller_kind = std::string(core::AuditCallerKind(caller));
  if (caller.session_scope) {
    event.session_token_id = caller.session_scope->token_id;
  }
  event.provider_id = std::move(provider_id);
  event.connection_id = std::move(connection_id);
  event.changes = std::move(changes);
  Record(std::move(event));
}

std::size_t AuditLog::WriteBatch() {
  std::lock_guard writing(write_mu_);
  std::vector<core::AuditEvent> batch;
  {
    std::lock_guard lock(mu_);
    while (!queue_.empty() && batch.size() < options_.batch) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
  }
  if (batch.empty()) {
    return 0;
  }
  if (const core::Status appended = repository_.Append(batch); !appended.ok()) {
    spdlog::warn("audit: could not store {} events, will retry: {}", batch.size(),
                 appended.error().message);
    // Back to the front, in order; what no longer fits is dropped (and counted), newest first.
    std::lock_guard lock(mu_);
    for (std::size_t i = batch.size(); i > 0; --i) {
      if (queue_.size() >= options_.capacity) {
        dropped_.fetch_add(1);
        continue;
      }
      queue_.push_front(std::move(batch[i - 1]));
    }
    return 0;
  }
  written_.fetch_add(batch.size());
  return batch.size();
}

void AuditLog::Flush() {
  while (WriteBatch() > 0) {
  }
}

core::Result<std::int64_t> AuditLog::Prune() {
  if (options_.retention.count() <= 0) {
    return std::int64_t{0};
  }
  return repository_.DeleteBefore(clock_.Now() - options_.retention);
}

core::Result<core::AuditPage> AuditLog::List(const core::Caller& caller,
                                             const core::AuditQuery& query) {
  if (!caller.IsAuthenticated()) {
    return core::MakeError(core::ErrorCode::kUnauthenticated, "Sign in to read the audit trail.");
  }
  if (!caller.is_admin || caller.IsSessionToken()) {
    return core::MakeError(core::ErrorCode::kPermissionDenied,
                           "Only administrators can read the audit trail.");
  }
  // This replica's queue first, so a reader sees what it just did (other replicas' events follow
  // within their writer's second).
  Flush();
  return repository_.List(query);
}

core::Result<core::AuditPage> AuditLog::ListOwn(const core::Caller& caller,
                                                core::AuditQuery query) {
  if (!caller.IsAuthenticated()) {
    return core::MakeError(core::ErrorCode::kUnauthenticated, "Sign in to read your audit trail.");
  }
  if (caller.IsSessionToken()) {
    return core::MakeError(core::ErrorCode::kPermissionDenied,
                           "A session token cannot read the audit trail.");
  }
  query.user = caller.user_id;
  Flush();
  return repository_.List(query);
}

std::size_t AuditLog::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void AuditLog::Run() {
  // Writes whatever is queued at least every second (a quiet server still stores its few events
  // promptly), at once when a batch is full; prunes on its interval.
  auto next_prune = std::chrono::steady_clock::now();
  bool failed = false;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      // After a failed write only the retry interval (or Stop) ends the wait, else a full queue
      // would retry a database that is down in a tight loop.
      wake_.wait_for(lock, failed ? options_.retry_after : std::chrono::milliseconds(1000),
                     [&] { return stopping_ || (!failed && queue_.size() >= options_.batch); });
      if (stopping_) {
        return;  // Stop() flushes
      }
    }
    failed = false;
    while (queued() > 0) {
      if (WriteBatch() == 0) {
        failed = true;
        break;
      }
    }
    if (std::chrono::steady_clock::now() >= next_prune) {
      next_prune = std::chrono::steady_clock::now() + options_.prune_interval;
      if (auto pruned = Prune(); !pruned.ok()) {
        spdlog::warn("audit: retention pruning failed: {}", pruned.error().message);
      } else if (*pruned > 0) {
        spdlog::info("audit: deleted {} events older than the retention", *pruned);
      }
    }
  }
}

}  // namespace keybridge::service
