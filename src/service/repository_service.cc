#include "service/repository_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <utility>

#include "core/repository_match.h"
#include "core/text.h"
#include "service/session_scope.h"

namespace keybridge::service {
namespace {

using core::ErrorCode;
using oauth::RepositoryLookupOutcome;

constexpr std::string_view kGitAdvertisement = "application/x-git-upload-pack-advertisement";
constexpr std::size_t kMaxIfNoneMatchLength = 1024;

std::string_view Trim(std::string_view text) {
  const auto is_space = [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
  };
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

// The media type of a Content-Type value, lower-cased, without parameters.
std::string MediaType(std::string_view content_type) {
  std::string type = core::AsciiLower(Trim(content_type.substr(0, content_type.find(';'))));
  return type;
}

// An entity-tag list is printable ASCII (RFC 9110 §8.8.3); anything else is not forwarded.
std::string_view ForwardableIfNoneMatch(std::string_view value) {
  const bool printable = std::all_of(value.begin(), value.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  return printable && value.size() <= kMaxIfNoneMatchLength ? value : std::string_view{};
}

RepositoryErrorCode ErrorFor(RepositoryLookupOutcome outcome) {
  switch (outcome) {
    case RepositoryLookupOutcome::kUnauthorized:
      return RepositoryErrorCode::kMetadataUnauthorized;
    case RepositoryLookupOutcome::kInvalidBody:
      return RepositoryErrorCode::kMetadataValidation;
    case RepositoryLookupOutcome::kFound:
    case RepositoryLookupOutcome::kNotModified:
    case RepositoryLookupOutcome::kNotFound:
    case RepositoryLookupOutcome::kFailed:
      break;
  }
  return RepositoryErrorCode::kMetadataUnknown;
}

std::string MessageFor(const core::Provider& provider, const oauth::RepositoryLookup& lookup,
                       bool with_token) {
  const std::string& name = provider.display_name;
  switch (lookup.outcome) {
    case RepositoryLookupOutcome::kUnauthorized:
      return with_token ? name + " no longer accepts your access token; reconnect the integration"
                        : name + " requires signing in to describe this repository";
    case RepositoryLookupOutcome::kNotFound:
      return name + " does not know this repository, or it is not visible to "
             + (with_token ? "your account" : "anonymous users");
    case RepositoryLookupOutcome::kInvalidBody:
      return name + " answered with something that is not a repository description";
    case RepositoryLookupOutcome::kFound:
    case RepositoryLookupOutcome::kNotModified:
    case RepositoryLookupOutcome::kFailed:
      break;
  }
  return lookup.http_status == 0 ? name + " could not be reached to describe this repository"
                                 : name + " could not describe this repository (HTTP "
                                       + std::to_string(lookup.http_status) + ")";
}

void Adopt(const oauth::RepositoryLookup& lookup, RepositoryCheck& check) {
  if (lookup.outcome == RepositoryLookupOutcome::kNotModified) {
    check.not_modified = true;
  } else {
    check.metadata = lookup.metadata;
  }
  check.etag = lookup.etag;
  check.error.reset();
  check.message.clear();
}

}  // namespace

std::string_view ToString(RepositoryErrorCode code) {
  switch (code) {
    case RepositoryErrorCode::kNoUrlScheme:
      return "no_url_scheme";
    case RepositoryErrorCode::kNoUrlHost:
      return "no_url_host";
    case RepositoryErrorCode::kNoGitRepo:
      return "no_git_repo";
    case RepositoryErrorCode::kInvalidUrlScheme:
      return "invalid_url_scheme";
    case RepositoryErrorCode::kInvalidGitUrl:
      return "invalid_git_url";
    case RepositoryErrorCode::kMetadataUnauthorized:
      return "metadata_unauthorized";
    case RepositoryErrorCode::kMetadataOauth:
      return "metadata_oauth";
    case RepositoryErrorCode::kMetadataUnknown:
      return "metadata_unknown";
    case RepositoryErrorCode::kMetadataValidation:
      return "metadata_validation";
  }
  return "metadata_unknown";
}

std::string_view RepositoryCheck::Status() const {
  if (error) {
    return "invalid";
  }
  return metadata ? "valid" : "unknown";
}

RepositoryService::RepositoryService(ProviderMatcher& matcher,
                                     core::ConnectionRepository& connections, TokenService& tokens,
                                     core::PublicUrls urls, core::HttpClient& provider_http,
                                     core::HttpClient& probe)
    : matcher_(matcher),
      connections_(connections),
      tokens_(tokens),
      urls_(std::move(urls)),
      provider_http_(provider_http),
      probe_(probe) {}

core::Result<RepositoryCheck> RepositoryService::Check(const core::Caller& caller,
                                                       std::string_view url,
                                                       std::string_view if_none_match) {
  if (Trim(url).empty()) {
    return core::MakeError(ErrorCode::kInvalidArgument, "A repository url is required");
  }
  RepositoryCheck check;
  auto parsed = core::ParseRepositoryUrl(url);
  if (const auto* problem = std::get_if<core::RepositoryUrlProblem>(&parsed)) {
    switch (*problem) {
      case core::RepositoryUrlProblem::kNoScheme:
        check.error = RepositoryErrorCode::kNoUrlScheme;
        check.message = "The URL has no scheme; use e.g. https://gitlab.example.org/group/project";
        break;
      case core::RepositoryUrlProblem::kNoHost:
        check.error = RepositoryErrorCode::kNoUrlHost;
        check.message = "The URL has no host";
        break;
      case core::RepositoryUrlProblem::kUnsupportedScheme:
        check.error = RepositoryErrorCode::kInvalidUrlScheme;
        check.message = "Only http:// and https:// repository URLs can be checked";
        break;
      case core::RepositoryUrlProblem::kInvalid:
        check.error = RepositoryErrorCode::kInvalidGitUrl;
        check.message =
            "The URL is not a usable repository URL: it must parse, and must not contain "
            "credentials, a query, a fragment, or empty, '.' or '..' path segments";
        break;
    }
    return check;
  }
  const core::RepositoryUrl& repository = std::get<core::RepositoryUrl>(parsed);
  KEYBRIDGE_ASSIGN_OR_RETURN(const std::optional<ServedRepository> match,
                             matcher_.Match(repository.url));
  if (match) {
    const core::Provider& provider = match->provider;
    check.provider = provider;
    check.provider->client_secret.reset();  // the result never carries secrets
    if (caller.IsAuthenticated()) {
      KEYBRIDGE_ASSIGN_OR_RETURN(const auto mine, connections_.ListForUser(caller.user_id));
      const auto it = std::find_if(mine.begin(), mine.end(), [&](const core::Connection& c) {
        return c.provider_id == provider.id;
      });
      // A session token learns about its owner's connection (id, status) only within its
      // scope: outside it, the check answers as it would for an anonymous caller.
      if (it != mine.end()
          && SessionScopePolicy::CheckRepository(caller, repository.url, it->id).ok()) {
        check.connection = *it;
        check.connection->token.reset();
      }
    }
    AskProvider(caller, provider, repository.url, match->repository_path,
                ForwardableIfNoneMatch(if_none_match), check);
    if (check.not_modified) {
      return check;
    }
    if (!check.connection || check.connection->status != core::ConnectionStatus::kConnected) {
      check.connect_url = urls_.Authorize(provider.id);
    }
  }
  if (!check.metadata) {
    Probe(repository.text, check);
  }
  return check;
}

void RepositoryService::AskProvider(const core::Caller& caller, const core::Provider& provider,
                                    const core::Url& repository_url,
                                    const std::string& repository_path,
                                    std::string_view if_none_match, RepositoryCheck& check) {
  auto endpoints = oauth::EndpointsFor(provider, nullptr);
  if (!endpoints.ok()) {
    check.error = RepositoryErrorCode::kMetadataUnknown;
    check.message = endpoints.error().message;
    return;
  }
  auto anonymous =
      oauth::BuildRepositoryRequest(provider, *endpoints, repository_path, nullptr, if_none_match);
  if (!anonymous.ok()) {
    return;  // the path names no repository at this provider; the git probe decides
  }
  const auto lookup = [&](const core::HttpRequest& request) {
    auto response = provider_http_.Send(request);
    if (!response.ok()) {
      spdlog::warn("repository check: provider {} unreachable: {}", provider.id.value(),
                   response.error().message);
      return oauth::RepositoryLookup{};  // kFailed, http_status 0
    }
    return oauth::ParseRepositoryResponse(provider.kind, *response);
  };

  // With the caller's token first (refreshed if needed), then anonymously, as Renku does; the
  // error of the authenticated attempt is the one reported when both fail.
  std::optional<RepositoryErrorCode> token_error;
  std::string token_message;
  bool app_cannot_see = false;
  if (check.connection
      && check.connection->status == core::ConnectionStatus::kConnected
      // A session token reaches its owner's connection only within its scope.
      && SessionScopePolicy::CheckRepository(caller, repository_url, check.connection->id).ok()) {
    auto fresh = tokens_.FreshConnection(caller, check.connection->id, core::Seconds(0));
    if (!fresh.ok()) {
      token_error = RepositoryErrorCode::kMetadataOauth;
      token_message = fresh.error().message;
      // A rejected refresh token marked the connection invalid_credentials: show that.
      if (auto reread = connections_.Find(check.connection->id); reread.ok()) {
        check.connection = std::move(reread).value();
        check.connection->token.reset();
      }
    } else {
      auto request = oauth::BuildRepositoryRequest(provider, *endpoints, repository_path,
                                                   &fresh->token->access_token, if_none_match);
      const auto result = lookup(*request);
      switch (result.outcome) {
        case RepositoryLookupOutcome::kFound:
        case RepositoryLookupOutcome::kNotModified:
          Adopt(result, check);
          return;
        case RepositoryLookupOutcome::kInvalidBody:
          check.error = ErrorFor(result.outcome);  // Renku does not retry validation errors
          check.message = MessageFor(provider, result, true);
          return;
        case RepositoryLookupOutcome::kUnauthorized:
        case RepositoryLookupOutcome::kNotFound:
        case RepositoryLookupOutcome::kFailed:
          token_error = ErrorFor(result.outcome);
          token_message = MessageFor(provider, result, true);
          // A user token of a GitHub App sees only repositories the App is installed on (wire
          // facts 2.5), and GitHub answers 404 for the others.
          app_cannot_see =
              result.outcome == RepositoryLookupOutcome::kNotFound && core::IsGitHubApp(provider);
          break;
      }
    }
  }
  const auto result = lookup(*anonymous);
  if (result.outcome == RepositoryLookupOutcome::kFound
      || result.outcome == RepositoryLookupOutcome::kNotModified) {
    Adopt(result, check);
    return;
  }
  check.error = token_error.value_or(ErrorFor(result.outcome));
  check.message = token_error ? token_message : MessageFor(provider, result, false);
  if (app_cannot_see) {
    const std::string path = repository_path.ends_with(".git")
                                 ? repository_path.substr(0, repository_path.size() - 4)
                                 : repository_path;
    const std::string owner = path.substr(0, path.find('/'));
    check.error = RepositoryErrorCode::kMetadataUnknown;
    check.install_url = oauth::InstallUrl(provider);
    check.message = "The GitHub App of " + provider.display_name + " cannot access " + path
                    + ": it must be installed for '" + owner + "' (with access to this repository)"
                    + (check.install_url.empty() ? std::string(".")
                                                 : "; install it at " + check.install_url + ".");
  }
}

void RepositoryService::Probe(const std::string& url, RepositoryCheck& check) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(failed_probes_mutex_);
    auto it = failed_probes_.find(url);
    if (it != failed_probes_.end() && now < it->second.until) {
      if (!check.error) {
        check.error = it->second.error;
        check.message = it->second.message;
      }
      return;
    }
  }
  // Git smart HTTP discovery (gitprotocol-http): a git server answers the ref advertisement.
  core::HttpRequest request;
  request.method = "GET";
  request.url = url + "/info/refs?service=git-upload-pack";
  request.headers = {{"Accept", "*/*"}};
  request.timeout = std::chrono::seconds(5);
  auto response = probe_.Send(request);
  if (!response.ok()) {
    spdlog::info("repository check: probe failed: {} ({})", response.error().message,
                 response.error().detail);
    FailedProbe failed;
    if (response.error().code == ErrorCode::kPermissionDenied) {
      // One answer for "private", "does not resolve" and "port not allowed" (net::ProbeClient).
      failed.error = RepositoryErrorCode::kInvalidGitUrl;
      failed.message =
          "keybridge probes only public addresses that resolve, on ports 80 and 443; this URL "
          "leads elsewhere";
    } else {
      failed.error = RepositoryErrorCode::kNoGitRepo;
      failed.message = "No git repository answered at this URL: " + response.error().message;
    }
    failed.until = now + kFailedProbeMemory;
    {
      std::lock_guard lock(failed_probes_mutex_);
      if (failed_probes_.size() >= kMaxFailedProbes) {
        std::erase_if(failed_probes_,
                      [now](const auto& entry) { return entry.second.until <= now; });
        if (failed_probes_.size() >= kMaxFailedProbes) {
          failed_probes_.erase(failed_probes_.begin());
        }
      }
      failed_probes_[url] = failed;
    }
    if (check.error) {
      return;  // the provider's error says more
    }
    check.error = failed.error;
    check.message = failed.message;
    return;
  }
  if (response->status == 200 && MediaType(response->Header("content-type")) == kGitAdvertisement) {
    oauth::RepositoryMetadata metadata;
    metadata.git_url = url;
    metadata.pull_permission = true;
    metadata.is_public = true;
    check.metadata = std::move(metadata);
    return;
  }
  if (!check.error) {
    check.error = RepositoryErrorCode::kNoGitRepo;
    check.message =
        "No git repository answered at this URL (HTTP " + std::to_string(response->status) + ")";
  }
}

}  // namespace keybridge::service
