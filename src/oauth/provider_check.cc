#include "oauth/provider_check.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string>
#include <utility>

#include "core/text.h"
#include "core/url.h"
#include "oauth/form.h"
#include "oauth/json_fields.h"
#include "oauth/provider_check_text.h"
#include "oauth/token_request.h"

namespace keybridge::oauth {
namespace {

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// An OAuth `error` value goes into the report: RFC 6749 §5.2 limits it to printable ASCII, we
// keep only the characters real error codes use, bounded.
std::string SanitiseErrorCode(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '_' || c == '-' || c == '.') {
      out += c;
    }
  }
  return out;
}

std::string Title(std::string_view id) {
  if (id == kCheckBaseUrl) {
    return "Provider URL answers";
  }
  if (id == kCheckEndpoints) {
    return "OAuth endpoints exist";
  }
  if (id == kCheckClientCredentials) {
    return "Client ID and Client Secret are accepted";
  }
  if (id == kCheckRedirectUri) {
    return "Callback URL is registered";
  }
  if (id == kCheckScopes) {
    return "Scopes are ones the provider knows";
  }
  if (id == kCheckAppSlug) {
    return "GitHub App slug";
  }
  if (id == kCheckImageRegistry) {
    return "Image registry answers";
  }
  return std::string(id);
}

bool IsHtml(const core::HttpResponse& response) {
  if (Contains(core::AsciiLower(response.Header("content-type")), "html")) {
    return true;
  }
  const auto start = response.body.find_first_not_of(" \t\r\n");
  return start != std::string::npos && response.body[start] == '<';
}

// The OAuth `error` of a token-endpoint answer: JSON (RFC 6749 §5.2) or form-encoded (GitHub
// without Accept: application/json). "" when the body carries none.
std::string OAuthError(const core::HttpResponse& response) {
  if (auto json = internal::ParseJsonObject(response.body)) {
    return SanitiseErrorCode(internal::StringMemberOr(*json, "error"));
  }
  if (IsHtml(response)) {
    return {};
  }
  if (auto fields = FormDecode(response.body)) {
    if (const std::string* error = FindField(*fields, "error")) {
      return SanitiseErrorCode(*error);
    }
  }
  return {};
}

// scheme://host[:port]/path of a redirect target, without query or fragment (which could carry
// anything), for a sentence.
std::string RedirectTarget(const core::HttpResponse& response) {
  const std::string location = response.Header("location");
  auto url = core::ParseUrl(location);
  if (!url.ok()) {
    return "a relative location";
  }
  return Printable(url->Origin() + url->path);
}

std::string Seen(const core::HttpResponse& response, const std::string& error) {
  std::string seen = "HTTP " + std::to_string(response.status);
  if (!error.empty()) {
    return seen + " " + error;
  }
  if (response.status >= 300 && response.status < 400) {
    return seen + " (a redirect to " + RedirectTarget(response) + ")";
  }
  if (IsHtml(response)) {
    return seen + " (an HTML page)";
  }
  if (response.body.empty()) {
    return seen + " (an empty body)";
  }
  return seen + " (no OAuth error in the body)";
}

// The App's public page: https://github.com/apps/<slug>, or <url>/github-apps/<slug> on GitHub
// Enterprise Server (GitHub Enterprise Server docs: "Installing your own GitHub App").
std::string AppPageExample(const core::Provider& provider) {
  auto url = core::ParseUrl(provider.url);
  if (url.ok() && url->host != "github.com" && url->host != "www.github.com") {
    std::string base = provider.url;
    while (!base.empty() && base.back() == '/') {
      base.pop_back();
    }
    return base + "/github-apps/<slug>";
  }
  return "https://github.com/apps/<slug>";
}

}  // namespace

// Text a provider or an administrator controls, quoted in a sentence: printable ASCII, bounded.
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 200)) {
    const auto u = static_cast<unsigned char>(c);
    out += u >= 0x20 && u < 0x7f ? c : '?';
  }
  return out;
}

