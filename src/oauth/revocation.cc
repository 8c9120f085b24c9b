#include "oauth/revocation.h"

#include <chrono>
#include <string>
#include <vector>

#include "crypto/base64.h"
#include "oauth/data_connectors.h"
#include "oauth/form.h"
#include "oauth/json_fields.h"
#include "oauth/token_request.h"

namespace keybridge::oauth {
namespace {

std::optional<core::HttpRequest> GitHubRevocation(const core::Provider& provider,
                                                  const ProviderEndpoints& endpoints,
                                                  const core::TokenSet& tokens) {
  if (!provider.client_secret || provider.client_secret->empty()) {
    return std::nullopt;  // the application token API needs the app's own credentials
  }
  core::HttpRequest request;
  request.method = "DELETE";
  request.url = endpoints.revoke_url;
  request.headers = ApiHeaders(provider.kind);
  // Plain REST Basic auth, not the OAuth token endpoint, so no RFC 6749 §2.3.1 form-encoding.
  request.headers.push_back(
      {"Authorization",
       "Basic "
           + crypto::Base64Encode(provider.client_id + ":" + provider.client_secret->Reveal())});
  request.headers.push_back({"Content-Type", "application/json"});
  internal::Json body = internal::Json::object();
  body["access_token"] = tokens.access_token.Reveal();
  request.body = internal::DumpCompact(body);
  request.timeout = std::chrono::seconds(10);
  return request;
}

core::HttpRequest Rfc7009Revocation(const core::Provider& provider,
                                    const ProviderEndpoints& endpoints,
                                    const core::TokenSet& tokens) {
  const bool refresh = tokens.refresh_token.has_value() && !tokens.refresh_token->empty();
  FormFields body = {
      {"token", refresh ? tokens.refresh_token->Reveal() : tokens.access_token.Reveal()},
      {"token_type_hint", refresh ? "refresh_token" : "access_token"},
  };
  core::HttpRequest request;
  request.method = "POST";
  request.url = endpoints.revoke_url;
  request.headers = {
      {"Content-Type", "application/x-www-form-urlencoded"},
      {"Accept", "application/json"},
      {"User-Agent", UserAgent()},
  };
  AddClientAuthentication(provider, endpoints, body, request.headers);
  request.body = FormEncode(body);
  request.timeout = std::chrono::seconds(10);
  return request;
}

}  // namespace

std::optional<core::HttpRequest> BuildRevocation(const core::Provider& provider,
                                                 const ProviderEndpoints& endpoints,
                                                 const core::TokenSet& tokens) {
  if (endpoints.revoke_url.empty()) {
    return std::nullopt;
  }
  if (core::IsDataConnectorKind(provider.kind)) {
    return BuildDataConnectorRevocation(provider, endpoints, tokens);
  }
  if (provider.kind == core::ProviderKind::kGitHub) {
    if (tokens.access_token.empty()) {
      return std::nullopt;
    }
    return GitHubRevocation(provider, endpoints, tokens);
  }
  const bool has_refresh = tokens.refresh_token.has_value() && !tokens.refresh_token->empty();
  if (tokens.access_token.empty() && !has_refresh) {
    return std::nullopt;
  }
  return Rfc7009Revocation(provider, endpoints, tokens);
}

bool IsRevocationSuccess(const core::HttpResponse& response) {
  return response.status == 200 || response.status == 204 || response.status == 404;
}

bool IsRevocationSuccess(core::ProviderKind kind, const core::HttpResponse& response) {
  if (IsRevocationSuccess(response)) {
    return true;
  }
  // Google answers 400 invalid_token for a token it no longer knows (RFC 7009 §2.2 would answer
  // 200): the grant is gone either way.
  if (kind == core::ProviderKind::kGoogle && response.status == 400) {
    const auto json = internal::ParseJsonObject(response.body);
    return json && internal::StringMemberOr(*json, "error") == "invalid_token";
  }
  return false;
}

}  // namespace keybridge::oauth
