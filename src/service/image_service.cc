#include "service/image_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "core/url.h"
#include "service/provider_service.h"
#include "service/session_scope.h"

namespace keybridge::service {
namespace {

using core::ErrorCode;
using core::MakeError;
using oauth::ManifestOutcome;

constexpr std::string_view kGitHubAppRefusal =
    "GitHub App tokens are not accepted by ghcr.io; ask an administrator for a GitHub OAuth App "
    "integration with image_registry_url";

// What one attempt at the registry ended with.
struct Attempt {
  oauth::ManifestLookup lookup;
  // Set when keybridge stopped before the registry could answer (a realm elsewhere, a token
  // service that refused or failed): a sentence for people.
  std::string problem;
};

// GitLab's registry takes the OAuth token as the password of user "oauth2"; ghcr.io takes any
// non-empty user name with a token that has read:packages.
std::string RegistryUsername(const core::Provider& /*provider*/) {
  return "oauth2";
}

std::string OriginOf(std::string_view url) {
  auto parsed = core::ParseUrl(url);
  return parsed.ok() ? parsed->Origin() : std::string();
}

// The Docker Registry token flow for one manifest: ask without credentials; on a Bearer
// challenge get a token from its realm (with `login`, or anonymously) and ask again; on a Basic
// challenge ask again with `login`. `realm_origins`: where a token may be requested (nullptr:
// anywhere, for anonymous probes through the guarded client).
Attempt FetchManifest(core::HttpClient& http, const std::string& api_base,
                      const core::ImageReference& image, const oauth::RegistryLogin* login,
                      const std::vector<std::string>* realm_origins) {
  Attempt attempt;
  const auto send = [&http, &attempt](const core::HttpRequest& request) -> bool {
    auto response = http.Send(request);
    if (!response.ok()) {
      attempt.lookup = oauth::ManifestLookup{};
      attempt.problem = response.error().code == ErrorCode::kPermissionDenied
                            ? "keybridge checks only registries on public addresses"
                            : "The registry could not be reached: " + response.error().message;
      return false;
    }
    attempt.lookup = oauth::ParseManifestResponse(*response);
    return true;
  };
  if (!send(oauth::BuildManifestRequest(api_base, image))) {
    return attempt;
  }
  if (attempt.lookup.outcome != ManifestOutcome::kUnauthorized || !attempt.lookup.challenge) {
    return attempt;
  }
  const oauth::RegistryChallenge challenge = *attempt.lookup.challenge;
  if (challenge.scheme == "basic") {
    if (login != nullptr) {
      send(oauth::BuildManifestRequest(api_base, image, {.basic = login}));
    }
    return attempt;
  }
  if (challenge.scheme != "bearer") {
    return attempt;
  }
  if (realm_origins != nullptr
      && std::find(realm_origins->begin(), realm_origins->end(), OriginOf(challenge.realm))
             == realm_origins->end()) {
    // Never send a user's token (or, for a matched registry, even an anonymous request) to a
    // host the registry names: it could be anyone's.
    attempt.problem = "The registry named a token service outside its integration ("
                      + OriginOf(challenge.realm).substr(0, 200)
                      + "); keybridge does not send credentials there";
    return attempt;
  }
  auto token_request = oauth::BuildRegistryTokenRequest(challenge, image.repository, login);
  if (!token_request.ok()) {
    attempt.problem = token_request.error().message;
    return attempt;
  }
  auto answer = http.Send(*token_request);
  if (!answer.ok()) {
    attempt.problem =
        "The registry's token service could not be reached: " + answer.error().message;
    return attempt;
  }
  auto token = oauth::ParseRegistryTokenResponse(*answer);
  if (!token.ok()) {
    attempt.problem = token.error().message;
    return attempt;
  }
  send(oauth::BuildManifestRequest(api_base, image, {.bearer = &token->token}));
  return attempt;
}

std::string MessageFor(const core::ImageReference& image, const Attempt& attempt, bool with_token) {
  if (!attempt.problem.empty()) {
    return attempt.problem;
  }
  const std::string name = image.registry + "/" + image.repository;
  switch (attempt.lookup.outcome) {
    case ManifestOutcome::kUnauthorized:
    case ManifestOutcome::kDenied:
      return with_token ? image.registry + " does not let your account pull " + name
                        : image.registry + " requires signing in to pull " + name;
    case ManifestOutcome::kNotFound:
      return image.registry + " does not know " + image.ToString() + ", or it is not visible to "
             + (with_token ? "your account" : "anonymous users");
    case ManifestOutcome::kInvalidBody:
      return image.registry + " answered with something that is not an image manifest";
    case ManifestOutcome::kFound:
    case ManifestOutcome::kFailed:
      break;
  }
  return image.registry + " could not describe " + name + " (HTTP "
         + std::to_string(attempt.lookup.http_status) + ")";
}

}  // namespace

bool IsGitHubAppIntegration(const core::Provider& provider) {
  return provider.kind == core::ProviderKind::kGitHub
         && (!provider.app_slug.empty() || core::IsGitHubApp(provider));
}

ImageService::ImageService(ProviderMatcher& matcher, core::ConnectionRepository& connections,
                           TokenService& tokens, core::PublicUrls urls,
                           core::HttpClient& provider_http, core::HttpClient& probe)
    : matcher_(matcher),
      connections_(connections),
      tokens_(tokens),
      urls_(std::move(urls)),
      provider_http_(provider_http),
      probe_(probe) {}

core::Result<ImageCheck> ImageService::Check(const core::Caller& caller,
                                             std::string_view image_url) {
  if (image_url.find_first_not_of(" \t") == std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "An image_url is required");
  }
  ImageCheck check;
  KEYBRIDGE_ASSIGN_OR_RETURN(check.image, core::ParseImageReference(image_url));
  const core::ImageReference& image = check.image;
  KEYBRIDGE_ASSIGN_OR_RETURN(std::optional<core::Provider> provider,
                             matcher_.MatchRegistry(image.registry));
  if (!provider) {
    // No integration: only a public image can be checked, anonymously, on a public address.
    const Attempt attempt =
        FetchManifest(probe_, oauth::RegistryApiBase(image.registry), image, nullptr, nullptr);
    check.accessible = attempt.lookup.outcome == ManifestOutcome::kFound;
    check.platforms = attempt.lookup.platforms;
    if (!check.accessible) {
      check.message = MessageFor(image, attempt, false);
    }
    return check;
  }
  provider->client_secret.reset();  // the result never carries secrets
  check.provider = *provider;
  const std::string registry_url = provider->image_registry_url.value_or("");
  const std::string api_base = OriginOf(registry_url);
  const std::vector<std::string> realm_origins = {api_base, OriginOf(provider->url)};

