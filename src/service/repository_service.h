// RepositoryService: the repository check behind GET /api/data/repository. It
// tells a caller whether a repository URL is a git repository they can pull from and push to,
// which integration serves it, and what to do when they cannot: connect (connect_url) or install
// the GitHub App (install_url). Renku's algorithm, with these differences:
//  - the provider is chosen by core::MatchProvider (longest URL prefix, deterministic) instead of
//    the first provider on the same host:port;
//  - GitLab pull needs Reporter (20), not Guest (10);
//  - the repository path below a GitLab provider's URL path names the project (Renku includes
//    the relative URL root);
//  - a refresh failure does not answer 401: the connection's status shows it and the check goes
//    on anonymously;
//  - the plain git probe goes through an SSRF guard (net::ProbeClient): loopback, private,
//    link-local and metadata addresses are refused (invalid_git_url), after DNS and on every
//    redirect, unless the server runs with --allow-private-probe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/caller.h"
#include "core/connection.h"
#include "core/http_client.h"
#include "core/provider.h"
#include "core/public_urls.h"
#include "core/repositories.h"
#include "core/result.h"
#include "oauth/repository.h"
#include "service/provider_matcher.h"
#include "service/token_service.h"

namespace keybridge::service {

// Renku's RepositoryProviderData.error_code values (no_url_path is never produced, as in Renku).
enum class RepositoryErrorCode {
  kNoUrlScheme,
  kNoUrlHost,
  kNoGitRepo,
  kInvalidUrlScheme,
  kInvalidGitUrl,
  kMetadataUnauthorized,
  kMetadataOauth,
  kMetadataUnknown,
  kMetadataValidation,
};

// "no_url_scheme", "metadata_unknown", ...
std::string_view ToString(RepositoryErrorCode code);

struct RepositoryCheck {
  // The provider answered 304 to the caller's If-None-Match: answer 304 with an empty body.
  bool not_modified = false;
  std::string etag;                            // the provider's ETag, "" if none
  std::optional<core::Provider> provider;      // the matched provider
  std::optional<core::Connection> connection;  // the caller's connection to it, any status
  std::optional<oauth::RepositoryMetadata> metadata;
  std::optional<RepositoryErrorCode> error;
  std::string message;      // a sentence for people when `error` is set (or a hint), "" if none
  std::string connect_url;  // set when a provider matched and the caller is not connected to it
  std::string install_url;  // set when a GitHub App cannot see the repository with the token

  // "valid" (metadata and no error), "invalid" (an error), "unknown" (neither).
  std::string_view Status() const;
};

class RepositoryService {
 public:
  // `provider_http` sends requests to administrator-configured provider URLs (CurlHttpClient).
  // `probe` fetches URLs the caller chose; it must be SSRF-guarded (net::ProbeClient) and report
  // a refused destination as kPermissionDenied. Every reference must outlive the service.
  // Thread-safe.
  RepositoryService(ProviderMatcher& matcher, core::ConnectionRepository& connections,
                    TokenService& tokens, core::PublicUrls urls, core::HttpClient& provider_http,
                    core::HttpClient& probe);

  // Checks `url` for `caller` (anonymous, user or session), forwarding `if_none_match` (may be
  // "") to the provider. Problems with the URL or the provider are reported in the result, not
  // as errors. Errors: kInvalidArgument "A repository url is required" for an empty url;
  // whatever the provider or connection repository fails with (database down).
  // A session caller's connection is used only within the session's scope
  // (SessionScopePolicy::CheckRepository); otherwise the provider is asked anonymously.
  core::Result<RepositoryCheck> Check(const core::Caller& caller, std::string_view url,
                                      std::string_view if_none_match);

 private:
  // Asks the matched provider, with the caller's token when there is a usable one, then
  // anonymously (Renku), and records the outcome in `check`.
  void AskProvider(const core::Caller& caller, const core::Provider& provider,
                   const core::Url& repository_url, const std::string& repository_path,
                   std::string_view if_none_match, RepositoryCheck& check);
  // GET <url>/info/refs?service=git-upload-pack through the guarded probe client.
  void Probe(const std::string& url, RepositoryCheck& check);

  // Probe failures, remembered briefly per URL: anyone may ask for a check, and a URL that leads
  // nowhere (a silent address, a private one) must not cost a probe each time it is asked.
  struct FailedProbe {
    RepositoryErrorCode error;
    std::string message;
    std::chrono::steady_clock::time_point until;
  };
  static constexpr std::chrono::seconds kFailedProbeMemory{30};
  static constexpr std::size_t kMaxFailedProbes = 4096;
  std::mutex failed_probes_mutex_;
  std::map<std::string, FailedProbe> failed_probes_;

  ProviderMatcher& matcher_;
  core::ConnectionRepository& connections_;
  TokenService& tokens_;
  const core::PublicUrls urls_;
  core::HttpClient& provider_http_;
  core::HttpClient& probe_;
};

}  // namespace keybridge::service