std::string_view ToString(CheckStatus status) {
  switch (status) {
    case CheckStatus::kPass:
      return "pass";
    case CheckStatus::kFail:
      return "fail";
    case CheckStatus::kWarn:
      return "warn";
    case CheckStatus::kSkip:
      return "skip";
  }
  return "skip";
}

CheckResult MakeCheck(std::string_view id, CheckStatus status, std::string detail,
                      std::string fix) {
  CheckResult check;
  check.id = std::string(id);
  check.title = Title(id);
  check.status = status;
  check.detail = std::move(detail);
  check.fix = status == CheckStatus::kPass ? std::string() : std::move(fix);
  return check;
}

CheckResult SkippedCheck(std::string_view id, std::string reason) {
  return MakeCheck(id, CheckStatus::kSkip, std::move(reason));
}

TransportProblem DescribeTransportError(const core::Error& error, std::string_view field) {
  // CurlHttpClient puts curl_easy_strerror() in the message and curl's error buffer in the detail
  // (net/curl_http_client.cc); both name at most the host, never a path or a secret.
  const std::string text = core::AsciiLower(error.message + " " + error.detail);
  const std::string field_name(field);
  if (Contains(text, "resolve")) {
    return {"host not found: check the URL for typos (" + Printable(error.message) + ")",
            "Correct the host name in " + field_name
                + "; it must be a name this server can resolve (e.g. gitlab.example.org)."};
  }
  if (Contains(text, "timed out") || Contains(text, "timeout")) {
    return {"no answer within 10 seconds (" + Printable(error.message) + ")",
            "Check the host and port in " + field_name
                + ", and that this server may reach the provider (firewall, HTTP proxy)."};
  }
  if (Contains(text, "expired")) {
    return {"the provider's TLS certificate has expired (" + Printable(error.message) + ")",
            "Ask the provider's administrator to renew the certificate."};
  }
  if (Contains(text, "self-signed") || Contains(text, "self signed")
      || Contains(text, "local issuer") || Contains(text, "unknown ca")
      || Contains(text, "cannot be authenticated")) {
    return {
        "the provider's TLS certificate is not trusted: it is self-signed or issued by a "
        "private certificate authority ("
            + Printable(error.message) + ")",
        "Start keybridge with --ca-file pointing at the PEM certificate of the authority that "
        "signed it, or give the provider a certificate from a public authority."};
  }
  if (Contains(text, "subject name") || Contains(text, "does not match")
      || Contains(text, "doesn't match")) {
    return {"the provider's TLS certificate is for another host name (" + Printable(error.message)
                + ")",
            "Use in " + field_name + " the host name the certificate was issued for."};
  }
  if (Contains(text, "ssl") || Contains(text, "tls") || Contains(text, "certificate")) {
    return {"the TLS handshake failed (" + Printable(error.message) + ")",
            "Check that " + field_name
                + " starts with https:// only if the provider speaks TLS on that port, and that "
                  "its certificate is valid."};
  }
  if (Contains(text, "connect")) {
    return {
        "the host refused the connection or cannot be reached (" + Printable(error.message) + ")",
        "Check the scheme and port in " + field_name
            + " (most providers use https:// without a port) and that the provider is up."};
  }
  return {"cannot reach the provider (" + Printable(error.message) + ")",
          "Check " + field_name + " and that this server can reach the provider."};
}

core::HttpRequest BuildBaseUrlProbe(const core::Provider& provider) {
  core::HttpRequest request;
  request.method = "GET";
  request.url = provider.url;
  request.headers = {{"Accept", "text/html,application/json"}, {"User-Agent", UserAgent()}};
  request.timeout = kProbeTimeout;
  return request;
}

