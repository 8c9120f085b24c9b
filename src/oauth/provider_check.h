// The protocol half of "Test this integration": the probe requests an administrator's
// integration check sends to the provider, and how each answer reads, per provider kind. Pure:
// service::ProviderCheckService sends the requests and assembles the report.
//
// The probes catch the typos administrators make most when registering an OAuth client: a wrong URL
// or path prefix, the wrong kind, a wrong client id or secret, a wrong GitHub App slug and a
// callback URL the provider does not know. The client-credentials probe is a code exchange with a
// code that cannot be valid: RFC 6749 §5.2 servers check the client before the grant, so
// `invalid_grant` (GitHub: `bad_verification_code`, with HTTP 200) proves the id and secret are
// right, and `invalid_client` (GitHub: `incorrect_client_credentials`) proves one of them is wrong.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/http_client.h"
#include "core/provider.h"
#include "core/result.h"
#include "oauth/oidc_discovery.h"
#include "oauth/provider_profile.h"

namespace keybridge::oauth {

enum class CheckStatus { kPass, kFail, kWarn, kSkip };
// "pass" | "fail" | "warn" | "skip"
std::string_view ToString(CheckStatus status);

// One line of the checklist. `detail` says what was seen and `fix` what the administrator should
// change (empty on pass); neither ever contains the client secret or the probe code.
struct CheckResult {
  std::string id;
  std::string title;
  CheckStatus status = CheckStatus::kSkip;
  std::string detail;
  std::string fix;
};

// Check ids in report order. They are API: the UI keys its checklist on them.
inline constexpr std::string_view kCheckBaseUrl = "base_url";
inline constexpr std::string_view kCheckEndpoints = "endpoints";
inline constexpr std::string_view kCheckClientCredentials = "client_credentials";
inline constexpr std::string_view kCheckRedirectUri = "redirect_uri";
inline constexpr std::string_view kCheckScopes = "scopes";  // oauth/scope_vocabulary.h
inline constexpr std::string_view kCheckAppSlug = "app_slug";
inline constexpr std::string_view kCheckImageRegistry = "image_registry";

// A check of `id` with its title and the given status, detail and fix.
CheckResult MakeCheck(std::string_view id, CheckStatus status, std::string detail,
                      std::string fix = {});
// `id` skipped because of `reason` (an earlier failure, or not applicable to this kind).
CheckResult SkippedCheck(std::string_view id, std::string reason);

// A transport failure (core::HttpClient error: DNS, connect, TLS, timeout) as a sentence an
// administrator understands, and what to change. `field` names the setting to fix ("URL").
struct TransportProblem {
  std::string detail;
  std::string fix;
};
TransportProblem DescribeTransportError(const core::Error& error, std::string_view field);

// --- 1. base_url ---
// GET <provider url>, no credentials, 10 s timeout. TLS is verified by the HttpClient.
core::HttpRequest BuildBaseUrlProbe(const core::Provider& provider);
// Pass for any HTTP answer below 500 (a redirect to a sign-in page is normal), warn for 5xx
// (the host is up but failing), fail for a transport error.
CheckResult BaseUrlCheck(const core::Provider& provider,
                         const core::Result<core::HttpResponse>& answer);

// --- 2-4. the token endpoint probe ---
// The authorization code the probe sends. It can never have been issued (GitLab codes are 64 hex
// characters, GitHub's 20), and it is never echoed into a report or a log.
inline constexpr std::string_view kProbeCode = "keybridge-integration-check-not-a-real-code";

// POST <token endpoint> with grant_type=authorization_code, the probe code, `redirect_uri` and
// the provider's client authentication: the same request as a real code exchange.
core::HttpRequest BuildTokenProbe(const core::Provider& provider,
                                  const ProviderEndpoints& endpoints,
                                  std::string_view redirect_uri);

// The same probe shaped for `other_kind` (gitlab or github) at the configured URL, with the
// client id only (never the secret: this path is one the administrator did not choose). Used to
// say "this URL looks like GitHub" when a GitLab integration's endpoint does not exist.
// kInvalidArgument if the URL does not parse.
core::Result<core::HttpRequest> BuildKindProbe(const core::Provider& provider,
                                               core::ProviderKind other_kind,
                                               std::string_view redirect_uri);

enum class TokenProbeVerdict {
  kCredentialsAccepted,  // invalid_grant / bad_verification_code: the client is known
  kCredentialsRejected,  // invalid_client / incorrect_client_credentials, or a bare 401
  kRedirectUriRejected,  // redirect_uri_mismatch (GitHub checks it against the callback URLs)
  kOtherOAuthError,      // another RFC 6749 §5.2 error (invalid_request, unauthorized_client...)
  kServerError,          // 5xx or 429: the endpoint exists but could not answer now
  kNotOAuth,             // 404, an HTML page, a redirect, anything without an OAuth error
};

struct TokenProbe {
  TokenProbeVerdict verdict = TokenProbeVerdict::kNotOAuth;
  int status = 0;
  std::string error;            // the OAuth `error` value (sanitised), "" if none
  bool http_200_error = false;  // GitHub's shape: HTTP 200 with an `error` field
  std::string seen;             // "HTTP 400 invalid_grant", "HTTP 404 (an HTML page)", ...
};

TokenProbe ClassifyTokenProbe(const core::HttpResponse& response);

// Check 2 for every kind but generic_oidc. `answer` is the token probe's answer; `kind_probe` the
// answer of BuildKindProbe for the other kind (gitlab and github only), sent only when the token
// probe was kNotOAuth. Without an OAuth answer, a URL on a well-known host of another kind
// (github.com, gitlab.com, www.dropbox.com, accounts.google.com, zenodo.org) fails naming the
// kind to set.
CheckResult EndpointsCheck(const core::Provider& provider, const ProviderEndpoints& endpoints,
                           const core::Result<core::HttpResponse>& answer,
                           const std::optional<core::Result<core::HttpResponse>>& kind_probe);

// Check 2 for generic_oidc: discovery at oidc_issuer_url worked and named the same issuer.
// Returns the metadata on pass (for the token probe), nullopt otherwise.
CheckResult OidcEndpointsCheck(const core::Provider& provider,
                               const core::Result<core::HttpResponse>& answer,
                               std::optional<OidcMetadata>& metadata);

// Check 3 from a token probe whose endpoint exists.
CheckResult ClientCredentialsCheck(const core::Provider& provider, const TokenProbe& probe);

// Check 4 from the token probe. GitHub (both kinds) compares a sent redirect_uri with the App's
// callback URLs at the token endpoint; GitLab, OIDC servers, Dropbox, Google and Zenodo compare
// it with the code's only, so they cannot tell: skip, naming the exact URL to register and
// where.
CheckResult RedirectUriCheck(const core::Provider& provider, const TokenProbe& probe,
                             std::string_view callback_url);

// --- 5. app_slug (GitHub Apps only) ---
// GET <api base>/apps/<slug> (public, unauthenticated REST endpoint), GitHub API headers.
core::HttpRequest BuildAppProbe(const core::Provider& provider, const ProviderEndpoints& endpoints);
// Check 5 when it needs no request: skip for non-GitHub kinds and for GitHub OAuth Apps (an
// image registry integration has no App, see core::IsGitHubApp), fail for a GitHub App without a
// slug. nullopt when the slug must be looked up with BuildAppProbe.
std::optional<CheckResult> AppSlugConfigCheck(const core::Provider& provider);
// Pass when the App exists and its client_id equals the configured one.
CheckResult AppSlugCheck(const core::Provider& provider,
                         const core::Result<core::HttpResponse>& answer);

// --- 6. image_registry ---
// GET <image_registry_url>/v2/ without credentials (the Docker Registry v2 API's base endpoint).
// nullopt when the integration has no image registry URL.
std::optional<core::HttpRequest> BuildRegistryProbe(const core::Provider& provider);
// Pass when the registry answers the v2 API: 200 (anonymous access), or 401 with a Bearer
// challenge whose realm is on one of the integration's own origins (its URL or its registry's),
// the only places keybridge sends a user's token to; fail for a realm elsewhere, a transport
// error, or an answer that is not the v2 API (e.g. the GitLab web URL instead of its registry);
// warn for a Basic challenge (keybridge speaks token authentication). Skipped without a
// registry URL.
CheckResult ImageRegistryCheck(const core::Provider& provider,
                               const std::optional<core::Result<core::HttpResponse>>& answer);

}  // namespace keybridge::oauth
