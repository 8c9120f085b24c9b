// core::ParseRepositoryUrl and core::MatchProvider (the repository check, git credentials, session
// scopes). Properties:
// - an accepted repository URL has no path segment that is empty, ".", "..", or decodes to one
//   containing '/', '\' or a control byte, also once ".git" is removed from the last one;
// - the repository path a provider is matched with never contains such a segment (no "..", no
//   "%2F"), and is the tail of the URL's path;
// - URLs that SameRepository calls the same repository (other case, ".git", trailing '/') are
//   served by the same provider, so a session scope cannot reach another integration's token.
#include <string>
#include <variant>
#include <vector>

#include "core/repository_match.h"
#include "core/text.h"
#include "core/url.h"
#include "fuzz_check.h"

namespace {

using namespace keybridge::core;  // NOLINT(google-build-using-namespace): a harness of core

Provider GitLab(std::string id, std::string url) {
  Provider p;
  p.id = ProviderId(std::move(id));
  p.kind = ProviderKind::kGitLab;
  p.url = std::move(url);
  return p;
}

const std::vector<Provider>& Providers() {
  static const std::vector<Provider> kProviders = {GitLab("root", "https://git.example.org"),
                                                   GitLab("team", "https://git.example.org/Team"),
                                                   GitLab("team2", "https://git.example.org/team/"),
                                                   GitLab("deep", "https://git.example.org/a/b/c"),
                                                   GitLab("port", "http://git.example.org:8080/x"),
                                                   GitLab("v6", "https://[::1]/gl")};
  return kProviders;
}

bool SafeSegments(std::string_view path) {
  while (!path.empty()) {
    const auto slash = path.find('/');
    const auto decoded = PercentDecode(path.substr(0, slash), false);
    if (!decoded || decoded->empty() || *decoded == "." || *decoded == ".."
        || decoded->find_first_of("/\\") != std::string::npos
        || keybridge::fuzz::HasControlBytes(*decoded)) {
      return false;
    }
    if (slash == std::string_view::npos) {
      std::string lowered = AsciiLower(*decoded);
      if (lowered.ends_with(".git")) {
        lowered.resize(lowered.size() - 4);
        return !lowered.empty() && lowered != "." && lowered != "..";
      }
      return true;
    }
    path.remove_prefix(slash + 1);
  }
  return true;
}

std::optional<RepositoryUrl> Parse(std::string_view text) {
  auto parsed = ParseRepositoryUrl(text);
  if (auto* url = std::get_if<RepositoryUrl>(&parsed)) {
    return std::move(*url);
  }
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = keybridge::fuzz::AsText(data, size);
  const auto repository = Parse(text);
  if (!repository) {
    return 0;
  }
  const Url& url = repository->url;
  FUZZ_CHECK(url.scheme == "http" || url.scheme == "https");
  FUZZ_CHECK(url.userinfo.empty() && !url.has_query && !url.has_fragment);
  FUZZ_CHECK(url.path.empty() || SafeSegments(std::string_view(url.path).substr(1)));
  const auto match = MatchProvider(Providers(), url);
  if (match) {
    FUZZ_CHECK(match->repository_path.find("..") == std::string::npos
               || SafeSegments(match->repository_path));
    FUZZ_CHECK(SafeSegments(match->repository_path));
    FUZZ_CHECK(AsciiLower(url.path).find("%2f") == std::string::npos);
    FUZZ_CHECK(url.path.ends_with(match->repository_path));
  }
  // The same repository spelled differently is served by the same provider.
  for (const std::string& variant :
       {AsciiLower(repository->text), repository->text + ".git", repository->text + "/"}) {
    const auto other = Parse(variant);
    if (!other || !SameRepository(url, other->url)) {
      continue;
    }
    const auto other_match = MatchProvider(Providers(), other->url);
    FUZZ_CHECK(match.has_value() == other_match.has_value());
    FUZZ_CHECK(!match || match->index == other_match->index);
  }
  return 0;
}