CheckResult BaseUrlCheck(const core::Provider& provider,
                         const core::Result<core::HttpResponse>& answer) {
  if (!answer.ok()) {
    TransportProblem problem = DescribeTransportError(answer.error(), "URL");
    if (provider.url == core::CanonicalProviderUrl(provider.kind)) {
      // Dropbox's and Google's URL is fixed: nothing in the integration to correct.
      problem.fix = "The URL is " + KindName(provider.kind)
                    + "'s own and cannot be wrong: let this server reach it (DNS, firewall, "
                      "outbound proxy), then run the check again.";
    }
    return MakeCheck(kCheckBaseUrl, CheckStatus::kFail,
                     "GET " + provider.url + ": " + problem.detail, std::move(problem.fix));
  }
  const bool tls = provider.url.starts_with("https://");
  const std::string transport =
      tls ? " over HTTPS with a valid TLS certificate" : " over plain HTTP (no TLS)";
  const std::string seen =
      "GET " + provider.url + " answered HTTP " + std::to_string(answer->status) + transport;
  if (answer->status >= 500) {
    return MakeCheck(kCheckBaseUrl, CheckStatus::kWarn,
                     seen + ", a server error: the provider is up but failing",
                     "Try the check again later; if it persists, ask the provider's "
                     "administrator.");
  }
  return MakeCheck(kCheckBaseUrl, CheckStatus::kPass, seen);
}

core::HttpRequest BuildTokenProbe(const core::Provider& provider,
                                  const ProviderEndpoints& endpoints,
                                  std::string_view redirect_uri) {
  const core::Secret code{std::string(kProbeCode)};
  core::HttpRequest request = BuildCodeExchange(provider, endpoints, redirect_uri, code, nullptr);
  request.timeout = kProbeTimeout;
  return request;
}

core::Result<core::HttpRequest> BuildKindProbe(const core::Provider& provider,
                                               core::ProviderKind other_kind,
                                               std::string_view redirect_uri) {
  core::Provider other = provider;
  other.kind = other_kind;
  other.client_secret.reset();
  KEYBRIDGE_ASSIGN_OR_RETURN(const ProviderEndpoints endpoints, EndpointsFor(other, nullptr));
  return BuildTokenProbe(other, endpoints, redirect_uri);
}

TokenProbe ClassifyTokenProbe(const core::HttpResponse& response) {
  TokenProbe probe;
  probe.status = response.status;
  probe.error = OAuthError(response);
  probe.http_200_error = response.status == 200 && !probe.error.empty();
  probe.seen = Seen(response, probe.error);
  if (response.status >= 500 || response.status == 429) {
    probe.verdict = TokenProbeVerdict::kServerError;
  } else if (probe.error == "invalid_grant" || probe.error == "bad_verification_code") {
    probe.verdict = TokenProbeVerdict::kCredentialsAccepted;
    // A bare 401 below means the same as invalid_client, but only when no OAuth error says
    // something else, so the two branches cannot be merged.
    // NOLINTNEXTLINE(bugprone-branch-clone)
  } else if (probe.error == "invalid_client" || probe.error == "incorrect_client_credentials") {
    probe.verdict = TokenProbeVerdict::kCredentialsRejected;
  } else if (probe.error == "redirect_uri_mismatch") {
    probe.verdict = TokenProbeVerdict::kRedirectUriRejected;
  } else if (!probe.error.empty()) {
    probe.verdict = TokenProbeVerdict::kOtherOAuthError;
  } else if (response.status == 401) {
    // RFC 6749 §5.2: a server may reject client authentication with a bare 401.
    probe.verdict = TokenProbeVerdict::kCredentialsRejected;
  } else {
    probe.verdict = TokenProbeVerdict::kNotOAuth;
  }
  return probe;
}

