#include "service/git_credential_service.h"

#include <algorithm>
#include <cctype>
#include <utility>
#include <variant>
#include <vector>

#include "core/text.h"
#include "oauth/provider_profile.h"
#include "service/provider_service.h"
#include "service/session_scope.h"

namespace keybridge::service {

using core::ErrorCode;
using core::MakeError;

GitCredentialService::GitCredentialService(core::ProviderRepository& providers,
                                           core::ConnectionRepository& connections,
                                           ProviderMatcher& matcher, TokenService& tokens,
                                           core::PublicUrls urls)
    : providers_(providers),
      connections_(connections),
      matcher_(matcher),
      tokens_(tokens),
      urls_(std::move(urls)) {}

core::Result<GitCredentialLookup> GitCredentialService::Lookup(const core::Caller& caller,
                                                               const std::string& repository_url,
                                                               const TokenDemand& demand) {
  KEYBRIDGE_RETURN_IF_ERROR(RequireUser(caller));
  KEYBRIDGE_ASSIGN_OR_RETURN(const core::RepositoryUrl repository,
                             RequireRepositoryUrl(repository_url));
  KEYBRIDGE_ASSIGN_OR_RETURN(std::optional<ServedRepository> served,
                             matcher_.Match(repository.url));
  if (!served) {
    return MakeError(ErrorCode::kNotFound, "No integration serves this repository URL.");
  }
  return LookupFor(caller, std::move(served->provider), repository, demand);
}

core::Result<GitCredentialLookup> GitCredentialService::LookupAt(
    const core::Caller& caller, const core::ProviderId& provider_id,
    std::string_view repository_path, const TokenDemand& demand) {
  KEYBRIDGE_RETURN_IF_ERROR(RequireUser(caller));
  auto provider = providers_.Find(provider_id);
  if (!provider.ok()) {
    if (provider.error().code == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kNotFound, "There is no integration with the id '"
                                                 + provider_id.value().substr(0, 100) + "'.");
    }
    return std::move(provider).TakeError();
  }
  if (!core::ServesRepositories(*provider)) {
    return MakeError(ErrorCode::kNotFound, "The integration '" + provider->id.value()
                                               + "' does not serve git repositories.");
  }
  // An encoded '/' or a backslash would name another path once the provider decodes it; everything
  // else that could leave the provider's URL (".", "..", empty segments, a query) is refused by
  // ParseRepositoryUrl below.
  const std::string lowered = core::AsciiLower(repository_path);
  if (repository_path.empty() || repository_path.front() == '/'
      || lowered.find_first_of("\\?#") != std::string::npos
      || lowered.find("%2f") != std::string::npos || lowered.find("%5c") != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "The repository path must be a plain path such as 'group/project.git'.");
  }
  std::string base = provider->url;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  const auto parsed = core::ParseRepositoryUrl(base + "/" + std::string(repository_path));
  const auto* repository = std::get_if<core::RepositoryUrl>(&parsed);
  if (repository == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "The repository path must be a plain path such as 'group/project.git'.");
  }
  return LookupFor(caller, std::move(provider).value(), *repository, demand);
}

core::Result<GitCredentialLookup> GitCredentialService::LookupFor(
    const core::Caller& caller, core::Provider provider, const core::RepositoryUrl& repository,
    const TokenDemand& demand) {
  KEYBRIDGE_ASSIGN_OR_RETURN(std::vector<core::Connection> connections,
                             connections_.ListForUser(caller.user_id));
  const auto connection =
      std::find_if(connections.begin(), connections.end(),
                   [&](const core::Connection& c) { return c.provider_id == provider.id; });
  const core::ConnectionId connection_id =
      connection != connections.end() ? connection->id : core::ConnectionId();
  GitCredentialLookup lookup{std::move(provider), repository.text,
                             MakeError(ErrorCode::kInternal, "unset"), "", ""};
  lookup.install_url = oauth::InstallUrl(lookup.provider);

  // A session outside its scope learns nothing more, and connecting would not help it.
  if (auto scoped = SessionScopePolicy::CheckRepository(caller, repository.url, connection_id);
      !scoped.ok()) {
    lookup.credential = std::move(scoped).TakeError();
    return lookup;
  }
  if (connection == connections.end() || connection->status == core::ConnectionStatus::kPending) {
    lookup.connect_url = urls_.Authorize(lookup.provider.id);
    lookup.credential =
        MakeError(ErrorCode::kNotFound, "You have no connection to " + lookup.provider.display_name
                                            + ". Connect at " + lookup.connect_url);
    return lookup;
  }
  auto fresh = tokens_.FreshConnection(caller, connection_id, demand);
  if (!fresh.ok()) {
    if (fresh.error().code == ErrorCode::kReauthorizationRequired) {
      lookup.connect_url = urls_.Authorize(lookup.provider.id);
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
