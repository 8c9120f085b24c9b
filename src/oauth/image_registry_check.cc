// "Test this integration", item image_registry: does the integration's image registry answer
// the Docker Registry v2 API, and does it send clients for tokens only to the integration's own
// origins? (Declared in provider_check.h with the other checks.)
#include <optional>
#include <string>
#include <utility>

#include "core/url.h"
#include "oauth/provider_check.h"
#include "oauth/provider_check_text.h"
#include "oauth/registry.h"

namespace keybridge::oauth {

std::optional<core::HttpRequest> BuildRegistryProbe(const core::Provider& provider) {
  if (!provider.image_registry_url || provider.image_registry_url->empty()) {
    return std::nullopt;
  }
  auto parsed = core::ParseUrl(*provider.image_registry_url);
  if (!parsed.ok()) {
    return std::nullopt;
  }
  core::HttpRequest request;
  request.method = "GET";
  request.url = parsed->Origin() + "/v2/";
  request.headers = {{"Accept", "application/json"}, {"User-Agent", UserAgent()}};
  request.timeout = kProbeTimeout;
  return request;
}

CheckResult ImageRegistryCheck(const core::Provider& provider,
                               const std::optional<core::Result<core::HttpResponse>>& answer) {
  if (!answer) {
    return SkippedCheck(kCheckImageRegistry,
                        "no Image Registry URL: this integration serves no container images");
  }
  const std::string registry = Printable(provider.image_registry_url.value_or(""));
  const std::string fix_url =
      "Set Image Registry URL to the registry's own address (GitLab: its registry host, e.g. "
      "https://registry.gitlab.example.org; GitHub: https://ghcr.io), not the web URL.";
  if (!answer->ok()) {
    TransportProblem problem = DescribeTransportError(answer->error(), "Image Registry URL");
    return MakeCheck(kCheckImageRegistry, CheckStatus::kFail,
                     "GET " + registry + "/v2/: " + problem.detail, std::move(problem.fix));
  }
  const core::HttpResponse& response = **answer;
  if (response.status == 200) {
    return MakeCheck(kCheckImageRegistry, CheckStatus::kPass,
                     registry + " answers the Docker Registry API without credentials");
  }
  const std::optional<RegistryChallenge> challenge =
      response.status == 401 ? ParseRegistryChallenge(response.Header("www-authenticate"))
                             : std::nullopt;
  if (!challenge) {
    return MakeCheck(kCheckImageRegistry, CheckStatus::kFail,
                     "GET " + registry + "/v2/ answered HTTP " + std::to_string(response.status)
                         + ", not the Docker Registry API (401 with a WWW-Authenticate challenge)",
                     fix_url);
  }
  if (challenge->scheme != "bearer") {
    return MakeCheck(kCheckImageRegistry, CheckStatus::kWarn,
                     registry + " asks for " + Printable(challenge->scheme)
                         + " authentication; keybridge speaks the registry token flow (Bearer)",
                     "Check that this is the registry of " + Printable(provider.url) + ".");
  }
  auto realm = core::ParseUrl(challenge->realm);
  auto registry_url = core::ParseUrl(provider.image_registry_url.value_or(""));
  auto provider_url = core::ParseUrl(provider.url);
  const bool own = realm.ok()
                   && ((registry_url.ok() && realm->Origin() == registry_url->Origin())
                       || (provider_url.ok() && realm->Origin() == provider_url->Origin()));
  if (!own) {
    return MakeCheck(kCheckImageRegistry, CheckStatus::kFail,
                     registry + " sends clients for tokens to " + Printable(challenge->realm)
                         + ", which is neither this integration's URL nor its registry: keybridge "
                           "will not send users' tokens there",
                     "Use the registry that belongs to " + Printable(provider.url) + ". " + fix_url);
  }
  return MakeCheck(kCheckImageRegistry, CheckStatus::kPass,
                   registry + " answers the Docker Registry API; tokens come from "
                       + Printable(challenge->realm));
}

}  // namespace keybridge::oauth