CheckResult EndpointsCheck(const core::Provider& provider, const ProviderEndpoints& endpoints,
                           const core::Result<core::HttpResponse>& answer,
                           const std::optional<core::Result<core::HttpResponse>>& kind_probe) {
  const std::string where = "POST " + endpoints.token_url;
  if (!answer.ok()) {
    TransportProblem problem = DescribeTransportError(answer.error(), "URL");
    return MakeCheck(kCheckEndpoints, CheckStatus::kFail, where + ": " + problem.detail,
                     std::move(problem.fix));
  }
  const TokenProbe probe = ClassifyTokenProbe(*answer);
  if (probe.verdict == TokenProbeVerdict::kServerError) {
    return MakeCheck(kCheckEndpoints, CheckStatus::kFail,
                     where + " answered " + probe.seen + ": the provider could not answer now",
                     "Try the check again later; if it persists, ask the provider's "
                     "administrator.");
  }
  if (probe.verdict != TokenProbeVerdict::kNotOAuth) {
    return MakeCheck(kCheckEndpoints, CheckStatus::kPass,
                     where + " answered " + probe.seen + ", as a " + KindName(provider.kind)
                         + " token endpoint does");
  }
  const std::string detail = where + " answered " + probe.seen + ": there is no "
                             + KindName(provider.kind) + " OAuth token endpoint at this URL";
  // Wrong kind: the other kind's token endpoint answers at the same URL (a GitLab URL with kind
  // GitHub, or the reverse). GitHub answers its errors with HTTP 200 (GitHub docs: "Troubleshooting
  // OAuth App access token request errors"), GitLab (Doorkeeper) with 400/401 JSON, so the shape
  // tells them apart.
  if (kind_probe && kind_probe->ok()) {
    const TokenProbe other = ClassifyTokenProbe(kind_probe->value());
    // An OAuth `error` in the body, not just a 401 (a password-protected site answers that too).
    const bool oauth = other.verdict != TokenProbeVerdict::kNotOAuth
                       && other.verdict != TokenProbeVerdict::kServerError && !other.error.empty();
    if (oauth && provider.kind == core::ProviderKind::kGitLab && other.http_200_error) {
      return MakeCheck(kCheckEndpoints, CheckStatus::kFail,
                       detail + "; the URL looks like GitHub (its /login/oauth/access_token "
                                "answers like GitHub's)",
                       "Set Kind to GitHub (GitHub Enterprise Server also uses the GitHub kind, "
                       "with its own URL), or correct URL if this integration is for a GitLab.");
    }
    if (oauth && provider.kind == core::ProviderKind::kGitHub && !other.http_200_error) {
      return MakeCheck(kCheckEndpoints, CheckStatus::kFail,
                       detail + "; the URL looks like GitLab (its /oauth/token answers like "
                                "GitLab's)",
                       "Set Kind to GitLab, or correct URL if this integration is for a GitHub.");
    }
  }
  // A well-known public host of another kind (a zenodo integration at https://github.com, a
  // gitlab one at https://www.dropbox.com) needs no probe to tell.
  if (const auto known = KindOfWellKnownHost(provider.url); known && *known != provider.kind) {
    return MakeCheck(kCheckEndpoints, CheckStatus::kFail,
                     detail + "; the URL is " + KindName(*known) + "'s",
                     "Set Kind to " + KindName(*known) + ", or correct URL if this integration is "
                         + "for " + KindName(provider.kind) + ".");
  }
  return MakeCheck(kCheckEndpoints, CheckStatus::kFail, detail, UrlAdvice(provider));
}

CheckResult OidcEndpointsCheck(const core::Provider& provider,
                               const core::Result<core::HttpResponse>& answer,
                               std::optional<OidcMetadata>& metadata) {
  metadata.reset();
  const std::string issuer = provider.oidc_issuer_url.value_or("");
  const std::string where = "GET " + BuildDiscoveryRequest(issuer).url;
  if (!answer.ok()) {
    TransportProblem problem = DescribeTransportError(answer.error(), "OpenID Connect Issuer URL");
    return MakeCheck(kCheckEndpoints, CheckStatus::kFail, where + ": " + problem.detail,
                     std::move(problem.fix));
  }
  auto parsed = ParseDiscovery(*answer, issuer);
  if (!parsed.ok()) {
    return MakeCheck(kCheckEndpoints, CheckStatus::kFail, where + ": " + parsed.error().message,
                     "Set OpenID Connect Issuer URL to the issuer exactly as the provider spells "
                     "it (the part before /.well-known/openid-configuration, same trailing "
                     "slash).");
  }
  metadata = std::move(parsed).value();
  return MakeCheck(kCheckEndpoints, CheckStatus::kPass,
                   where + " names the same issuer and the token endpoint "
                       + Printable(metadata->token_endpoint));
}

