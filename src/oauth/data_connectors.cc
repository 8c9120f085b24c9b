#include "oauth/data_connectors.h"

#include <chrono>
#include <string>

#include "oauth/api_status.h"
#include "oauth/form.h"
#include "oauth/json_fields.h"

namespace keybridge::oauth {
namespace {

using internal::Json;

constexpr std::string_view kDropboxWeb = "https://www.dropbox.com";
constexpr std::string_view kDropboxApi = "https://api.dropboxapi.com";
constexpr std::string_view kGoogleAccounts = "https://accounts.google.com";
constexpr std::string_view kGoogleOAuth = "https://oauth2.googleapis.com";
constexpr std::string_view kGoogleOpenIdConnect = "https://openidconnect.googleapis.com";
constexpr std::string_view kGoogleApis = "https://www.googleapis.com";

core::Error Unusable(const core::Provider& provider) {
  return core::MakeError(core::ErrorCode::kInvalidArgument,
                         "provider '" + provider.id.value() + "' of kind "
                             + std::string(core::ToString(provider.kind)) + " has url "
                             + provider.url.substr(0, 100) + ", which is neither "
                             + std::string(core::CanonicalProviderUrl(provider.kind))
                             + " nor a local stand-in on a loopback address");
}

core::Error NotShaped(std::string message) {
  return core::MakeError(core::ErrorCode::kUpstreamFailed, std::move(message),
                         "account_without_username");
}

std::string StringOrInteger(const Json& json, const char* key) {
  if (const auto number = internal::IntegerMember(json, key)) {
    return std::to_string(*number);
  }
  return internal::StringMemberOr(json, key);
}

core::Result<Account> DropboxAccount(const Json& json) {
  Account account;
  account.username = internal::StringMemberOr(json, "email");
  if (account.username.empty()) {
    if (const auto name = json.find("name"); name != json.end() && name->is_object()) {
      account.username = internal::StringMemberOr(*name, "display_name");
    }
  }
  account.id = internal::StringMemberOr(json, "account_id");
  return account;
}

core::Result<Account> GoogleAccount(const Json& json) {
  Account account;
  account.id = internal::StringMemberOr(json, "sub");
  account.username = internal::StringMemberOr(json, "email");
  if (account.username.empty()) {
    account.username = account.id;  // without the `email` scope Google sends no email
  }
  return account;
}

core::Result<Account> ZenodoAccount(std::string_view body) {
  const Json parsed = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_array()) {
    return NotShaped("Zenodo's deposition list did not answer with a JSON array");
  }
  Account account;
  account.username = "Zenodo user";
  if (!parsed.empty()) {
    if (const std::string owner = StringOrInteger(parsed.front(), "owner"); !owner.empty()) {
      account.username = "Zenodo user ID: " + owner;
      account.id = owner;
    }
  }
  return account;
}

}  // namespace

core::Result<ProviderEndpoints> DataConnectorEndpoints(const core::Provider& provider,
                                                       const std::string& base) {
  ProviderEndpoints endpoints;  // token_auth defaults to client_secret_post
  const bool production = provider.url == core::CanonicalProviderUrl(provider.kind);
  const bool stand_in = !production && core::IsLocalStandInUrl(provider.url);
  switch (provider.kind) {
    case core::ProviderKind::kDropbox: {
      if (!production && !stand_in) {
        return Unusable(provider);
      }
      const std::string web = production ? std::string(kDropboxWeb) : base;
      const std::string api = production ? std::string(kDropboxApi) : base;
      endpoints.authorize_url = web + "/oauth2/authorize";
      endpoints.token_url = api + "/oauth2/token";
      endpoints.api_base = api + "/2";
      endpoints.revoke_url = api + "/2/auth/token/revoke";
      endpoints.userinfo_url = api + "/2/users/get_current_account";
      return endpoints;
    }
    case core::ProviderKind::kGoogle:
      if (!production && !stand_in) {
        return Unusable(provider);
      }
      endpoints.authorize_url =
          (production ? std::string(kGoogleAccounts) : base) + "/o/oauth2/v2/auth";
      endpoints.token_url = (production ? std::string(kGoogleOAuth) : base) + "/token";
      endpoints.revoke_url = (production ? std::string(kGoogleOAuth) : base) + "/revoke";
      endpoints.userinfo_url =
          (production ? std::string(kGoogleOpenIdConnect) : base) + "/v1/userinfo";
      endpoints.api_base = production ? std::string(kGoogleApis) : base;
      return endpoints;
    case core::ProviderKind::kZenodo:
      endpoints.authorize_url = base + "/oauth/authorize";
      endpoints.token_url = base + "/oauth/token";
      endpoints.api_base = base + "/api";
      endpoints.userinfo_url = endpoints.api_base + "/deposit/depositions?size=1";
      return endpoints;
    default:
      return core::MakeError(core::ErrorCode::kInternal,
                             "provider '" + provider.id.value() + "' is no data connector");
  }
}

