#include "service/token_endpoint_service.h"

#include <algorithm>
#include <utility>

#include "core/provider.h"

namespace keybridge::service {

std::string_view RcloneBackendFor(core::ProviderKind kind) {
  switch (kind) {
    case core::ProviderKind::kDropbox:
      return "dropbox";
    case core::ProviderKind::kGoogle:
      return "drive";
    case core::ProviderKind::kGitLab:
    case core::ProviderKind::kGitHub:
    case core::ProviderKind::kGenericOidc:
    case core::ProviderKind::kZenodo:
      return {};
  }
  return {};
}

TokenEndpointService::TokenEndpointService(TokenService& tokens,
                                           core::ProviderRepository& providers,
                                           identity::RefreshHandles& handles, core::PublicUrls urls,
                                           const core::Clock& clock)
    : tokens_(tokens),
      providers_(providers),
      handles_(handles),
      urls_(std::move(urls)),
      clock_(clock) {}

core::Result<RcloneRemote> TokenEndpointService::RcloneRemoteFor(
    const core::Caller& caller, const core::ConnectionId& connection_id, bool may_call_provider) {
  TokenDemand demand;
  demand.min_valid = kMinValid;
  demand.may_call_provider = may_call_provider;
  KEYBRIDGE_ASSIGN_OR_RETURN(const core::Connection connection,
                             tokens_.FreshConnection(caller, connection_id, demand));
  KEYBRIDGE_ASSIGN_OR_RETURN(const core::Provider provider,
                             providers_.Find(connection.provider_id));
  const std::string_view type = RcloneBackendFor(provider.kind);
  if (type.empty()) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           "rclone has no backend for a " + std::string(core::ToString(provider.kind))
                               + " integration; rclone remotes are available for Dropbox and "
                                 "Google Drive integrations");
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(identity::RefreshHandle handle, handles_.Issue(caller, connection_id));
  AuditTokenHandedOut(tokens_.audit(), caller, connection, "rclone");
  return RcloneRemote{connection.provider_id,
                      std::string(type),
                      urls_.TokenEndpoint(connection_id),
                      connection.token->access_token,
                      connection.token->expires_at,
                      std::move(handle)};
}

core::Result<TokenEndpointAnswer> TokenEndpointService::Refresh(
    std::string_view handle, const core::ConnectionId& connection_id, bool may_call_provider) {
  KEYBRIDGE_ASSIGN_OR_RETURN(const identity::RefreshHandleHolder holder,
                             handles_.Authenticate(handle, connection_id));
  TokenDemand demand;
  demand.min_valid = kMinValid;
  demand.may_call_provider = may_call_provider;
  KEYBRIDGE_ASSIGN_OR_RETURN(const core::Connection connection,
                             tokens_.FreshConnection(holder.caller, connection_id, demand));
  AuditTokenHandedOut(tokens_.audit(), holder.caller, connection, "token-endpoint");
  const core::TimePoint now = clock_.Now();
  core::TimePoint until = holder.expires_at;
  if (connection.token->expires_at) {
    until = std::min(until, *connection.token->expires_at);
  }
  const auto left = std::chrono::duration_cast<core::Seconds>(until - now).count();
  return TokenEndpointAnswer{connection.token->access_token, connection.token->scope,
                             std::max<std::int64_t>(left, 0), core::Secret(std::string(handle))};
}

}  // namespace keybridge::service
