#include "oauth/registry.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "core/text.h"
#include "core/url.h"
#include "crypto/base64.h"
#include "oauth/form.h"
#include "oauth/json_fields.h"

namespace keybridge::oauth {
namespace {

using internal::Json;

bool IsSpace(char c) {
  return c == ' ' || c == '\t';
}

bool IsTokenChar(char c) {
  // RFC 9110 §5.6.2 tchar.
  return std::isalnum(static_cast<unsigned char>(c)) != 0
         || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void SkipSpaces(std::string_view text, std::size_t& at) {
  while (at < text.size() && IsSpace(text[at])) {
    ++at;
  }
}

std::string BasicCredentials(const RegistryLogin& login) {
  return "Basic " + crypto::Base64Encode(login.username + ":" + login.password.Reveal());
}

// The error codes of a registry's error body ({"errors":[{"code":"DENIED",...}]}), upper-case.
std::vector<std::string> ErrorCodes(const std::string& body) {
  std::vector<std::string> codes;
  const auto parsed = internal::ParseJsonObject(body);
  if (!parsed) {
    return codes;
  }
  const auto errors = parsed->find("errors");
  if (errors == parsed->end() || !errors->is_array()) {
    return codes;
  }
  for (const Json& error : *errors) {
    if (const std::string* code = internal::StringMember(error, "code")) {
      codes.push_back(*code);
    }
  }
  return codes;
}

}  // namespace

std::optional<RegistryChallenge> ParseRegistryChallenge(std::string_view value) {
  std::size_t at = 0;
  SkipSpaces(value, at);
  const std::size_t scheme_start = at;
  while (at < value.size() && IsTokenChar(value[at])) {
    ++at;
  }
  if (at == scheme_start) {
    return std::nullopt;
  }
  RegistryChallenge challenge;
  challenge.scheme = core::AsciiLower(value.substr(scheme_start, at - scheme_start));
  while (true) {
    SkipSpaces(value, at);
    while (at < value.size() && value[at] == ',') {
      ++at;
      SkipSpaces(value, at);
    }
    if (at >= value.size()) {
      return challenge;
    }
    const std::size_t name_start = at;
    while (at < value.size() && IsTokenChar(value[at])) {
      ++at;
    }
    const std::string name = core::AsciiLower(value.substr(name_start, at - name_start));
    SkipSpaces(value, at);
    if (name.empty() || at >= value.size() || value[at] != '=') {
      // A second challenge ("Bearer ..., Basic realm=...") starts with a scheme, not a parameter;
      // the first one is complete.
      return name.empty() ? std::nullopt : std::optional(challenge);
    }
    ++at;
    SkipSpaces(value, at);
    std::string param;
    if (at < value.size() && value[at] == '"') {
      ++at;
      bool closed = false;
      while (at < value.size()) {
        const char c = value[at++];
        if (c == '\\' && at < value.size()) {
          param.push_back(value[at++]);
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          param.push_back(c);
        }
      }
      if (!closed) {
        return std::nullopt;
      }
    } else {
      const std::size_t start = at;
      while (at < value.size() && IsTokenChar(value[at])) {
        ++at;
      }
      param = std::string(value.substr(start, at - start));
    }
    if (name == "realm") {
      challenge.realm = std::move(param);
    } else if (name == "service") {
      challenge.service = std::move(param);
    } else if (name == "scope") {
      challenge.scope = std::move(param);
    }
  }
}

core::Result<core::HttpRequest> BuildRegistryTokenRequest(const RegistryChallenge& challenge,
                                                          std::string_view repository,
                                                          const RegistryLogin* login) {
  auto realm = core::ParseUrl(challenge.realm);
  if (!realm.ok() || (realm->scheme != "https" && realm->scheme != "http")
      || !realm->userinfo.empty() || realm->has_fragment) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           "The registry's token realm is not an http(s) URL");
  }
  FormFields fields;
  if (!challenge.service.empty()) {
    fields.emplace_back("service", challenge.service);
  }
  // Our own scope, not the challenge's: keybridge only ever asks to pull this one repository.
  fields.emplace_back("scope", "repository:" + std::string(repository) + ":pull");
  core::HttpRequest request;
  request.method = "GET";
  request.url = challenge.realm + (realm->has_query ? "&" : "?") + FormEncode(fields);
  request.headers = {{"Accept", "application/json"}};
  if (login != nullptr) {
    request.headers.push_back({"Authorization", BasicCredentials(*login)});
  }
  request.timeout = std::chrono::seconds(10);
  return request;
}

