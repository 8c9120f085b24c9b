#include "service/connection_service.h"

#include <spdlog/spdlog.h>

#include "core/text.h"
#include "core/url.h"
#include "crypto/base64.h"
#include "crypto/hash.h"
#include "oauth/authorization_request.h"
#include "oauth/pkce.h"
#include "service/provider_service.h"
#include "service/ulid.h"

namespace keybridge::service {
namespace {

using core::ErrorCode;
using core::MakeError;

core::Error ConnectionNotFound() {
  return MakeError(ErrorCode::kNotFound, "Connection does not exist or you do not have access.");
}

// Appends error parameters to next_url, keeping its own query (Renku PR #1254), but never the
// code or state (RFC 9700 4.2.4: don't echo authorization responses to other pages).
std::string WithError(const std::string& next_url, const std::string& error,
                      const std::string& description,
                      const std::vector<std::pair<std::string, std::string>>& extra) {
  std::string fragment;
  std::string base = next_url;
  if (const auto hash = base.find('#'); hash != std::string::npos) {
    fragment = base.substr(hash);
    base.resize(hash);
  }
  base += base.find('?') == std::string::npos ? '?' : '&';
  base += "error=" + core::PercentEncode(error);
  if (!description.empty()) {
    base += "&error_description=" + core::PercentEncode(description);
  }
  for (const auto& [name, value] : extra) {
    base += "&" + name + "=" + core::PercentEncode(value);
  }
  return base + fragment;
}

// OAuth error values are ASCII tokens (RFC 6749 4.1.2.1); anything else is not echoed.
std::string SanitizeErrorCode(const std::string& error) {
  std::string out;
  for (char c : error.substr(0, 64)) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.') {
      out += c;
    }
  }
  return out.empty() ? "server_error" : out;
}

}  // namespace

ConnectionService::ConnectionService(core::ConnectionRepository& connections,
                                     core::ProviderRepository& providers,
                                     core::AuthorizationFlowRepository& flows,
                                     ProviderGateway& gateway, TokenService& tokens,
                                     core::Random& random, const core::Clock& clock,
                                     ConnectionServiceOptions options)
    : connections_(connections),
      providers_(providers),
      flows_(flows),
      gateway_(gateway),
      tokens_(tokens),
      random_(random),
      clock_(clock),
      options_(std::move(options)) {}

std::string ConnectionService::CallbackUrl() const {
  return options_.public_urls.OAuthCallback();
}

std::string ConnectionService::FlowCookieName(std::string_view state) {
  return "kb_flow_" + crypto::Sha256Hex(state).substr(0, 16);
}

core::Status ConnectionService::CheckNextUrl(const std::string& next_url) const {
  if (next_url.empty()) {
    return core::OkStatus();
  }
  auto own = core::ParseUrl(options_.public_urls.base());
  auto url = core::ParseUrl(next_url);
  const std::string allowed = own.ok() ? own->Origin() : options_.public_urls.base();
  if (url.ok() && (url->scheme == "https" || url->scheme == "http") && url->userinfo.empty()) {
    const std::string origin = url->Origin();
    if (own.ok() && origin == own->Origin()) {
      return core::OkStatus();
    }
    for (const auto& extra : options_.allowed_redirect_origins) {
      auto parsed = core::ParseUrl(extra);
      if (parsed.ok() && parsed->Origin() == origin) {
        return core::OkStatus();
      }
    }
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "next_url must be an absolute URL on " + allowed +
                       " (or an origin listed in --allowed-redirect-origins); refusing to "
                       "redirect elsewhere");
}

