// GitHub App installations the user can access (GET /user/installations): service/ shows them on
// the connection so the user knows where the App is installed and where to install it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/http_client.h"
#include "core/provider.h"
#include "core/result.h"
#include "core/secret.h"
#include "oauth/provider_profile.h"

namespace keybridge::oauth {

struct Installation {
  std::int64_t id = 0;
  std::string account_login;                // user or organization the App is installed on
  std::string account_web_url;              // its html_url
  std::string repository_selection;         // "all" or "selected"
  std::optional<std::string> suspended_at;  // ISO 8601 when suspended
};

struct InstallationsPage {
  std::vector<Installation> items;
  std::int64_t total_count = 0;
  bool has_next_page = false;  // the Link header has rel="next"
};

// GET <api>/user/installations?page=<page>&per_page=<per_page> with the user's token and GitHub
// API headers. `page` is raised to at least 1, `per_page` kept within 1..100 (GitHub's maximum).
core::HttpRequest BuildInstallationsRequest(const core::Provider& provider,
                                            const ProviderEndpoints& endpoints,
                                            const core::Secret& access_token, int page,
                                            int per_page);

// Errors as CheckApiStatus (api_status.h); a 200 body without total_count and an installations
// array, or an installation without a numeric id, is kUpstreamFailed.
core::Result<InstallationsPage> ParseInstallations(const core::HttpResponse& response);

}  // namespace keybridge::oauth
