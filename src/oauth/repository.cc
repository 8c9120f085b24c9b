#include "oauth/repository.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "core/url.h"
#include "oauth/json_fields.h"

namespace keybridge::oauth {
namespace {

using internal::Json;

core::Error BadPath(std::string message) {
  return core::MakeError(core::ErrorCode::kInvalidArgument, std::move(message));
}

// The decoded segments of `path` with a trailing ".git" removed from the last one; nullopt when a
// segment is empty, ".", "..", badly escaped or decodes to something containing '/'.
std::optional<std::vector<std::string>> Segments(std::string_view path) {
  std::vector<std::string> segments;
  while (!path.empty()) {
    const auto slash = path.find('/');
    auto decoded = core::PercentDecode(path.substr(0, slash), /*plus_is_space=*/false);
    if (!decoded || decoded->empty() || *decoded == "." || *decoded == ".."
        || decoded->find('/') != std::string::npos) {
      return std::nullopt;
    }
    segments.push_back(std::move(*decoded));
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
  }
  if (!segments.empty() && segments.back().size() > 4 && segments.back().ends_with(".git")) {
    segments.back().resize(segments.back().size() - 4);
  }
  return segments;
}

// The highest of permissions.project_access.access_level and group_access.access_level, or 0.
std::int64_t GitLabAccessLevel(const Json& body) {
  const auto permissions = body.find("permissions");
  if (permissions == body.end() || !permissions->is_object()) {
    return 0;
  }
  std::int64_t level = 0;
  for (const char* key : {"project_access", "group_access"}) {
    const auto access = permissions->find(key);
    if (access != permissions->end() && access->is_object()) {
      level = std::max(level, internal::IntegerMember(*access, "access_level").value_or(0));
    }
  }
  return level;
}

bool BoolMember(const Json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

RepositoryMetadata ReadGitLab(const Json& body) {
  RepositoryMetadata metadata;
  metadata.git_url = internal::StringMemberOr(body, "http_url_to_repo");
  metadata.web_url = internal::StringMemberOr(body, "web_url");
  const std::string visibility = internal::StringMemberOr(body, "visibility");
  // A project's repository feature can be narrower than the project (GitLab docs: Projects API,
  // "repository_access_level"):
  // "disabled" has no code to read, "private" shows it to members only.
  const std::string feature = internal::StringMemberOr(body, "repository_access_level");
  const std::int64_t level = GitLabAccessLevel(body);
  const bool readable_by_visibility =
      feature != "private" && (visibility == "public" || visibility == "internal");
  metadata.pull_permission =
      feature != "disabled" && (readable_by_visibility || level >= kGitLabReporterAccess);
  metadata.push_permission = feature != "disabled" && level >= kGitLabDeveloperAccess;
  metadata.is_public = visibility == "public" && feature != "private" && feature != "disabled";
  return metadata;
}

RepositoryMetadata ReadGitHub(const Json& body) {
  RepositoryMetadata metadata;
  metadata.git_url = internal::StringMemberOr(body, "clone_url");
  metadata.web_url = internal::StringMemberOr(body, "html_url");
  if (const std::string* visibility = internal::StringMember(body, "visibility")) {
    metadata.is_public = *visibility == "public";
  } else {
    const auto is_private = body.find("private");
    metadata.is_public =
        is_private != body.end() && is_private->is_boolean() && !is_private->get<bool>();
  }
  bool pull = false;
  bool push = false;
  if (const auto permissions = body.find("permissions");
      permissions != body.end() && permissions->is_object()) {
    pull = BoolMember(*permissions, "pull");
    push = BoolMember(*permissions, "push");
  }
  metadata.pull_permission = pull || metadata.is_public;
  metadata.push_permission = push;
  return metadata;
}

}  // namespace

core::Result<core::HttpRequest> BuildRepositoryRequest(const core::Provider& provider,
                                                       const ProviderEndpoints& endpoints,
                                                       std::string_view repository_path,
                                                       const core::Secret* access_token,
                                                       std::string_view if_none_match) {
  const auto segments = Segments(repository_path);
  if (!segments) {
    return BadPath("the repository path has an empty, dot or badly escaped segment");
  }
  std::string api_path;
  switch (provider.kind) {
    case core::ProviderKind::kGitLab: {
      // GitLab takes the full path as one id, '/' encoded as %2F (GitLab docs: REST API,
      // "Namespaced paths").
      if (segments->size() < 2) {
        return BadPath("a GitLab repository URL names a namespace and a project");
      }
      std::string full_path;
      for (const auto& segment : *segments) {
        full_path += (full_path.empty() ? "" : "/") + segment;
      }
      api_path = "/projects/" + core::PercentEncode(full_path);
      break;
    }
    case core::ProviderKind::kGitHub:
      if (segments->size() != 2) {
        return BadPath("a GitHub repository URL names exactly an owner and a repository");
      }
      api_path = "/repos/" + core::PercentEncode((*segments)[0]) + "/"
                 + core::PercentEncode((*segments)[1]);
      break;
    case core::ProviderKind::kGenericOidc:
      return BadPath("OpenID Connect integrations have no repository API");
    case core::ProviderKind::kDropbox:
    case core::ProviderKind::kGoogle:
    case core::ProviderKind::kZenodo:
      return BadPath(
          "data connector integrations (Dropbox, Google, Zenodo) have no repository API");
  }
  core::HttpRequest request;
  request.method = "GET";
  request.url = endpoints.api_base + api_path;
  request.headers = ApiHeaders(provider.kind);
  if (access_token != nullptr) {
    request.headers.push_back({"Authorization", "Bearer " + access_token->Reveal()});
  }
  if (!if_none_match.empty()) {
    request.headers.push_back({"If-None-Match", std::string(if_none_match)});
  }
  request.timeout = std::chrono::seconds(10);
  return request;
}

RepositoryLookup ParseRepositoryResponse(core::ProviderKind kind,
                                         const core::HttpResponse& response) {
  RepositoryLookup lookup;
  lookup.http_status = response.status;
  lookup.etag = response.Header("etag");
  switch (response.status) {
    case 200:
      break;
    case 304:
      lookup.outcome = RepositoryLookupOutcome::kNotModified;
      return lookup;
    case 401:
      lookup.outcome = RepositoryLookupOutcome::kUnauthorized;
      return lookup;
    case 404:
      lookup.outcome = RepositoryLookupOutcome::kNotFound;
      return lookup;
    default:
      lookup.outcome = RepositoryLookupOutcome::kFailed;
      return lookup;
  }
  const auto body = internal::ParseJsonObject(response.body);
  if (!body) {
    lookup.outcome = RepositoryLookupOutcome::kInvalidBody;
    return lookup;
  }
  switch (kind) {
    case core::ProviderKind::kGitLab:
      lookup.metadata = ReadGitLab(*body);
      break;
    case core::ProviderKind::kGitHub:
      lookup.metadata = ReadGitHub(*body);
      break;
    case core::ProviderKind::kGenericOidc:
    case core::ProviderKind::kDropbox:
    case core::ProviderKind::kGoogle:
    case core::ProviderKind::kZenodo:
      lookup.outcome = RepositoryLookupOutcome::kInvalidBody;
      return lookup;
  }
  lookup.outcome = lookup.metadata.git_url.empty() ? RepositoryLookupOutcome::kInvalidBody
                                                   : RepositoryLookupOutcome::kFound;
  return lookup;
}

}  // namespace keybridge::oauth