core::Result<StartedAuthorization> ConnectionService::StartAuthorization(
    const core::Caller& caller, const core::ProviderId& provider_id, const std::string& next_url) {
  KEYBRIDGE_RETURN_IF_ERROR(RequireUser(caller));
  auto provider = providers_.Find(provider_id);
  if (!provider.ok()) {
    if (provider.error().code == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kNotFound,
                       "Integration '" + provider_id.value() + "' does not exist.");
    }
    return std::move(provider).TakeError();
  }
  KEYBRIDGE_RETURN_IF_ERROR(CheckNextUrl(next_url));
  KEYBRIDGE_ASSIGN_OR_RETURN(auto endpoints, gateway_.Endpoints(*provider));

  core::Connection candidate;
  candidate.id = core::ConnectionId(NewUlid(clock_, random_));
  candidate.user_id = caller.user_id;
  candidate.provider_id = provider->id;
  candidate.status = core::ConnectionStatus::kPending;
  candidate.created_at = clock_.Now();
  candidate.updated_at = candidate.created_at;
  // An existing connection (even a working one) is reused untouched: the new token replaces the
  // old one only when the callback succeeds, so an abandoned reconnect never breaks a working
  // connection.
  KEYBRIDGE_ASSIGN_OR_RETURN(core::Connection connection, connections_.FindOrInsert(candidate));

  const core::Secret state = oauth::MakeState(random_);
  StartedAuthorization started;
  started.browser_binding = core::Secret(crypto::Base64UrlEncode(random_.Bytes(32)));
  started.cookie_name = FlowCookieName(state.Reveal());
  core::AuthorizationFlow flow;
  flow.state_hash = crypto::Sha256Hex(state.Reveal());
  flow.user_id = caller.user_id;
  flow.provider_id = provider->id;
  flow.connection_id = connection.id;
  flow.next_url = next_url;
  flow.browser_binding_hash = crypto::Sha256Hex(started.browser_binding.Reveal());
  flow.created_at = clock_.Now();
  flow.expires_at = flow.created_at + options_.flow_lifetime;
  std::optional<oauth::Pkce> pkce;
  if (provider->use_pkce) {
    pkce = oauth::MakePkce(random_);
    flow.code_verifier = pkce->verifier;
  }
  if (auto purged = flows_.DeleteExpired(clock_.Now()); !purged.ok()) {
    spdlog::warn("could not purge expired authorization flows: {}", purged.error().message);
  }
  KEYBRIDGE_RETURN_IF_ERROR(flows_.Insert(flow));
  started.redirect_url = oauth::BuildAuthorizationUrl(
      *provider, endpoints, CallbackUrl(), state.Reveal(), pkce ? &pkce->challenge : nullptr);
  spdlog::info("user {} started connecting provider {} (connection {})", caller.user_id.value(),
               provider->id.value(), connection.id.value());
  return started;
}

core::Result<CompletedAuthorization> ConnectionService::Fail(
    const core::AuthorizationFlow& flow, const std::string& error, const std::string& description,
    const CallbackParameters* provider_sent) const {
  if (flow.next_url.empty()) {
    return MakeError(ErrorCode::kBadRequest,
                     "The connection was not completed: " + error
                         + (description.empty() ? "" : " (" + description + ")"));
  }
  std::vector<std::pair<std::string, std::string>> extra;
  if (provider_sent != nullptr) {
    // Only an http(s) URL is passed on as error_uri (it lands in a page's address), and only
    // bounded values.
    if (provider_sent->error_uri && provider_sent->error_uri->size() <= 500) {
      auto uri = core::ParseUrl(*provider_sent->error_uri);
      if (uri.ok() && (uri->scheme == "https" || uri->scheme == "http")) {
        extra.emplace_back("error_uri", *provider_sent->error_uri);
      }
    }
    if (provider_sent->iss && provider_sent->iss->size() <= 500) {
      extra.emplace_back("iss", *provider_sent->iss);
    }
  }
  return CompletedAuthorization{WithError(flow.next_url, error, description, extra)};
}

