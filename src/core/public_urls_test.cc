#include "core/public_urls.h"

#include <gtest/gtest.h>

namespace keybridge::core {
namespace {

TEST(PublicUrls, BuildsEveryLinkFromTheBaseAndTheRoutePaths) {
  const PublicUrls urls("https://kb.example.org");

  EXPECT_EQ(urls.base(), "https://kb.example.org");
  EXPECT_EQ(urls.OAuthCallback(), "https://kb.example.org/api/data/oauth2/callback");
  EXPECT_EQ(urls.SignInCallback(), "https://kb.example.org/api/data/auth/callback");
  EXPECT_EQ(urls.Authorize(ProviderId("gitlab")),
            "https://kb.example.org/api/data/oauth2/providers/gitlab/authorize");
  EXPECT_EQ(urls.SignInLink("kbl_x"), "https://kb.example.org/api/data/auth/once#kbl_x");
  EXPECT_EQ(urls.TokenEndpoint(ConnectionId("01HZZZZZZZZZZZZZZZZZZZZZZZ")),
            "https://kb.example.org/api/data/oauth2/connections/01HZZZZZZZZZZZZZZZZZZZZZZZ/"
            "token_endpoint");
}

TEST(PublicUrls, KeepsABasePathAndDropsTrailingSlashes) {
  const PublicUrls urls("https://renku.example.org/keybridge//");

  EXPECT_EQ(urls.base(), "https://renku.example.org/keybridge");
  EXPECT_EQ(urls.OAuthCallback(), "https://renku.example.org/keybridge/api/data/oauth2/callback");
  EXPECT_EQ(urls.Authorize(ProviderId("github")),
            "https://renku.example.org/keybridge/api/data/oauth2/providers/github/authorize");
}

TEST(PublicUrls, AnEmptyBaseYieldsThePaths) {
  const PublicUrls urls;

  EXPECT_EQ(urls.OAuthCallback(), kOAuthCallbackPath);
  EXPECT_EQ(urls.SignInCallback(), kBrowserSignInCallbackPath);
  EXPECT_EQ(urls.Authorize(ProviderId("p")), "/api/data/oauth2/providers/p/authorize");
}

}  // namespace
}  // namespace keybridge::core
