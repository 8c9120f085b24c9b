// The provider API answers keybridge reads with a user's token: oauth::ParseAccount (GitLab /user,
// GitHub /user, OIDC userinfo), oauth::ParseInstallations (GitHub App installations) and
// oauth::ParseRepositoryResponse (GitLab project / GitHub repository). First byte: which parser and
// kind, and the status; the rest: the JSON body. Properties:
// - an account has a non-empty username (the header's promise);
// - installations come only from a 200, and a next page only from a Link header;
// - a found repository has a clone URL; GitLab never grants push without pull; kFound only on a
//   200, kUnauthorized only on a 401, kNotModified only on a 304;
// - every error message is free of control bytes.
#include <string>

#include "fuzz_check.h"
#include "oauth/account.h"
#include "oauth/installations.h"
#include "oauth/repository.h"

namespace {

using keybridge::core::ProviderKind;
using keybridge::oauth::RepositoryLookupOutcome;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  static constexpr int kStatuses[] = {200, 200, 200, 401, 404, 304, 403, 503};
  keybridge::core::HttpResponse response;
  response.status = kStatuses[(data[0] >> 2U) % 8];
  response.headers.push_back({"content-type", "application/json"});
  if ((data[0] & 0x20U) != 0) {
    response.headers.push_back(
        {"link", "<https://api.github.com/user/installations?page=2>; rel=\"next\""});
  }
  response.body = std::string(keybridge::fuzz::AsText(data + 1, size - 1));
  const auto& kinds = keybridge::core::kAllProviderKinds;
  const ProviderKind kind = kinds[(data[0] >> 5U) % kinds.size()];
  switch (data[0] & 3U) {
    case 0: {
      auto account = keybridge::oauth::ParseAccount(kind, response);
      if (account.ok()) {
        FUZZ_CHECK(response.status == 200 && !account->username.empty());
      } else {
        FUZZ_CHECK(!keybridge::fuzz::HasControlBytes(account.error().message));
      }
      break;
    }
    case 1: {
      auto page = keybridge::oauth::ParseInstallations(response);
      if (page.ok()) {
        FUZZ_CHECK(response.status == 200);
        FUZZ_CHECK(!page->has_next_page || !response.Header("link").empty());
      } else {
        FUZZ_CHECK(!keybridge::fuzz::HasControlBytes(page.error().message));
      }
      break;
    }
    default: {
      const auto lookup = keybridge::oauth::ParseRepositoryResponse(kind, response);
      if (lookup.outcome == RepositoryLookupOutcome::kFound) {
        FUZZ_CHECK(response.status == 200);
        FUZZ_CHECK(kind == ProviderKind::kGitLab || kind == ProviderKind::kGitHub);
        FUZZ_CHECK(!lookup.metadata.git_url.empty());
        if (kind == ProviderKind::kGitLab) {
          FUZZ_CHECK(!lookup.metadata.push_permission.value_or(false)
                     || lookup.metadata.pull_permission);
        }
      }
      FUZZ_CHECK(lookup.outcome != RepositoryLookupOutcome::kUnauthorized
                 || response.status == 401);
      FUZZ_CHECK(lookup.outcome != RepositoryLookupOutcome::kNotModified || response.status == 304);
      break;
    }
  }
  return 0;
}
