// Test-only builders shared by the oauth/ unit tests: providers of each kind and responses.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/http_client.h"
#include "core/provider.h"
#include "core/secret.h"
#include "oauth/oidc_discovery.h"

namespace keybridge::oauth::testing {

inline core::Provider GitLabProvider(std::string url = "https://gitlab.example.com") {
  core::Provider p;
  p.id = core::ProviderId("gitlab");
  p.kind = core::ProviderKind::kGitLab;
  p.client_id = "gl-client";
  p.client_secret = core::Secret("gl-secret");
  p.display_name = "GitLab";
  p.scope = "api read_user";
  p.url = std::move(url);
  return p;
}

inline core::Provider GitHubProvider(std::string url = "https://github.com") {
  core::Provider p;
  p.id = core::ProviderId("github");
  p.kind = core::ProviderKind::kGitHub;
  p.app_slug = "keybridge-app";
  p.client_id = "Iv23liABC";
  p.client_secret = core::Secret("gh-secret");
  p.display_name = "GitHub";
  p.url = std::move(url);
  return p;
}

inline core::Provider OidcProvider() {
  core::Provider p;
  p.id = core::ProviderId("sso");
  p.kind = core::ProviderKind::kGenericOidc;
  p.client_id = "kb";
  p.client_secret = core::Secret("oidc-secret");
  p.display_name = "SSO";
  p.scope = "openid offline_access";
  p.url = "https://sso.example.org";
  p.oidc_issuer_url = "https://sso.example.org/realms/main";
  return p;
}

inline core::Provider DropboxProvider(std::string url = "https://www.dropbox.com") {
  core::Provider p;
  p.id = core::ProviderId("dropbox");
  p.kind = core::ProviderKind::kDropbox;
  p.client_id = "db-app-key";
  p.client_secret = core::Secret("db-app-secret");
  p.display_name = "Dropbox";
  p.scope = "account_info.read files.content.read";
  p.url = std::move(url);
  return p;
}

inline core::Provider GoogleProvider(std::string url = "https://accounts.google.com") {
  core::Provider p;
  p.id = core::ProviderId("google");
  p.kind = core::ProviderKind::kGoogle;
  p.client_id = "123-abc.apps.googleusercontent.com";
  p.client_secret = core::Secret("GOCSPX-secret");
  p.display_name = "Google Drive";
  p.scope = "openid email https://www.googleapis.com/auth/drive";
  p.url = std::move(url);
  return p;
}

inline core::Provider ZenodoProvider(std::string url = "https://zenodo.org") {
  core::Provider p;
  p.id = core::ProviderId("zenodo");
  p.kind = core::ProviderKind::kZenodo;
  p.client_id = "zen-client";
  p.client_secret = core::Secret("zen-secret");
  p.display_name = "Zenodo";
  p.scope = "deposit:write deposit:actions";
  p.url = std::move(url);
  return p;
}

inline OidcMetadata SsoMetadata() {
  OidcMetadata m;
  m.issuer = "https://sso.example.org/realms/main";
  m.authorization_endpoint = "https://sso.example.org/realms/main/auth";
  m.token_endpoint = "https://sso.example.org/realms/main/token";
  m.userinfo_endpoint = "https://sso.example.org/realms/main/userinfo";
  m.revocation_endpoint = "https://sso.example.org/realms/main/revoke";
  m.token_endpoint_auth_methods_supported = {"client_secret_basic", "client_secret_post"};
  return m;
}

inline core::HttpResponse Response(int status, std::string content_type, std::string body,
                                   std::vector<core::HttpHeader> extra = {}) {
  core::HttpResponse r;
  r.status = status;
  if (!content_type.empty()) {
    r.headers.push_back({"content-type", std::move(content_type)});
  }
  for (auto& h : extra) {
    r.headers.push_back(std::move(h));
  }
  r.body = std::move(body);
  return r;
}

inline core::HttpResponse Json(int status, std::string body,
                               std::vector<core::HttpHeader> extra = {}) {
  return Response(status, "application/json; charset=utf-8", std::move(body), std::move(extra));
}

// "Name: value" lines, in order, for golden comparisons.
inline std::vector<std::string> HeaderLines(const std::vector<core::HttpHeader>& headers) {
  std::vector<std::string> lines;
  for (const auto& h : headers) {
    lines.push_back(h.name + ": " + h.value);
  }
  return lines;
}

inline std::vector<std::string> HeaderLines(const core::HttpRequest& request) {
  return HeaderLines(request.headers);
}

}  // namespace keybridge::oauth::testing
