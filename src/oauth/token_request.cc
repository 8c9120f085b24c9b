#include "oauth/token_request.h"

#include <chrono>
#include <string>
#include <utility>

#include "crypto/base64.h"

namespace keybridge::oauth {
namespace {

// `body`, then client authentication, then `trailing`: one layout for both grants.
core::HttpRequest FormPost(const core::Provider& provider, const ProviderEndpoints& endpoints,
                           FormFields body, const FormFields& trailing = {}) {
  core::HttpRequest request;
  request.method = "POST";
  request.url = endpoints.token_url;
  request.headers = {
      {"Content-Type", "application/x-www-form-urlencoded"},
      // GitHub answers form-encoded unless asked for JSON (GitHub docs: "Authorizing OAuth apps").
      {"Accept", "application/json"},
      {"User-Agent", UserAgent()},
  };
  AddClientAuthentication(provider, endpoints, body, request.headers);
  body.insert(body.end(), trailing.begin(), trailing.end());
  request.body = FormEncode(body);
  request.timeout = std::chrono::seconds(10);
  return request;
}

}  // namespace

void AddClientAuthentication(const core::Provider& provider, const ProviderEndpoints& endpoints,
                             FormFields& body, std::vector<core::HttpHeader>& headers) {
  const bool has_secret = provider.client_secret.has_value() && !provider.client_secret->empty();
  if (has_secret && endpoints.token_auth == ClientAuthMethod::kClientSecretBasic) {
    // RFC 6749 §2.3.1: form-encode both parts before Base64, or a secret containing ':', '+' or
    // '%' is misread by the server.
    const std::string credentials = FormEncodeComponent(provider.client_id) + ":"
                                    + FormEncodeComponent(provider.client_secret->Reveal());
    headers.push_back({"Authorization", "Basic " + crypto::Base64Encode(credentials)});
    return;
  }
  // client_secret_post: GitHub expects the body, GitLab (Doorkeeper) accepts it.
  body.emplace_back("client_id", provider.client_id);
  if (has_secret) {
    body.emplace_back("client_secret", provider.client_secret->Reveal());
  }
}

core::HttpRequest BuildCodeExchange(const core::Provider& provider,
                                    const ProviderEndpoints& endpoints,
                                    std::string_view redirect_uri, const core::Secret& code,
                                    const core::Secret* code_verifier) {
  FormFields body = {
      {"grant_type", "authorization_code"},
      {"code", code.Reveal()},
      {"redirect_uri", std::string(redirect_uri)},
  };
  FormFields trailing;
  if (code_verifier != nullptr) {
    trailing.emplace_back("code_verifier", code_verifier->Reveal());
  }
  return FormPost(provider, endpoints, std::move(body), trailing);
}

core::HttpRequest BuildRefresh(const core::Provider& provider, const ProviderEndpoints& endpoints,
                               const core::Secret& refresh_token, std::string_view redirect_uri) {
  FormFields body = {
      {"grant_type", "refresh_token"},
      {"refresh_token", refresh_token.Reveal()},
  };
  if (provider.kind == core::ProviderKind::kGitLab && !redirect_uri.empty()) {
    body.emplace_back("redirect_uri", std::string(redirect_uri));
  }
  return FormPost(provider, endpoints, std::move(body));
}

}  // namespace keybridge::oauth