core::Result<CompletedAuthorization> ConnectionService::CompleteAuthorization(
    const CallbackParameters& params) {
  // Renku answers 403 for a missing, unknown or used state: nothing proves this browser started
  // the flow.
  if (!params.state || params.state->empty()) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "The callback has no state parameter. Start connecting again from the "
                     "integrations page.");
  }
  auto taken = flows_.Take(crypto::Sha256Hex(*params.state));
  if (!taken.ok()) {
    if (taken.error().code == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kPermissionDenied,
                       "This authorization is unknown or was already used. Start connecting "
                       "again from the integrations page.");
    }
    return std::move(taken).TakeError();
  }
  const core::AuthorizationFlow flow = std::move(taken).value();
  if (flow.expires_at <= clock_.Now()) {
    return MakeError(ErrorCode::kBadRequest,
                     "This authorization expired (it is valid for "
                         + std::to_string(options_.flow_lifetime.count() / 60)
                         + " minutes). Start connecting again from the integrations page.");
  }
  // RFC 6749 10.12: the state must be bound to the user-agent that started the flow.
  if (!params.browser_binding
      || !crypto::ConstantTimeEquals(crypto::Sha256Hex(params.browser_binding->Reveal()),
                                     flow.browser_binding_hash)) {
    spdlog::warn("callback for connection {} came from another browser; refused",
                 flow.connection_id.value());
    return MakeError(ErrorCode::kPermissionDenied,
                     "This authorization was started in another browser (or cookies are "
                     "blocked). Start connecting again in this browser.");
  }
  if (params.caller.IsAuthenticated() && params.caller.user_id != flow.user_id) {
    spdlog::warn("callback for connection {} completed by another user; refused",
                 flow.connection_id.value());
    return MakeError(ErrorCode::kPermissionDenied,
                     "This authorization was started by another user.");
  }
  if (params.error) {
    spdlog::info("provider {} returned an authorization error for connection {}: {}",
                 flow.provider_id.value(), flow.connection_id.value(),
                 SanitizeErrorCode(*params.error));
    return Fail(flow, SanitizeErrorCode(*params.error),
                core::TruncateUtf8(params.error_description.value_or(""), 300), &params);
  }
  if (!params.code || params.code->empty()) {
    return Fail(flow, "invalid_request", "The provider sent neither a code nor an error.");
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(core::Provider provider, providers_.Find(flow.provider_id));
  // The code goes only to the token endpoint of the provider the flow was started with (mix-up
  // defence, RFC 9700 4.4), and only if the response names that provider's issuer where it can
  // (RFC 9207).
  KEYBRIDGE_ASSIGN_OR_RETURN(const oauth::ProviderEndpoints endpoints,
                             gateway_.Endpoints(provider));
  if (core::Status issuer = oauth::CheckAuthorizationResponseIssuer(endpoints, params.iss);
      !issuer.ok()) {
    spdlog::warn("callback for connection {}: {}", flow.connection_id.value(),
                 issuer.error().message);
    return Fail(flow, "invalid_request", issuer.error().message);
  }
  auto token = gateway_.ExchangeCode(provider, CallbackUrl(), *params.code,
                                     flow.code_verifier ? &*flow.code_verifier : nullptr);
  if (!token.ok()) {
    spdlog::warn("code exchange with provider {} failed for connection {}: {} ({})",
                 provider.id.value(), flow.connection_id.value(), token.error().message,
                 token.error().detail);
    if (flow.next_url.empty()) {
      return std::move(token).TakeError();
    }
    const std::string error =
        token.error().code == ErrorCode::kUnavailable ? "temporarily_unavailable" : "server_error";
    return CompletedAuthorization{WithError(flow.next_url, error, token.error().message, {})};
  }
  KEYBRIDGE_RETURN_IF_ERROR(connections_.StoreToken(flow.connection_id, *token, clock_.Now()));
  spdlog::info("connection {} to provider {} is connected", flow.connection_id.value(),
               provider.id.value());
  if (AuditLog* audit = tokens_.audit()) {
    // The flow's user is the actor: the callback may come without a credential of its own.
    core::Caller actor = params.caller;
    actor.user_id = flow.user_id;
    audit->Changed(core::AuditKind::kConnected, actor, provider.id.value(),
                   flow.connection_id.value());
  }
  return CompletedAuthorization{flow.next_url};
}

core::Result<std::vector<core::Connection>> ConnectionService::List(const core::Caller& caller) {
  if (!caller.IsAuthenticated()) {
    return std::vector<core::Connection>{};  // Renku: [] for anonymous callers
  }
  return connections_.ListForUser(caller.user_id);
}

core::Result<core::Connection> ConnectionService::Get(const core::Caller& caller,
                                                      const core::ConnectionId& id) {
  if (!caller.IsAuthenticated()) {
    return ConnectionNotFound();
  }
  auto found = connections_.Find(id);
  if (!found.ok()) {
    return found.error().code == ErrorCode::kNotFound ? ConnectionNotFound()
                                                      : std::move(found).TakeError();
  }
  if (found->user_id != caller.user_id) {
    return ConnectionNotFound();
  }
  return found;
}