std::vector<std::pair<std::string_view, std::string_view>> AuthorizationExtras(
    core::ProviderKind kind) {
  switch (kind) {
    case core::ProviderKind::kDropbox:
      return {{"token_access_type", "offline"}};
    case core::ProviderKind::kGoogle:
      return {{"access_type", "offline"}, {"prompt", "consent"}};
    default:
      return {};
  }
}

std::optional<core::HttpRequest> BuildDataConnectorRevocation(const core::Provider& provider,
                                                              const ProviderEndpoints& endpoints,
                                                              const core::TokenSet& tokens) {
  if (endpoints.revoke_url.empty()) {
    return std::nullopt;
  }
  core::HttpRequest request;
  request.method = "POST";
  request.url = endpoints.revoke_url;
  request.timeout = std::chrono::seconds(10);
  if (provider.kind == core::ProviderKind::kDropbox) {
    if (tokens.access_token.empty()) {
      return std::nullopt;
    }
    request.headers = {{"Accept", "application/json"},
                       {"User-Agent", UserAgent()},
                       {"Authorization", "Bearer " + tokens.access_token.Reveal()}};
    return request;
  }
  if (provider.kind == core::ProviderKind::kGoogle) {
    const bool refresh = tokens.refresh_token.has_value() && !tokens.refresh_token->empty();
    if (!refresh && tokens.access_token.empty()) {
      return std::nullopt;
    }
    // The refresh token outlives the access token, so it is the one Google still knows.
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                       {"Accept", "application/json"},
                       {"User-Agent", UserAgent()}};
    request.body = FormEncode(
        {{"token", refresh ? tokens.refresh_token->Reveal() : tokens.access_token.Reveal()}});
    return request;
  }
  return std::nullopt;
}

bool RevocationNeedsLiveAccessToken(core::ProviderKind kind) {
  return kind == core::ProviderKind::kDropbox;
}

core::HttpRequest BuildDataConnectorAccountRequest(const core::Provider& provider,
                                                   const ProviderEndpoints& endpoints,
                                                   const core::Secret& access_token) {
  core::HttpRequest request;
  request.method = "GET";
  request.url = endpoints.userinfo_url;
  request.headers = ApiHeaders(provider.kind);
  request.headers.push_back({"Authorization", "Bearer " + access_token.Reveal()});
  request.timeout = std::chrono::seconds(10);
  if (provider.kind == core::ProviderKind::kDropbox) {
    // Dropbox RPC endpoints are POSTs; one without arguments takes the JSON `null`.
    request.method = "POST";
    request.headers.push_back({"Content-Type", "application/json"});
    request.body = "null";
  }
  return request;
}

core::Result<Account> ParseDataConnectorAccount(core::ProviderKind kind,
                                                const core::HttpResponse& response) {
  KEYBRIDGE_RETURN_IF_ERROR(CheckApiStatus(response, "the account lookup"));
  core::Result<Account> account = core::MakeError(core::ErrorCode::kInternal, "no data connector");
  if (kind == core::ProviderKind::kZenodo) {
    account = ZenodoAccount(response.body);
  } else {
    const auto json = internal::ParseJsonObject(response.body);
    if (!json) {
      return core::MakeError(core::ErrorCode::kUpstreamFailed,
                             "the provider's account endpoint did not answer with a JSON object",
                             "account_not_json");
    }
    if (kind == core::ProviderKind::kDropbox) {
      account = DropboxAccount(*json);
    } else if (kind == core::ProviderKind::kGoogle) {
      account = GoogleAccount(*json);
    }
  }
  if (account.ok() && account->username.empty()) {
    return NotShaped("the provider's account endpoint did not name the user");
  }
  return account;
}

}  // namespace keybridge::oauth
