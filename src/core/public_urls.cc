#include "core/public_urls.h"

#include <utility>

namespace keybridge::core {

PublicUrls::PublicUrls(std::string base) : base_(std::move(base)) {
  while (!base_.empty() && base_.back() == '/') {
    base_.pop_back();
  }
}

std::string PublicUrls::OAuthCallback() const {
  return base_ + kOAuthCallbackPath;
}

std::string PublicUrls::SignInCallback() const {
  return base_ + kBrowserSignInCallbackPath;
}

std::string PublicUrls::Authorize(const ProviderId& provider_id) const {
  constexpr std::string_view kTemplate = kProviderAuthorizePathTemplate;
  constexpr std::string_view kParameter = "{provider_id}";
  const auto at = kTemplate.find(kParameter);
  std::string url = base_;
  url.append(kTemplate.substr(0, at));
  url.append(provider_id.value());
  url.append(kTemplate.substr(at + kParameter.size()));
  return url;
}

std::string PublicUrls::SignInLink(std::string_view token) const {
  std::string url = base_ + kSignInLinkPath;
  url += '#';
  url.append(token);
  return url;
}

}  // namespace keybridge::core
