#include "oauth/oidc_discovery.h"

#include <array>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/url.h"
#include "oauth/json_fields.h"
#include "oauth/provider_profile.h"

namespace keybridge::oauth {
namespace {

using internal::Json;

core::Error Upstream(std::string message) {
  return core::MakeError(core::ErrorCode::kUpstreamFailed, std::move(message));
}

// The issuer a hostile document names goes into a message: printable ASCII only, bounded.
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 200)) {
    const auto u = static_cast<unsigned char>(c);
    out += u >= 0x20 && u < 0x7f ? c : '?';
  }
  return out;
}

std::string_view StripTrailingSlashes(std::string_view text) {
  while (!text.empty() && text.back() == '/') {
    text.remove_suffix(1);
  }
  return text;
}

// Endpoints we will later send codes, secrets and tokens to: https only (RFC 6749 §3.1, §3.2),
// plain http only on loopback for local development. A fragment is forbidden (RFC 6749 §3.1).
core::Status CheckEndpoint(std::string_view field, const std::string& value,
                           std::string_view issuer) {
  auto url = core::ParseUrl(value);
  const bool secure =
      url.ok() && (url->scheme == "https" || (url->scheme == "http" && url->IsLoopbackHost()));
  if (!secure || url->has_fragment || !url->userinfo.empty()) {
    return Upstream("the OpenID Connect metadata of \"" + std::string(issuer) + "\" has an "
                    + std::string(field)
                    + " that is not an https URL without user name or fragment");
  }
  return core::OkStatus();
}

std::vector<std::string> StringArray(const Json& object, const char* key) {
  std::vector<std::string> out;
  const auto it = object.find(key);
  if (it == object.end() || !it->is_array()) {
    return out;
  }
  for (const auto& item : *it) {
    if (item.is_string()) {
      out.push_back(item.get<std::string>());
    }
  }
  return out;
}

}  // namespace

core::HttpRequest BuildDiscoveryRequest(std::string_view issuer) {
  core::HttpRequest request;
  request.method = "GET";
  request.url = std::string(StripTrailingSlashes(issuer)) + "/.well-known/openid-configuration";
  request.headers = {{"Accept", "application/json"}, {"User-Agent", UserAgent()}};
  request.timeout = std::chrono::seconds(10);
  return request;
}

core::Result<OidcMetadata> ParseDiscovery(const core::HttpResponse& response,
                                          std::string_view expected_issuer) {
  const std::string issuer_text(expected_issuer);
  if (response.status != 200) {
    return Upstream("OpenID Connect discovery for \"" + issuer_text + "\" answered HTTP " +
                    std::to_string(response.status) +
                    "; check that oidc_issuer_url is the issuer URL (the part before "
                    "/.well-known/openid-configuration)");
  }
  auto json = internal::ParseJsonObject(response.body);
  if (!json) {
    return Upstream("OpenID Connect discovery for \"" + issuer_text
                    + "\" did not answer with a JSON object");
  }
  OidcMetadata metadata;
  metadata.issuer = internal::StringMemberOr(*json, "issuer");
  // RFC 8414 §3.3 / OIDC Discovery §4.3: the issuer must be identical, or an attacker-controlled
  // document could redirect codes and tokens (mix-up, RFC 9700 §4.4).
  if (metadata.issuer != expected_issuer) {
    return Upstream("the OpenID Connect metadata names issuer \"" + Printable(metadata.issuer)
                    + "\", which is not exactly the configured oidc_issuer_url \"" + issuer_text
                    + "\"; configure the issuer exactly as the provider spells it");
  }
  metadata.authorization_endpoint = internal::StringMemberOr(*json, "authorization_endpoint");
  metadata.token_endpoint = internal::StringMemberOr(*json, "token_endpoint");
  metadata.userinfo_endpoint = internal::StringMemberOr(*json, "userinfo_endpoint");
  metadata.revocation_endpoint = internal::StringMemberOr(*json, "revocation_endpoint");
  metadata.jwks_uri = internal::StringMemberOr(*json, "jwks_uri");
  if (metadata.authorization_endpoint.empty() || metadata.token_endpoint.empty()) {
    return Upstream("the OpenID Connect metadata of \"" + issuer_text
                    + "\" lacks authorization_endpoint or token_endpoint");
  }
  const std::array<std::pair<std::string_view, const std::string*>, 5> endpoints = {{
      {"authorization_endpoint", &metadata.authorization_endpoint},
      {"token_endpoint", &metadata.token_endpoint},
      {"userinfo_endpoint", &metadata.userinfo_endpoint},
      {"revocation_endpoint", &metadata.revocation_endpoint},
      {"jwks_uri", &metadata.jwks_uri},
  }};
  for (const auto& [field, value] : endpoints) {
    if (!value->empty()) {
      KEYBRIDGE_RETURN_IF_ERROR(CheckEndpoint(field, *value, expected_issuer));
    }
  }
  metadata.code_challenge_methods_supported =
      StringArray(*json, "code_challenge_methods_supported");
  metadata.token_endpoint_auth_methods_supported =
      StringArray(*json, "token_endpoint_auth_methods_supported");
  metadata.scopes_supported = StringArray(*json, "scopes_supported");
  const auto iss_supported = json->find("authorization_response_iss_parameter_supported");
  metadata.authorization_response_iss_parameter_supported =
      iss_supported != json->end() && iss_supported->is_boolean() && iss_supported->get<bool>();
  return metadata;
}

}  // namespace keybridge::oauth
