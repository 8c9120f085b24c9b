#include "service/provider_matcher.h"

#include <utility>
#include <variant>

#include "core/image_reference.h"

namespace keybridge::service {

core::Result<core::RepositoryUrl> RequireRepositoryUrl(std::string_view text) {
  auto parsed = core::ParseRepositoryUrl(text);
  if (auto* url = std::get_if<core::RepositoryUrl>(&parsed)) {
    return std::move(*url);
  }
  return core::MakeError(core::ErrorCode::kInvalidArgument,
                         "the repository URL must be an http(s) URL without credentials, query or "
                         "fragment");
}

ProviderSnapshot::ProviderSnapshot(std::vector<core::Provider> providers)
    : providers_(std::move(providers)) {}

std::optional<ServedRepository> ProviderSnapshot::Match(const core::Url& repository) const {
  std::optional<core::ProviderMatch> match = core::MatchProvider(providers_, repository);
  if (!match) {
    return std::nullopt;
  }
  return ServedRepository{providers_[match->index], std::move(match->repository_path)};
}

std::optional<core::Provider> ProviderSnapshot::MatchRegistry(std::string_view registry) const {
  const core::Provider* best = nullptr;
  for (const core::Provider& provider : providers_) {
    if (!provider.image_registry_url
        || (provider.kind != core::ProviderKind::kGitLab
            && provider.kind != core::ProviderKind::kGitHub)) {
      continue;
    }
    auto host = core::RegistryHostOf(*provider.image_registry_url);
    if (host.ok() && *host == registry
        && (best == nullptr || provider.id.value() < best->id.value())) {
      best = &provider;
    }
  }
  return best == nullptr ? std::nullopt : std::optional<core::Provider>(*best);
}

ProviderMatcher::ProviderMatcher(core::ProviderRepository& providers) : providers_(providers) {}

core::Result<std::optional<core::Provider>> ProviderMatcher::MatchRegistry(
    std::string_view registry) {
  KEYBRIDGE_ASSIGN_OR_RETURN(ProviderSnapshot snapshot, Snapshot());
  return snapshot.MatchRegistry(registry);
}

core::Result<ProviderSnapshot> ProviderMatcher::Snapshot() {
  KEYBRIDGE_ASSIGN_OR_RETURN(std::vector<core::Provider> all, providers_.List());
  return ProviderSnapshot(std::move(all));
}

core::Result<std::optional<ServedRepository>> ProviderMatcher::Match(const core::Url& repository) {
  KEYBRIDGE_ASSIGN_OR_RETURN(ProviderSnapshot snapshot, Snapshot());
  return snapshot.Match(repository);
}

core::Result<std::optional<core::Provider>> ProviderMatcher::ProviderServing(
    std::string_view repository_url) {
  KEYBRIDGE_ASSIGN_OR_RETURN(core::RepositoryUrl repository, RequireRepositoryUrl(repository_url));
  KEYBRIDGE_ASSIGN_OR_RETURN(std::optional<ServedRepository> served, Match(repository.url));
  if (!served) {
    return std::optional<core::Provider>();
  }
  return std::optional<core::Provider>(std::move(served->provider));
}

}  // namespace keybridge::service
