#include "oauth/installations.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "oauth/api_status.h"
#include "oauth/json_fields.h"

namespace keybridge::oauth {
namespace {

core::Error Malformed() {
  return core::MakeError(core::ErrorCode::kUpstreamFailed,
                         "GitHub's installation list has an unexpected shape",
                         "installations_malformed");
}

// RFC 8288 Link header: <url>; rel="next", <url>; rel="last". Only the relation matters here.
bool HasNextLink(const std::string& link) {
  std::size_t start = 0;
  while (start < link.size()) {
    const std::size_t close = link.find('>', start);
    if (close == std::string::npos) {
      return false;
    }
    const std::size_t next_entry = link.find(',', close);
    const std::string params = link.substr(
        close + 1, next_entry == std::string::npos ? std::string::npos : next_entry - close - 1);
    if (params.find("rel=\"next\"") != std::string::npos
        || params.find("rel=next") != std::string::npos) {
      return true;
    }
    if (next_entry == std::string::npos) {
      return false;
    }
    start = next_entry + 1;
  }
  return false;
}

}  // namespace

core::HttpRequest BuildInstallationsRequest(const core::Provider& provider,
                                            const ProviderEndpoints& endpoints,
                                            const core::Secret& access_token, int page,
                                            int per_page) {
  core::HttpRequest request;
  request.method = "GET";
  request.url = endpoints.api_base + "/user/installations?page=" + std::to_string(std::max(page, 1))
                + "&per_page=" + std::to_string(std::clamp(per_page, 1, 100));
  request.headers = ApiHeaders(provider.kind);
  request.headers.push_back({"Authorization", "Bearer " + access_token.Reveal()});
  request.timeout = std::chrono::seconds(10);
  return request;
}

core::Result<InstallationsPage> ParseInstallations(const core::HttpResponse& response) {
  KEYBRIDGE_RETURN_IF_ERROR(CheckApiStatus(response, "the installation lookup"));
  const auto json = internal::ParseJsonObject(response.body);
  if (!json) {
    return Malformed();
  }
  const auto total_count = internal::IntegerMember(*json, "total_count");
  const auto list = json->find("installations");
  if (!total_count || list == json->end() || !list->is_array()) {
    return Malformed();
  }
  InstallationsPage page;
  page.total_count = *total_count;
  page.has_next_page = HasNextLink(response.Header("link"));
  for (const auto& item : *list) {
    const auto id = internal::IntegerMember(item, "id");
    if (!id) {
      return Malformed();
    }
    Installation installation;
    installation.id = *id;
    if (const auto account = item.find("account"); account != item.end() && account->is_object()) {
      // Enterprise installations name the account by slug instead of login.
      installation.account_login =
          internal::StringMemberOr(*account, "login", internal::StringMemberOr(*account, "slug"));
      installation.account_web_url = internal::StringMemberOr(*account, "html_url");
    }
    installation.repository_selection = internal::StringMemberOr(item, "repository_selection");
    if (const std::string* suspended = internal::StringMember(item, "suspended_at")) {
      installation.suspended_at = *suspended;
    }
    page.items.push_back(std::move(installation));
  }
  return page;
}

}  // namespace keybridge::oauth
