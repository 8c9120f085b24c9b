#include "service/git_credential_service.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "oauth/provider_profile.h"
#include "service/provider_service.h"

namespace keybridge::service {

using core::ErrorCode;
using core::MakeError;

GitCredentialService::GitCredentialService(core::ConnectionRepository& connections,
                                           TokenService& tokens)
    : connections_(connections), tokens_(tokens) {}

core::Result<GitCredentialLookup> GitCredentialService::Lookup(const core::Caller& caller,
                                                               const std::string& repository_url,
                                                               const TokenDemand& demand) {
  KEYBRIDGE_RETURN_IF_ERROR(RequireUser(caller));
  KEYBRIDGE_ASSIGN_OR_RETURN(std::optional<core::Provider> provider,
                             tokens_.ProviderServing(repository_url));
  if (!provider) {
    return MakeError(ErrorCode::kNotFound, "No integration serves this repository URL.");
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(std::vector<core::Connection> connections,
                             connections_.ListForUser(caller.user_id));
  const auto connection =
      std::find_if(connections.begin(), connections.end(),
                   [&](const core::Connection& c) { return c.provider_id == provider->id; });
  const std::string connection_id = connection != connections.end() ? connection->id : "";
  GitCredentialLookup lookup{std::move(*provider), MakeError(ErrorCode::kInternal, "unset"), "",
                             ""};
  lookup.install_url = oauth::InstallUrl(lookup.provider);

  // A session outside its scope learns nothing more, and connecting would not help it.
  if (auto scoped = tokens_.CheckSessionScope(caller, lookup.provider.id, connection_id);
      !scoped.ok()) {
    lookup.credential = std::move(scoped).TakeError();
    return lookup;
  }
  if (connection == connections.end() || connection->status == core::ConnectionStatus::kPending) {
    lookup.connect_url = tokens_.ReconnectUrl(lookup.provider.id);
    lookup.credential =
        MakeError(ErrorCode::kNotFound, "You have no connection to " + lookup.provider.display_name
                                            + ". Connect at " + lookup.connect_url);
    return lookup;
  }
  auto fresh = tokens_.FreshConnection(caller, connection_id, demand);
  if (!fresh.ok()) {
    if (fresh.error().code == ErrorCode::kReauthorizationRequired) {
      lookup.connect_url = tokens_.ReconnectUrl(lookup.provider.id);
    }
    lookup.credential = std::move(fresh).TakeError();
    return lookup;
  }
  GitCredential credential;
  credential.username = oauth::GitUsername(lookup.provider.kind);
  credential.password = fresh->token->access_token;
  credential.expires_at = fresh->token->expires_at;
  credential.connection = std::move(fresh).value();
  lookup.credential = std::move(credential);
  return lookup;
}

}  // namespace keybridge::service
