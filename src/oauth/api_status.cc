#include "oauth/api_status.h"

#include <algorithm>
#include <string>

namespace keybridge::oauth {
namespace {

bool IsNumber(const std::string& text) {
  return !text.empty() && text.size() <= 20
         && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

core::Status CheckApiStatus(const core::HttpResponse& response, std::string_view what) {
  const int status = response.status;
  if (status == 200) {
    return core::OkStatus();
  }
  const std::string subject(what);
  const std::string http = "http_" + std::to_string(status);
  if (status == 401) {
    // GitHub answers "401 Bad credentials" for expired and revoked tokens alike (GitHub
    // docs: "Troubleshooting the REST API"); the caller may refresh once, else the user must
    // reconnect.
    return core::MakeError(core::ErrorCode::kReauthorizationRequired,
                           subject + " was refused: the provider no longer accepts the access "
                                     "token",
                           "api_401");
  }
  // GitHub signals its rate limits with 403 or 429 (GitHub docs: "Rate limits for the REST API"); a
  // 403 is a rate limit only when the headers say so, otherwise it is a permission problem.
  const std::string retry_after = response.Header("retry-after");
  const std::string reset = response.Header("x-ratelimit-reset");
  const bool rate_limited =
      status == 429
      || (status == 403
          && (response.Header("x-ratelimit-remaining") == "0" || !retry_after.empty()));
  if (rate_limited) {
    std::string detail = "rate_limited";
    std::optional<std::chrono::seconds> wait;
    if (IsNumber(retry_after)) {
      detail = "retry_after=" + retry_after;
      if (retry_after.size() <= 9) {
        wait = std::chrono::seconds(std::stoll(retry_after));
      }
    } else if (IsNumber(reset)) {
      detail = "ratelimit_reset=" + reset;
    }
    core::Error error =
        core::MakeError(core::ErrorCode::kUnavailable,
                        subject + " hit the provider's rate limit; try again later", detail);
    if (wait) {
      error.WithRetryAfter(*wait);
    }
    return error;
  }
  if (status >= 500) {
    return core::MakeError(core::ErrorCode::kUnavailable,
                           subject + " failed: the provider is temporarily unavailable (HTTP "
                               + std::to_string(status) + ")",
                           http);
  }
  if (status == 403 && !response.Header("x-github-sso").empty()) {
    return core::MakeError(core::ErrorCode::kUpstreamFailed,
                           subject + " was refused: an organization requires SAML single sign-on; "
                                     "authorize it at GitHub and reconnect",
                           "github_sso_required");
  }
  return core::MakeError(core::ErrorCode::kUpstreamFailed,
                         subject + " failed: the provider answered HTTP " + std::to_string(status),
                         http);
}

}  // namespace keybridge::oauth
