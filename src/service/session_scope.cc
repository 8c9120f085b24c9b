#include "service/session_scope.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <variant>

#include "core/repository_match.h"
#include "core/session_token.h"

namespace keybridge::service {
namespace {

using core::ErrorCode;
using core::MakeError;

core::Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

// Input echoed in an error message: bounded, so a huge value does not become a huge response.
std::string Quoted(const std::string& value) {
  constexpr std::size_t kMaxEcho = 80;
  return "'" + value.substr(0, kMaxEcho) + (value.size() > kMaxEcho ? "...'" : "'");
}

template <typename T>
void Deduplicate(std::vector<T>& items) {
  std::vector<T> unique;
  for (T& item : items) {
    if (std::find(unique.begin(), unique.end(), item) == unique.end()) {
      unique.push_back(std::move(item));
    }
  }
  items = std::move(unique);
}

core::Status CheckRepositoryUrl(const std::string& url) {
  if (url.size() > core::kMaxUrlLength) {
    return Invalid("repository_urls entries must be at most " + std::to_string(core::kMaxUrlLength)
                   + " characters");
  }
  auto parsed = core::ParseUrl(url);
  if (!parsed.ok() || (parsed->scheme != "https" && parsed->scheme != "http")) {
    return Invalid("repository_urls entry " + Quoted(url)
                   + " is not an http(s) repository URL (e.g. https://gitlab.example.org/group/"
                     "project.git)");
  }
  if (!parsed->userinfo.empty() || parsed->has_query || parsed->has_fragment) {
    return Invalid("repository_urls entry " + Quoted(url)
                   + " must not contain credentials, a query or a fragment");
  }
  return core::OkStatus();
}

// "registry-host[:port][/path-prefix]" in one spelling: the host as RegistryHostOf gives it, the
// path as an image path (core::ParseImageReference), without a trailing '/'.
core::Result<std::string> NormaliseImageScope(const std::string& entry) {
  const auto refuse = [&entry] {
    return Invalid("image_repositories entry " + Quoted(entry)
                   + " must be registry-host[:port] or registry-host[:port]/path-prefix (e.g. "
                     "registry.gitlab.example.org/group), without a scheme, tag or digest");
  };
  if (entry.size() > core::kMaxUrlLength || entry.find("://") != std::string::npos) {
    return refuse();
  }
  std::string_view text = entry;
  while (!text.empty() && text.back() == '/') {
    text.remove_suffix(1);
  }
  const std::size_t slash = text.find('/');
  auto registry = core::RegistryHostOf(text.substr(0, slash));
  if (!registry.ok()) {
    return refuse();
  }
  if (slash == std::string_view::npos) {
    return std::move(registry).value();
  }
  // The path must read as an image path below this same registry.
  const auto image = core::ParseImageReference(std::string(text));
  if (!image.ok() || image->registry != *registry || !image->tag.empty() || !image->digest.empty()
      || image->repository != text.substr(slash + 1)) {
    return refuse();
  }
  return *registry + "/" + image->repository;
}

template <typename T>
bool Contains(const std::vector<T>& items, const T& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

}  // namespace

SessionScopePolicy::SessionScopePolicy(core::ConnectionRepository& connections,
                                       ProviderMatcher& providers)
    : connections_(connections), providers_(providers) {}

core::Status SessionScopePolicy::CheckRequest(const core::Caller& caller,
                                              std::vector<core::ConnectionId>& connection_ids,
                                              std::vector<std::string>& repository_urls) {
  std::vector<std::string> no_images;
  return CheckRequest(caller, connection_ids, repository_urls, no_images);
}

core::Status SessionScopePolicy::CheckRequest(const core::Caller& caller,
                                              std::vector<core::ConnectionId>& connection_ids,
                                              std::vector<std::string>& repository_urls,
                                              std::vector<std::string>& image_repositories) {
  Deduplicate(connection_ids);
  Deduplicate(repository_urls);
  for (std::string& entry : image_repositories) {
    KEYBRIDGE_ASSIGN_OR_RETURN(entry, NormaliseImageScope(entry));
  }
  Deduplicate(image_repositories);
  if (connection_ids.empty() && repository_urls.empty() && image_repositories.empty()) {
    // Default deny: a token without a scope could obtain nothing, so it is a mistake.
    return Invalid(
        "give connection_ids, repository_urls or image_repositories: a session token may only "
        "obtain tokens for the connections, repositories and images it is scoped to");
  }
  if (connection_ids.size() > core::kMaxSessionScopeEntries
      || repository_urls.size() > core::kMaxSessionScopeEntries
      || image_repositories.size() > core::kMaxSessionScopeEntries) {
    return Invalid("connection_ids, repository_urls and image_repositories may have at most "
                   + std::to_string(core::kMaxSessionScopeEntries) + " entries each");
  }
  for (const core::ConnectionId& id : connection_ids) {
    auto found = connections_.Find(id);
    if (!found.ok() && found.error().code != ErrorCode::kNotFound) {
      return std::move(found).TakeError();
    }
    // Someone else's connection reads exactly like an absent one.
    if (!found.ok() || found->user_id != caller.user_id) {
      return Invalid("connection_ids entry " + Quoted(id.value())
                     + " is not one of your connections");
    }
  }
  std::optional<ProviderSnapshot> providers;  // read on first need, then reused
  for (const std::string& url : repository_urls) {
    KEYBRIDGE_RETURN_IF_ERROR(CheckRepositoryUrl(url));
    KEYBRIDGE_ASSIGN_OR_RETURN(core::RepositoryUrl repository, RequireRepositoryUrl(url));
    if (!providers) {
      KEYBRIDGE_ASSIGN_OR_RETURN(providers, providers_.Snapshot());
    }
    if (!providers->Match(repository.url)) {
      return Invalid("repository_urls entry " + Quoted(url) + " is not served by any integration");
    }
  }
  for (const std::string& entry : image_repositories) {
    if (!providers) {
      KEYBRIDGE_ASSIGN_OR_RETURN(providers, providers_.Snapshot());
    }
    if (!providers->MatchRegistry(entry.substr(0, entry.find('/')))) {
      return Invalid("image_repositories entry " + Quoted(entry)
                     + " names a registry no integration serves (an integration's "
                       "image_registry_url)");
    }
  }
  return core::OkStatus();
}

core::Status SessionScopePolicy::CheckConnection(const core::Caller& caller,
                                                 const core::ProviderId& provider_id,
                                                 const core::ConnectionId& connection_id) {
  if (!caller.session_scope) {
    return core::OkStatus();
  }
  const core::SessionScope& scope = *caller.session_scope;
  if (Contains(scope.connection_ids, connection_id)) {
    return core::OkStatus();
  }
  // One provider list for all scoped URLs: listing decrypts every provider's secret.
  std::optional<ProviderSnapshot> providers;
  for (const std::string& url : scope.repository_urls) {
    const auto parsed = core::ParseRepositoryUrl(url);
    const auto* repository = std::get_if<core::RepositoryUrl>(&parsed);
    if (repository == nullptr) {
      continue;  // validated when the token was minted; an unusable URL serves nothing
    }
    if (!providers) {
      // A database failure is not a "no".
      KEYBRIDGE_ASSIGN_OR_RETURN(providers, providers_.Snapshot());
    }
    if (const auto served = providers->Match(repository->url);
        served && served->provider.id == provider_id) {
      return core::OkStatus();
    }
  }
  for (const std::string& entry : scope.image_repositories) {
    if (!providers) {
      KEYBRIDGE_ASSIGN_OR_RETURN(providers, providers_.Snapshot());
    }
    if (const auto served = providers->MatchRegistry(entry.substr(0, entry.find('/')));
        served && served->id == provider_id) {
      return core::OkStatus();
    }
  }
  return MakeError(ErrorCode::kPermissionDenied,
                   "This session token may not obtain tokens for this connection: it is scoped "
                   "to other connections and repositories.");
}

core::Status SessionScopePolicy::CheckRepository(const core::Caller& caller,
                                                 const core::Url& repository,
                                                 const core::ConnectionId& connection_id) {
  if (!caller.session_scope) {
    return core::OkStatus();
  }
  const core::SessionScope& scope = *caller.session_scope;
  if (!connection_id.empty() && Contains(scope.connection_ids, connection_id)) {
    return core::OkStatus();
  }
  for (const std::string& scoped : scope.repository_urls) {
    const auto parsed = core::ParseRepositoryUrl(scoped);
    if (const auto* url = std::get_if<core::RepositoryUrl>(&parsed);
        url != nullptr && core::SameRepository(url->url, repository)) {
      return core::OkStatus();
    }
  }
  return MakeError(ErrorCode::kPermissionDenied,
                   "This session token may not obtain tokens for this repository: it is scoped to "
                   "other repositories and connections.");
}

core::Status SessionScopePolicy::CheckImage(const core::Caller& caller,
                                            const core::ImageReference& image) {
  if (!caller.session_scope) {
    return core::OkStatus();
  }
  for (const std::string& scoped : caller.session_scope->image_repositories) {
    if (core::ImageWithin(image, scoped)) {
      return core::OkStatus();
    }
  }
  return MakeError(ErrorCode::kPermissionDenied, "This session token is not scoped to the image "
                                                     + image.registry + "/"
                                                     + image.repository.substr(0, 200) + ".");
}

core::Status SessionScopePolicy::CheckRegistry(const core::Caller& caller,
                                               std::string_view registry) {
  if (!caller.session_scope) {
    return core::OkStatus();
  }
  for (const std::string& scoped : caller.session_scope->image_repositories) {
    if (std::string_view(scoped).substr(0, scoped.find('/')) == registry) {
      return core::OkStatus();
    }
  }
  return MakeError(ErrorCode::kPermissionDenied,
                   "This session token is not scoped to registry " + std::string(registry) + ".");
}

}  // namespace keybridge::service