core::Status ConnectionService::Delete(const core::Caller& caller, const core::ConnectionId& id) {
  KEYBRIDGE_ASSIGN_OR_RETURN(const core::Connection connection, Get(caller, id));
  // Removed first, revoked after, and what is revoked is what the row held when it went: a
  // refresh that stored a new pair a moment before is revoked with it, and one that finishes
  // after finds no row and revokes its own pair (TokenService::RefreshUnderLock).
  KEYBRIDGE_ASSIGN_OR_RETURN(const std::optional<core::Connection> deleted,
                             connections_.Delete(id));
  if (deleted && deleted->token) {
    auto provider = providers_.Find(connection.provider_id);
    auto revoked = provider.ok() ? gateway_.Revoke(*provider, *deleted->token)
                                 : core::Status(provider.error());
    if (!revoked.ok()) {
      // RFC 7009 is best effort for us: a failed revocation must not keep the local copy.
      spdlog::warn("could not revoke the token of connection {} at provider {}: {}", id.value(),
                   connection.provider_id.value(), revoked.error().message);
    }
  }
  spdlog::info("user {} disconnected connection {} (provider {})", caller.user_id.value(),
               id.value(), connection.provider_id.value());
  if (AuditLog* audit = tokens_.audit()) {
    audit->Changed(core::AuditKind::kDisconnected, caller, connection.provider_id.value(),
                   id.value());
  }
  return core::OkStatus();
}

core::Result<std::int64_t> ConnectionService::InvalidateConnections(const core::Provider& before,
                                                                    const std::string& reason) {
  // Dropped first, revoked after: whatever happens to the revocations, nothing of the old grant
  // is stored any more, and a refresh in flight cannot store its result (token_version moved).
  KEYBRIDGE_ASSIGN_OR_RETURN(const std::vector<core::Connection> dropped,
                             connections_.InvalidateForProvider(before.id, reason, clock_.Now()));
  const auto deadline = std::chrono::steady_clock::now() + kRetargetRevocationBudget;
  std::size_t attempted = 0;
  std::size_t failed = 0;
  std::size_t skipped = 0;
  for (const core::Connection& connection : dropped) {
    if (!connection.token) {
      continue;
    }
    if (attempted >= kMaxRetargetRevocations || std::chrono::steady_clock::now() >= deadline) {
      ++skipped;
      continue;
    }
    ++attempted;
    const core::Status revoked = gateway_.Revoke(before, *connection.token);
    if (!revoked.ok()) {
      ++failed;
      spdlog::warn("could not revoke the token of connection {} at provider {}: {}",
                   connection.id.value(), before.id.value(), revoked.error().message);
    }
  }
  spdlog::info(
      "integration {}: {} connections invalidated ({}), {} revocations at {} attempted ({} "
      "failed), {} dropped without revocation",
      before.id.value(), dropped.size(), reason, attempted, before.url, failed, skipped);
  return static_cast<std::int64_t>(dropped.size());
}

core::Result<oauth::Account> ConnectionService::Account(const core::Caller& caller,
                                                        const core::ConnectionId& id) {
  KEYBRIDGE_ASSIGN_OR_RETURN(core::Connection connection,
                             tokens_.FreshConnection(caller, id, core::Seconds(0)));
  KEYBRIDGE_ASSIGN_OR_RETURN(core::Provider provider, providers_.Find(connection.provider_id));
  return gateway_.Account(provider, connection.token->access_token);
}

core::Result<oauth::InstallationsPage> ConnectionService::Installations(
    const core::Caller& caller, const core::ConnectionId& id, int page, int per_page) {
  KEYBRIDGE_ASSIGN_OR_RETURN(core::Connection connection,
                             tokens_.FreshConnection(caller, id, core::Seconds(0)));
  KEYBRIDGE_ASSIGN_OR_RETURN(core::Provider provider, providers_.Find(connection.provider_id));
  if (!core::IsGitHubApp(provider)) {
    return oauth::InstallationsPage{};
  }
  return gateway_.Installations(provider, connection.token->access_token, page, per_page);
}

}  // namespace keybridge::service
