// ProviderMatcher: which integration serves a repository URL, by the longest-prefix rule of
// core/repository_match.h, over the providers in core::ProviderRepository. The repository check
// (RepositoryService), git credentials (GitCredentialService) and session scopes
// (SessionScopePolicy) all ask it, so they cannot disagree on the provider of a URL.
//
// Listing providers decrypts every client secret, so a question about many URLs (a session scoped
// to N repositories) reads the list once through Snapshot() and matches against that.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/provider.h"
#include "core/repositories.h"
#include "core/repository_match.h"
#include "core/result.h"
#include "core/url.h"

namespace keybridge::service {

struct ServedRepository {
  core::Provider provider;
  // The repository path below the provider's URL path (core::ProviderMatch::repository_path).
  std::string repository_path;
};

// kInvalidArgument (a sentence for people) unless core::ParseRepositoryUrl accepts `text`.
core::Result<core::RepositoryUrl> RequireRepositoryUrl(std::string_view text);

// The providers as read by one ProviderRepository::List; matching reads nothing more.
class ProviderSnapshot {
 public:
  explicit ProviderSnapshot(std::vector<core::Provider> providers);

  std::optional<ServedRepository> Match(const core::Url& repository) const;
  // The gitlab or github integration whose image_registry_url names `registry` (host[:port] as
  // core::ParseImageReference / RegistryHostOf give it; host compared case-insensitively, port
  // exactly), nullopt if none; the lowest id when several do, so the answer never depends on
  // storage order.
  std::optional<core::Provider> MatchRegistry(std::string_view registry) const;

 private:
  std::vector<core::Provider> providers_;
};

class ProviderMatcher {
 public:
  // `providers` must outlive the matcher. Thread-safe.
  explicit ProviderMatcher(core::ProviderRepository& providers);

  // One List; match as many URLs against it as needed.
  core::Result<ProviderSnapshot> Snapshot();
  // The provider serving `repository` and the path below it, nullopt if none. One List.
  core::Result<std::optional<ServedRepository>> Match(const core::Url& repository);
  // The provider serving the repository at `repository_url`, nullopt if none. kInvalidArgument
  // (without reading providers) if the URL is not a usable http(s) repository URL
  // (RequireRepositoryUrl). One List.
  core::Result<std::optional<core::Provider>> ProviderServing(std::string_view repository_url);
  // ProviderSnapshot::MatchRegistry over one List.
  core::Result<std::optional<core::Provider>> MatchRegistry(std::string_view registry);

 private:
  core::ProviderRepository& providers_;
};

}  // namespace keybridge::service
