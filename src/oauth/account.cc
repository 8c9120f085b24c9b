#include "oauth/account.h"

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "oauth/api_status.h"
#include "oauth/data_connectors.h"
#include "oauth/json_fields.h"

namespace keybridge::oauth {
namespace {

using internal::Json;

std::string IdOf(const Json& json) {
  if (const auto number = internal::IntegerMember(json, "id")) {
    return std::to_string(*number);
  }
  return internal::StringMemberOr(json, "id");
}

// OIDC Core §5.1: preferred_username and name are optional; sub is always present.
std::string FirstNonEmpty(const Json& json, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    if (const std::string* value = internal::StringMember(json, key);
        value != nullptr && !value->empty()) {
      return *value;
    }
  }
  return {};
}

}  // namespace

core::HttpRequest BuildAccountRequest(const core::Provider& provider,
                                      const ProviderEndpoints& endpoints,
                                      const core::Secret& access_token) {
  if (core::IsDataConnectorKind(provider.kind)) {
    return BuildDataConnectorAccountRequest(provider, endpoints, access_token);
  }
  core::HttpRequest request;
  request.method = "GET";
  request.url = endpoints.userinfo_url;
  request.headers = ApiHeaders(provider.kind);
  // RFC 6750 §2.1; never ?access_token= (RFC 9700 §2.5: tokens stay out of URLs).
  request.headers.push_back({"Authorization", "Bearer " + access_token.Reveal()});
  request.timeout = std::chrono::seconds(10);
  return request;
}

core::Result<Account> ParseAccount(core::ProviderKind kind, const core::HttpResponse& response) {
  if (core::IsDataConnectorKind(kind)) {
    return ParseDataConnectorAccount(kind, response);
  }
  KEYBRIDGE_RETURN_IF_ERROR(CheckApiStatus(response, "the account lookup"));
  const auto json = internal::ParseJsonObject(response.body);
  if (!json) {
    return core::MakeError(core::ErrorCode::kUpstreamFailed,
                           "the provider's account endpoint did not answer with a JSON object",
                           "account_not_json");
  }
  Account account;
  switch (kind) {
    case core::ProviderKind::kGitLab:
      account.username = internal::StringMemberOr(*json, "username");
      account.web_url = internal::StringMemberOr(*json, "web_url");
      account.id = IdOf(*json);
      break;
    case core::ProviderKind::kGitHub:
      account.username = internal::StringMemberOr(*json, "login");
      account.web_url = internal::StringMemberOr(*json, "html_url");
      account.id = IdOf(*json);
      break;
    case core::ProviderKind::kGenericOidc:
      account.username = FirstNonEmpty(*json, {"preferred_username", "name", "sub"});
      account.id = internal::StringMemberOr(*json, "sub");
      break;
    case core::ProviderKind::kDropbox:
    case core::ProviderKind::kGoogle:
    case core::ProviderKind::kZenodo:
      break;  // ParseDataConnectorAccount, above
  }
  if (account.username.empty()) {
    return core::MakeError(core::ErrorCode::kUpstreamFailed,
                           "the provider's account endpoint did not name the user",
                           "account_without_username");
  }
  return account;
}

}  // namespace keybridge::oauth