  // A session token learns about its owner's connection only within its image scope; outside
  // it the check answers as for an anonymous caller.
  if (caller.IsAuthenticated() && SessionScopePolicy::CheckImage(caller, image).ok()) {
    KEYBRIDGE_ASSIGN_OR_RETURN(const auto mine, connections_.ListForUser(caller.user_id));
    const auto it = std::find_if(mine.begin(), mine.end(), [&](const core::Connection& c) {
      return c.provider_id == provider->id;
    });
    if (it != mine.end()) {
      check.connection = *it;
      check.connection->token.reset();
    }
  }
  std::string token_message;
  if (check.connection && check.connection->status == core::ConnectionStatus::kConnected) {
    if (IsGitHubAppIntegration(*provider)) {
      token_message = std::string(kGitHubAppRefusal);
    } else if (auto fresh = tokens_.FreshConnection(caller, check.connection->id, core::Seconds(0));
               !fresh.ok()) {
      token_message = fresh.error().message;
      // A rejected refresh token marked the connection invalid_credentials: show that.
      if (auto reread = connections_.Find(check.connection->id); reread.ok()) {
        check.connection = std::move(reread).value();
        check.connection->token.reset();
      }
    } else {
      const oauth::RegistryLogin login{RegistryUsername(*provider), fresh->token->access_token};
      const Attempt attempt =
          FetchManifest(provider_http_, api_base, image, &login, &realm_origins);
      if (attempt.lookup.outcome == ManifestOutcome::kFound) {
        check.accessible = true;
        check.platforms = attempt.lookup.platforms;
        return check;
      }
      token_message = MessageFor(image, attempt, true);
    }
  }
  // Then anonymously, as the repository check does: a public image needs no connection.
  const Attempt anonymous = FetchManifest(provider_http_, api_base, image, nullptr, &realm_origins);
  check.accessible = anonymous.lookup.outcome == ManifestOutcome::kFound;
  check.platforms = anonymous.lookup.platforms;
  if (!check.accessible) {
    check.message = token_message.empty() ? MessageFor(image, anonymous, false) : token_message;
  }
  if (!check.connection || check.connection->status != core::ConnectionStatus::kConnected) {
    check.connect_url = urls_.Authorize(provider->id);
  }
  return check;
}