CheckResult ClientCredentialsCheck(const core::Provider& provider, const TokenProbe& probe) {
  const std::string seen = "the token endpoint answered " + probe.seen;
  switch (probe.verdict) {
    case TokenProbeVerdict::kCredentialsAccepted:
      return MakeCheck(kCheckClientCredentials, CheckStatus::kPass,
                       seen + " to a deliberately invalid code: the provider accepted the Client "
                              "ID and Client Secret and rejected only the code");
    case TokenProbeVerdict::kRedirectUriRejected:
      // GitHub authenticates the client before it looks at redirect_uri.
      return MakeCheck(kCheckClientCredentials, CheckStatus::kPass,
                       seen + ": the provider accepted the Client ID and Client Secret and then "
                              "rejected the callback URL (see redirect_uri)");
    case TokenProbeVerdict::kCredentialsRejected:
      return MakeCheck(kCheckClientCredentials, CheckStatus::kFail,
                       seen + ": the Client ID or Client Secret is wrong",
                       CredentialsAdvice(provider));
    case TokenProbeVerdict::kOtherOAuthError: {
      std::string fix = "Check the Client ID and Client Secret";
      if (probe.error == "unauthorized_client") {
        fix += ", and allow the authorization code grant for this client at the provider";
      }
      return MakeCheck(kCheckClientCredentials, CheckStatus::kWarn,
                       seen + ", which does not tell whether the Client ID and Client Secret are "
                              "right",
                       fix + ".");
    }
    case TokenProbeVerdict::kServerError:
      return MakeCheck(kCheckClientCredentials, CheckStatus::kFail,
                       seen + ": the provider could not answer now",
                       "Try the check again later; if it persists, ask the provider's "
                       "administrator.");
    case TokenProbeVerdict::kNotOAuth:
      return MakeCheck(kCheckClientCredentials, CheckStatus::kFail,
                       seen + ", which is not an OAuth token endpoint answer", UrlAdvice(provider));
  }
  return MakeCheck(kCheckClientCredentials, CheckStatus::kFail, seen);
}

CheckResult RedirectUriCheck(const core::Provider& provider, const TokenProbe& probe,
                             std::string_view callback_url) {
  const std::string callback(callback_url);
  if (provider.kind != core::ProviderKind::kGitHub) {
    // Doorkeeper (GitLab), most OIDC servers, Dropbox, Google and Invenio (Zenodo) compare
    // redirect_uri only with the one the code was issued for (RFC 6749 §4.1.3), so an invalid
    // code reveals nothing about it.
    const std::string where = RedirectUriPlace(provider.kind);
    return MakeCheck(kCheckRedirectUri, CheckStatus::kSkip,
                     KindName(provider.kind)
                         + " does not reveal its registered redirect URIs to this check; the "
                           "callback URL to register is "
                         + callback,
                     "Make sure " + callback + " is " + where + ", exactly (scheme, host, port "
                     "and path).");
  }
  switch (probe.verdict) {
    case TokenProbeVerdict::kRedirectUriRejected:
      return MakeCheck(kCheckRedirectUri, CheckStatus::kFail,
                       "GitHub answered redirect_uri_mismatch: " + callback
                           + " is not a callback URL of this App",
                       "In the GitHub App's settings, add " + callback
                           + " under Callback URL (exactly: scheme, host, port and path) and save "
                             "the App.");
    case TokenProbeVerdict::kCredentialsAccepted:
      return MakeCheck(kCheckRedirectUri, CheckStatus::kPass,
                       "GitHub accepted " + callback + " as a callback URL of this App");
    default:
      return SkippedCheck(kCheckRedirectUri,
                          "GitHub checks the callback URL only after it accepted the Client ID "
                          "and Client Secret; the callback URL to register is "
                              + callback);
  }
}

core::HttpRequest BuildAppProbe(const core::Provider& provider,
                                const ProviderEndpoints& endpoints) {
  core::HttpRequest request;
  request.method = "GET";
  request.url = endpoints.api_base + "/apps/" + core::PercentEncode(provider.app_slug);
  request.headers = ApiHeaders(core::ProviderKind::kGitHub);
  request.timeout = kProbeTimeout;
  return request;
}

