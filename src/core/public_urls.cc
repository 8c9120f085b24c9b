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

namespace {

// `path_template` with its one "{parameter}" replaced by `value`, after `base`.
std::string Expand(const std::string& base, std::string_view path_template,
                   std::string_view parameter, std::string_view value) {
  const auto at = path_template.find(parameter);
  std::string url = base;
  url.append(path_template.substr(0, at));
  url.append(value);
  url.append(path_template.substr(at + parameter.size()));
  return url;
}

}  // namespace

std::string PublicUrls::Authorize(const ProviderId& provider_id) const {
  return Expand(base_, kProviderAuthorizePathTemplate, "{provider_id}", provider_id.value());
}

std::string PublicUrls::TokenEndpoint(const ConnectionId& connection_id) const {
  return Expand(base_, kConnectionTokenEndpointPathTemplate, "{connection_id}",
                connection_id.value());
}

std::string PublicUrls::SignInLink(std::string_view token) const {
  std::string url = base_ + kSignInLinkPath;
  url += '#';
  url.append(token);
  return url;
}

}  // namespace keybridge::core