core::Result<RegistryCredentialLookup> ImageService::PullSecret(const core::Caller& caller,
                                                                std::string_view image_url,
                                                                const TokenDemand& demand) {
  KEYBRIDGE_RETURN_IF_ERROR(RequireUser(caller));
  if (image_url.find_first_not_of(" \t") == std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "An image_url is required");
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(core::ImageReference image, core::ParseImageReference(image_url));
  core::Status in_scope = SessionScopePolicy::CheckImage(caller, image);
  return LookupFor(caller, std::move(image.registry), std::move(in_scope), demand);
}

core::Result<RegistryCredentialLookup> ImageService::RegistryCredentials(
    const core::Caller& caller, std::string_view server_url, const TokenDemand& demand) {
  KEYBRIDGE_RETURN_IF_ERROR(RequireUser(caller));
  KEYBRIDGE_ASSIGN_OR_RETURN(std::string registry, core::RegistryHostOf(server_url));
  core::Status in_scope = SessionScopePolicy::CheckRegistry(caller, registry);
  return LookupFor(caller, std::move(registry), std::move(in_scope), demand);
}

core::Result<RegistryCredentialLookup> ImageService::LookupFor(const core::Caller& caller,
                                                               std::string registry,
                                                               core::Status in_scope,
                                                               const TokenDemand& demand) {
  KEYBRIDGE_ASSIGN_OR_RETURN(std::optional<core::Provider> provider,
                             matcher_.MatchRegistry(registry));
  if (!provider) {
    return MakeError(ErrorCode::kNotFound,
                     "No integration serves registry " + registry.substr(0, 200) + ".");
  }
  provider->client_secret.reset();
  RegistryCredentialLookup lookup{std::move(provider).value(), std::move(registry),
                                  MakeError(ErrorCode::kInternal, "unset"), ""};
  // A session outside its scope learns nothing more, and connecting would not help it.
  if (!in_scope.ok()) {
    lookup.credential = std::move(in_scope).TakeError();
    return lookup;
  }
  if (IsGitHubAppIntegration(lookup.provider)) {
    lookup.credential = MakeError(ErrorCode::kInvalidArgument, std::string(kGitHubAppRefusal));
    return lookup;
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(std::vector<core::Connection> connections,
                             connections_.ListForUser(caller.user_id));
  const auto connection =
      std::find_if(connections.begin(), connections.end(),
                   [&](const core::Connection& c) { return c.provider_id == lookup.provider.id; });
  if (connection == connections.end() || connection->status == core::ConnectionStatus::kPending) {
    lookup.connect_url = urls_.Authorize(lookup.provider.id);
    lookup.credential =
        MakeError(ErrorCode::kNotFound, "You have no connection to " + lookup.provider.display_name
                                            + ". Connect at " + lookup.connect_url);
    return lookup;
  }
  auto fresh = tokens_.FreshConnection(caller, connection->id, demand);
  if (!fresh.ok()) {
    if (fresh.error().code == ErrorCode::kReauthorizationRequired) {
      lookup.connect_url = urls_.Authorize(lookup.provider.id);
    }
    lookup.credential = std::move(fresh).TakeError();
    return lookup;
  }
  RegistryCredential credential;
  credential.username = RegistryUsername(lookup.provider);
  credential.secret = fresh->token->access_token;
  credential.expires_at = fresh->token->expires_at;
  // The connection keeps its token: the route's audit event records its fingerprint.
  credential.connection = std::move(fresh).value();
  lookup.credential = std::move(credential);
  return lookup;
}

}  // namespace keybridge::service
