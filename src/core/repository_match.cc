#include "core/repository_match.h"

#include <algorithm>
#include <cctype>

#include "core/text.h"

namespace keybridge::core {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && IsSpace(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

std::string_view WithoutTrailingSlashes(std::string_view text) {
  while (!text.empty() && text.back() == '/') {
    text.remove_suffix(1);
  }
  return text;
}

// The host part of an authority ("user@host:port", "[v6]:port"), possibly empty.
std::string_view HostOf(std::string_view authority) {
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    return authority.substr(1, close == std::string_view::npos ? authority.size() : close - 1);
  }
  return authority.substr(0, authority.rfind(':'));
}

// Whether `decoded` (one decoded path segment) is one a provider path must never contain: empty,
// "." or ".." let a path escape the prefix it was matched on once a server or curl normalises it
// (RFC 3986 §5.2.4); an encoded '/' or '\\' becomes a separator only after the provider decodes
// it, past these checks; control bytes have no business in a repository name.
bool IsUnsafeSegment(std::string_view decoded) {
  return decoded.empty() || decoded == "." || decoded == ".."
         || std::any_of(decoded.begin(), decoded.end(), [](char c) {
              const auto u = static_cast<unsigned char>(c);
              return c == '/' || c == '\\' || u < 0x20 || u == 0x7f;
            });
}

// Whether a segment of `path` is unsafe (see IsUnsafeSegment), checked after percent-decoding and,
// for the last segment, also after removing a ".git" suffix the way every consumer does
// (RepositoryPathKey, oauth/repository, the git proxy): otherwise "owner/...git" passes here and
// becomes "owner/.." at the provider's API.
bool HasUnsafeSegment(std::string_view path) {
  if (path.empty()) {
    return false;
  }
  path.remove_prefix(1);  // the leading '/'
  while (true) {
    const auto slash = path.find('/');
    const std::string_view segment = path.substr(0, slash);
    const auto decoded = PercentDecode(segment, /*plus_is_space=*/false);
    if (!decoded || IsUnsafeSegment(*decoded)) {
      return true;
    }
    if (slash == std::string_view::npos) {
      const std::string lowered = AsciiLower(*decoded);
      return lowered.ends_with(".git")
             && IsUnsafeSegment(std::string_view(lowered).substr(0, lowered.size() - 4));
    }
    path.remove_prefix(slash + 1);
  }
}

}  // namespace

std::variant<RepositoryUrl, RepositoryUrlProblem> ParseRepositoryUrl(std::string_view text) {
  text = Trim(text);
  const auto separator = text.find("://");
  if (text.empty() || separator == std::string_view::npos || separator == 0) {
    return RepositoryUrlProblem::kNoScheme;
  }
  const std::string scheme = AsciiLower(text.substr(0, separator));
  if (scheme != "http" && scheme != "https") {
    return RepositoryUrlProblem::kUnsupportedScheme;
  }
  const std::string_view rest = text.substr(separator + 3);
  if (HostOf(rest.substr(0, rest.find_first_of("/?#"))).empty()) {
    return RepositoryUrlProblem::kNoHost;
  }
  if (text.find_first_of("?#") != std::string_view::npos) {
    return RepositoryUrlProblem::kInvalid;
  }
  RepositoryUrl repository;
  repository.text = std::string(WithoutTrailingSlashes(text));
  if (repository.text.size() > kMaxUrlLength) {
    return RepositoryUrlProblem::kInvalid;
  }
  auto parsed = ParseUrl(repository.text);
  if (!parsed.ok() || !parsed->userinfo.empty() || HasUnsafeSegment(parsed->path)) {
    return RepositoryUrlProblem::kInvalid;
  }
  repository.url = std::move(parsed).value();
  return repository;
}

bool ServesRepositories(const Provider& provider) {
  switch (provider.kind) {
    case ProviderKind::kGitLab:
      return true;
    case ProviderKind::kGitHub:
      // GitHub Apps and OAuth Apps alike; an OAuth App for a registry serves images only.
      return !provider.image_registry_url || provider.image_registry_url->empty();
    case ProviderKind::kGenericOidc:
    case ProviderKind::kDropbox:
    case ProviderKind::kGoogle:
    case ProviderKind::kZenodo:
      // Sign-in and data connectors: their tokens open no repository.
      return false;
  }
  return false;
}

std::optional<ProviderMatch> MatchProvider(const std::vector<Provider>& providers,
                                           const Url& repository) {
  // The repository's path is compared in the one form SameRepository uses, so two URLs that name
  // the same repository for a session's scope are always served by the same provider.
  const std::string key = RepositoryPathKey(repository.path);
  std::optional<std::size_t> best;
  std::size_t best_path_length = 0;
  for (std::size_t i = 0; i < providers.size(); ++i) {
    const Provider& provider = providers[i];
    if (!ServesRepositories(provider)) {
      continue;
    }
    auto base = ParseUrl(provider.url);
    if (!base.ok() || base->has_query || base->has_fragment) {
      continue;
    }
    // ParseUrl lower-cases scheme and host, so these compares are case-insensitive.
    if (base->scheme != repository.scheme || base->host != repository.host
        || base->EffectivePort() != repository.EffectivePort()) {
      continue;
    }
    const std::string prefix = AsciiLower(WithoutTrailingSlashes(base->path));
    const bool on_boundary =
        key.starts_with(prefix) && (key.size() == prefix.size() || key[prefix.size()] == '/');
    if (!on_boundary) {
      continue;
    }
    // Both prefixes end on a segment boundary of the same path, so the longer one is deeper.
    const bool better = !best || prefix.size() > best_path_length
                        || (prefix.size() == best_path_length && provider.id < providers[*best].id);
    if (better) {
      best = i;
      best_path_length = prefix.size();
    }
  }
  if (!best) {
    return std::nullopt;
  }
  // The key only lower-cases and shortens the end of the path, so the prefix has the same length
  // in the path as sent, whose case and ".git" the provider's API gets.
  std::string_view below;
  if (key.size() > best_path_length) {
    below = std::string_view(repository.path).substr(best_path_length);
  }
  while (!below.empty() && below.front() == '/') {
    below.remove_prefix(1);
  }
  return ProviderMatch{*best, std::string(WithoutTrailingSlashes(below))};
}

}  // namespace keybridge::core

namespace keybridge::core {

std::string RepositoryPathKey(std::string_view path) {
  path = WithoutTrailingSlashes(path);
  if (path.ends_with(".git")) {
    path.remove_suffix(4);
  }
  return AsciiLower(WithoutTrailingSlashes(path));
}

bool SameRepository(const Url& a, const Url& b) {
  return a.scheme == b.scheme && a.host == b.host && a.EffectivePort() == b.EffectivePort()
         && RepositoryPathKey(a.path) == RepositoryPathKey(b.path);
}

}  // namespace keybridge::core