core::Result<RegistryToken> ParseRegistryTokenResponse(const core::HttpResponse& response) {
  if (response.status == 401 || response.status == 403) {
    return core::MakeError(core::ErrorCode::kUnauthenticated,
                           "The registry's token service refused the credentials",
                           "HTTP " + std::to_string(response.status));
  }
  const auto body = internal::ParseJsonObject(response.body);
  if (response.status != 200 || !body) {
    return core::MakeError(core::ErrorCode::kUpstreamFailed,
                           "The registry's token service answered unexpectedly",
                           "HTTP " + std::to_string(response.status));
  }
  const std::string* token = internal::StringMember(*body, "token");
  if (token == nullptr || token->empty()) {
    token = internal::StringMember(*body, "access_token");
  }
  if (token == nullptr || token->empty()) {
    return core::MakeError(core::ErrorCode::kUpstreamFailed,
                           "The registry's token service answered without a token");
  }
  RegistryToken out;
  out.token = core::Secret(*token);
  if (const auto expires_in = internal::IntegerMember(*body, "expires_in");
      expires_in && *expires_in > 0) {
    out.expires_in = core::Seconds(*expires_in);
  }
  return out;
}

std::string RegistryApiBase(std::string_view registry) {
  // Docker Hub's images are named docker.io/..., its registry API lives on registry-1.docker.io.
  if (registry == core::kDockerHubRegistry) {
    return "https://registry-1.docker.io";
  }
  return "https://" + std::string(registry);
}

core::HttpRequest BuildManifestRequest(std::string_view api_base, const core::ImageReference& image,
                                       RegistryAuthorization authorization) {
  core::HttpRequest request;
  request.method = "GET";
  request.url =
      std::string(api_base) + "/v2/" + image.repository + "/manifests/" + image.ManifestReference();
  request.headers = {{"Accept", std::string(kManifestAccept)}};
  if (authorization.bearer != nullptr) {
    request.headers.push_back({"Authorization", "Bearer " + authorization.bearer->Reveal()});
  } else if (authorization.basic != nullptr) {
    request.headers.push_back({"Authorization", BasicCredentials(*authorization.basic)});
  }
  request.timeout = std::chrono::seconds(10);
  return request;
}

ManifestLookup ParseManifestResponse(const core::HttpResponse& response) {
  ManifestLookup lookup;
  lookup.http_status = response.status;
  const std::vector<std::string> codes = ErrorCodes(response.body);
  const auto has = [&codes](std::string_view code) {
    return std::find(codes.begin(), codes.end(), code) != codes.end();
  };
  switch (response.status) {
    case 200:
      break;
    case 401:
      lookup.outcome = has("DENIED") ? ManifestOutcome::kDenied : ManifestOutcome::kUnauthorized;
      lookup.challenge = ParseRegistryChallenge(response.Header("www-authenticate"));
      return lookup;
    case 403:
      lookup.outcome = ManifestOutcome::kDenied;
      return lookup;
    case 404:
      lookup.outcome = ManifestOutcome::kNotFound;
      return lookup;
    default:
      lookup.outcome = ManifestOutcome::kFailed;
      return lookup;
  }
  const auto body = internal::ParseJsonObject(response.body);
  if (!body) {
    lookup.outcome = ManifestOutcome::kInvalidBody;
    return lookup;
  }
  const auto manifests = body->find("manifests");
  const bool is_index = manifests != body->end() && manifests->is_array();
  if (!is_index && body->find("config") == body->end() && body->find("layers") == body->end()
      && body->find("fsLayers") == body->end()) {
    lookup.outcome = ManifestOutcome::kInvalidBody;
    return lookup;
  }
  lookup.outcome = ManifestOutcome::kFound;
  if (!is_index) {
    return lookup;
  }
  for (const Json& entry : *manifests) {
    if (!entry.is_object()) {
      continue;
    }
    const auto platform = entry.find("platform");
    if (platform == entry.end() || !platform->is_object()) {
      continue;
    }
    ImagePlatform item{internal::StringMemberOr(*platform, "os"),
                       internal::StringMemberOr(*platform, "architecture"),
                       internal::StringMemberOr(*platform, "variant")};
    // BuildKit lists provenance attestations as platform unknown/unknown.
    if (item.os.empty() || item.architecture.empty() || item.os == "unknown"
        || item.architecture == "unknown") {
      continue;
    }
    if (std::find(lookup.platforms.begin(), lookup.platforms.end(), item)
        == lookup.platforms.end()) {
      lookup.platforms.push_back(std::move(item));
    }
  }
  return lookup;
}

core::Secret DockerConfigJsonBase64(std::string_view registry, const RegistryLogin& login) {
  Json entry = {{"username", login.username},
                {"password", login.password.Reveal()},
                {"auth", crypto::Base64Encode(login.username + ":" + login.password.Reveal())}};
  Json config = {{"auths", {{std::string(registry), std::move(entry)}}}};
  return core::Secret(crypto::Base64Encode(internal::DumpCompact(config)));
}

}  // namespace keybridge::oauth
