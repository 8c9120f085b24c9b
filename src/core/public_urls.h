// PublicUrls: every URL keybridge hands out that points back at itself (the OAuth callback to
// register at providers, the sign-in callback, where a user (re)connects an integration, the
// administrator's one-time sign-in link), built from the configured public base URL. The paths
// are defined here once; routes/ registers its handlers under the same constants, so a link and
// the route it names cannot drift apart.
#pragma once

#include <string>
#include <string_view>

#include "core/ids.h"

namespace keybridge::core {

// The OAuth2 redirect URI of every integration (RFC 6749 3.1.2): <public-url> + this path.
inline constexpr char kOAuthCallbackPath[] = "/api/data/oauth2/callback";
// The redirect URI of browser sign-in through the OIDC issuer.
inline constexpr char kBrowserSignInCallbackPath[] = "/api/data/auth/callback";
// Starts connecting a user to an integration; {provider_id} is the router's path parameter.
inline constexpr char kProviderAuthorizePathTemplate[] =
    "/api/data/oauth2/providers/{provider_id}/authorize";
// The OAuth token endpoint of one connection for standard clients such as rclone (RFC 6749 §6):
// they refresh there with a keybridge refresh handle.
inline constexpr char kConnectionTokenEndpointPathTemplate[] =
    "/api/data/oauth2/connections/{connection_id}/token_endpoint";
// The administrator's one-time sign-in link; the token travels in the fragment (#<token>), which
// browsers never send to a server or a proxy log.
inline constexpr char kSignInLinkPath[] = "/api/data/auth/once";

class PublicUrls {
 public:
  // An empty base: every URL is then just its path (tests and route listings that never build a
  // link).
  PublicUrls() = default;
  // `base` is the public URL as configured ("https://renku.example.org/keybridge"); trailing
  // slashes are dropped.
  explicit PublicUrls(std::string base);

  // The base without trailing slashes.
  const std::string& base() const { return base_; }
  std::string OAuthCallback() const;
  std::string SignInCallback() const;
  // Where the owner of a connection to `provider_id` connects or reconnects.
  std::string Authorize(const ProviderId& provider_id) const;
  // <base>/api/data/oauth2/connections/<id>/token_endpoint: an rclone remote's token_url.
  std::string TokenEndpoint(const ConnectionId& connection_id) const;
  // <base>/api/data/auth/once#<token>. The result contains the token: show it, never log it.
  std::string SignInLink(std::string_view token) const;

 private:
  std::string base_;
};

}  // namespace keybridge::core
