// Per-kind sentences of "Test this integration": what each kind is called, where its URL, client
// credentials and redirect URIs are set, and which kind a well-known host belongs to.
#include <string>

#include "core/url.h"
#include "oauth/provider_check_text.h"

namespace keybridge::oauth {

std::string KindName(core::ProviderKind kind) {
  switch (kind) {
    case core::ProviderKind::kGitLab:
      return "GitLab";
    case core::ProviderKind::kGitHub:
      return "GitHub";
    case core::ProviderKind::kGenericOidc:
      return "OpenID Connect";
    case core::ProviderKind::kDropbox:
      return "Dropbox";
    case core::ProviderKind::kGoogle:
      return "Google";
    case core::ProviderKind::kZenodo:
      return "Zenodo";
  }
  return "OAuth";
}

std::string UrlAdvice(const core::Provider& provider) {
  switch (provider.kind) {
    case core::ProviderKind::kGitLab:
      return "Set URL to the GitLab address your users open in the browser, including the path "
             "prefix if GitLab is served under one (https://host/gitlab), without /users/sign_in, "
             "/-/... or a group or project path; keybridge appends /oauth/token to it.";
    case core::ProviderKind::kGitHub:
      return "Set URL to https://github.com for github.com, or to the root address of your GitHub "
             "Enterprise Server (https://HOST), without /api/v3, /login or any other path.";
    case core::ProviderKind::kGenericOidc:
      return "Set OpenID Connect Issuer URL to the issuer exactly as the provider spells it.";
    case core::ProviderKind::kDropbox:
    case core::ProviderKind::kGoogle:
      return "Leave URL empty (keybridge then uses "
             + std::string(core::CanonicalProviderUrl(provider.kind)) + "; "
             + KindName(provider.kind)
             + "'s endpoints are fixed), or, for a local stand-in, set it to "
               "http://127.0.0.1:PORT. If the provider is unreachable from this server, check its "
               "outbound network access.";
    case core::ProviderKind::kZenodo:
      return "Set URL to the Zenodo address your users open in the browser: https://zenodo.org, "
             "https://sandbox.zenodo.org for the sandbox, or the root address of your InvenioRDM, "
             "without /deposit, /api or any other path; keybridge appends /oauth/token to it.";
  }
  return {};
}

std::string CredentialsAdvice(const core::Provider& provider) {
  const bool has_secret = provider.client_secret.has_value() && !provider.client_secret->empty();
  std::string prefix =
      has_secret ? ""
                 : "No Client Secret is set for this integration, and the provider wants one. ";
  switch (provider.kind) {
    case core::ProviderKind::kGitLab:
      return prefix
             + "Open the application in GitLab (Admin Area > Applications, or User Settings > "
               "Applications), copy its Application ID into Client ID and its Secret into Client "
               "Secret (renew the secret there if it is lost), and save the integration.";
    case core::ProviderKind::kGitHub:
      return prefix
             + "Open the GitHub App's settings (Developer settings > GitHub Apps > the App), copy "
               "its Client ID (it starts with Iv; not the numeric App ID) into Client ID, generate "
               "a new client secret and paste it into Client Secret, and save the integration.";
    case core::ProviderKind::kGenericOidc:
      return prefix
             + "Copy the client id and client secret from the client's settings at the identity "
               "provider into Client ID and Client Secret, and save the integration.";
    case core::ProviderKind::kDropbox:
      return prefix
             + "Open the app in the Dropbox App Console (https://www.dropbox.com/developers/apps), "
               "copy its App key into Client ID and its App secret into Client Secret, and save "
               "the integration.";
    case core::ProviderKind::kGoogle:
      return prefix
             + "In the Google Cloud Console (APIs & Services > Credentials), open the OAuth client "
               "ID of type Web application, copy its Client ID and Client secret (add a new "
               "secret there if it is lost) into Client ID and Client Secret, and save the "
               "integration.";
    case core::ProviderKind::kZenodo:
      return prefix
             + "In Zenodo, open Applications > Developer applications and the application, copy "
               "its Client ID and Client Secret into Client ID and Client Secret, and save the "
               "integration.";
  }
  return prefix;
}

std::string RedirectUriPlace(core::ProviderKind kind) {
  switch (kind) {
    case core::ProviderKind::kGitLab:
      return "the GitLab application's Redirect URI";
    case core::ProviderKind::kGitHub:
      return "a Callback URL of the GitHub App";
    case core::ProviderKind::kGenericOidc:
      return "a redirect URI of the client at the identity provider";
    case core::ProviderKind::kDropbox:
      return "a Redirect URI of the app in the Dropbox App Console (Settings, OAuth 2)";
    case core::ProviderKind::kGoogle:
      return "an Authorized redirect URI of the OAuth client in the Google Cloud Console";
    case core::ProviderKind::kZenodo:
      return "a Redirect URI of the Zenodo developer application";
  }
  return "a redirect URI at the provider";
}

std::optional<core::ProviderKind> KindOfWellKnownHost(std::string_view url) {
  auto parsed = core::ParseUrl(url);
  if (!parsed.ok()) {
    return std::nullopt;
  }
  const std::string& host = parsed->host;
  if (host == "github.com" || host == "www.github.com" || host == "api.github.com") {
    return core::ProviderKind::kGitHub;
  }
  if (host == "gitlab.com") {
    return core::ProviderKind::kGitLab;
  }
  if (host == "www.dropbox.com" || host == "dropbox.com" || host == "api.dropboxapi.com") {
    return core::ProviderKind::kDropbox;
  }
  if (host == "accounts.google.com" || host == "google.com" || host == "drive.google.com"
      || host == "oauth2.googleapis.com") {
    return core::ProviderKind::kGoogle;
  }
  if (host == "zenodo.org" || host == "sandbox.zenodo.org") {
    return core::ProviderKind::kZenodo;
  }
  return std::nullopt;
}

}  // namespace keybridge::oauth