std::optional<CheckResult> AppSlugConfigCheck(const core::Provider& provider) {
  if (provider.kind != core::ProviderKind::kGitHub) {
    return SkippedCheck(kCheckAppSlug, "only GitHub App integrations have an App slug");
  }
  if (provider.image_registry_url && !provider.image_registry_url->empty()) {
    return SkippedCheck(kCheckAppSlug,
                        "this GitHub integration has an Image Registry URL, so it is an OAuth App "
                        "for the registry and needs no App slug");
  }
  if (provider.app_slug.empty()) {
    // GitHub App client ids start with "Iv"; an OAuth App's ("Ov23", or 20 hex digits) do not.
    if (provider.client_id.starts_with("Iv")) {
      return MakeCheck(kCheckAppSlug, CheckStatus::kFail,
                       "Application slug is empty, but the client id is a GitHub App's; users "
                       "cannot be sent to install the GitHub App",
                       "Set Application slug to the last path segment of the App's public page ("
                           + AppPageExample(provider)
                           + "; GitHub shows it in the App's settings as \"Public link\").");
    }
    return SkippedCheck(kCheckAppSlug,
                        "no App slug: this is a GitHub OAuth App (scopes such as `repo "
                        "read:packages`), which has no installations");
  }
  return std::nullopt;
}

CheckResult AppSlugCheck(const core::Provider& provider,
                         const core::Result<core::HttpResponse>& answer) {
  const std::string slug = Printable(provider.app_slug);
  if (!answer.ok()) {
    TransportProblem problem = DescribeTransportError(answer.error(), "URL");
    return MakeCheck(kCheckAppSlug, CheckStatus::kFail,
                     "looking up the GitHub App \"" + slug + "\": " + problem.detail,
                     std::move(problem.fix));
  }
  const std::string where_to_look =
      "Set Application slug to the last path segment of the App's "
      "public page ("
      + AppPageExample(provider) + ").";
  if (answer->status == 404) {
    return MakeCheck(kCheckAppSlug, CheckStatus::kFail,
                     "no GitHub App with slug \"" + slug + "\" (HTTP 404)",
                     where_to_look
                         + " The App must be public (installable by any account), or GitHub "
                           "hides it.");
  }
  if (answer->status != 200) {
    return MakeCheck(kCheckAppSlug, CheckStatus::kWarn,
                     "looking up the GitHub App \"" + slug + "\" answered HTTP "
                         + std::to_string(answer->status) + "; it could not be verified",
                     "Try the check again later (GitHub may be rate limiting this server).");
  }
  auto json = internal::ParseJsonObject(answer->body);
  if (!json) {
    return MakeCheck(kCheckAppSlug, CheckStatus::kWarn,
                     "looking up the GitHub App \"" + slug + "\" did not answer with JSON",
                     "Check that URL is the GitHub or GitHub Enterprise Server root.");
  }
  const std::string name = Printable(internal::StringMemberOr(*json, "name", slug));
  const std::string page = Printable(internal::StringMemberOr(*json, "html_url"));
  const std::string app_client_id = internal::StringMemberOr(*json, "client_id");
  const std::string app =
      "the GitHub App \"" + name + "\"" + (page.empty() ? "" : " (" + page + ")");
  if (app_client_id != provider.client_id) {
    return MakeCheck(kCheckAppSlug, CheckStatus::kFail,
                     app + " has Client ID " + Printable(app_client_id)
                         + ", but this integration's Client ID is " + Printable(provider.client_id)
                         + ": the slug and the Client ID belong to different Apps",
                     "Use the slug and the Client ID of the same App: copy the Client ID from "
                     "that App's settings, or set Application slug to the last path segment of "
                     "the intended App's public page ("
                         + AppPageExample(provider) + ").");
  }
  return MakeCheck(kCheckAppSlug, CheckStatus::kPass,
                   "slug \"" + slug + "\" is " + app + ", whose Client ID is the configured one");
}

}  // namespace keybridge::oauth
