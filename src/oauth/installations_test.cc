#include "oauth/installations.h"

#include <gtest/gtest.h>

#include "oauth/test_fixtures.h"

namespace keybridge::oauth {
namespace {

using testing::GitHubProvider;
using testing::HeaderLines;
using testing::Json;

// GitHub's documented example (GitHub docs: "List app installations accessible to the user access
// token"), plus a suspended organization installation.
constexpr std::string_view kTwoInstallations = R"({"total_count":2,"installations":[
  {"id":1,"account":{"login":"octocat","id":1,"type":"User","html_url":"https://github.com/octocat"},
   "repository_selection":"all",
   "access_tokens_url":"https://api.github.com/app/installations/1/access_tokens",
   "html_url":"https://github.com/organizations/github/settings/installations/1","app_id":1,
   "app_slug":"my-app","target_id":1,"target_type":"Organization",
   "permissions":{"checks":"write","metadata":"read","contents":"read"},
   "events":["push","pull_request"],"created_at":"2017-07-08T16:18:44-04:00",
   "single_file_name":null,"suspended_by":null,"suspended_at":null},
  {"id":8675309,"account":{"login":"acme","type":"Organization","html_url":"https://github.com/acme"},
   "repository_selection":"selected","suspended_at":"2024-02-01T10:00:00Z"}]})";

TEST(BuildInstallationsRequest, PagesThroughUserInstallations) {
  const core::Provider provider = GitHubProvider();
  const auto endpoints = EndpointsFor(provider, nullptr).value();

  const auto request =
      BuildInstallationsRequest(provider, endpoints, core::Secret("ghu_x"), 2, 100);

  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.url, "https://api.github.com/user/installations?page=2&per_page=100");
  EXPECT_EQ(HeaderLines(request),
            (std::vector<std::string>{"Accept: application/vnd.github+json",
                                      "X-GitHub-Api-Version: 2022-11-28",
                                      "User-Agent: keybridge/0.1", "Authorization: Bearer ghu_x"}));
}

TEST(BuildInstallationsRequest, ClampsPageAndPerPageOnEnterprise) {
  const core::Provider provider = GitHubProvider("https://ghe.example.org");
  const auto endpoints = EndpointsFor(provider, nullptr).value();

  EXPECT_EQ(BuildInstallationsRequest(provider, endpoints, core::Secret("t"), 0, 500).url,
            "https://ghe.example.org/api/v3/user/installations?page=1&per_page=100");
  EXPECT_EQ(BuildInstallationsRequest(provider, endpoints, core::Secret("t"), -3, 0).url,
            "https://ghe.example.org/api/v3/user/installations?page=1&per_page=1");
}

TEST(ParseInstallations, MapsTheFieldsRenkuUses) {
  const auto page = ParseInstallations(Json(200, std::string(kTwoInstallations))).value();

  EXPECT_EQ(page.total_count, 2);
  EXPECT_FALSE(page.has_next_page);
  ASSERT_EQ(page.items.size(), 2U);
  EXPECT_EQ(page.items[0].id, 1);
  EXPECT_EQ(page.items[0].account_login, "octocat");
  EXPECT_EQ(page.items[0].account_web_url, "https://github.com/octocat");
  EXPECT_EQ(page.items[0].repository_selection, "all");
  EXPECT_FALSE(page.items[0].suspended_at.has_value());
  EXPECT_EQ(page.items[1].id, 8675309);
  EXPECT_EQ(page.items[1].account_login, "acme");
  EXPECT_EQ(page.items[1].repository_selection, "selected");
  EXPECT_EQ(page.items[1].suspended_at, "2024-02-01T10:00:00Z");
}

TEST(ParseInstallations, FollowsTheLinkHeaderForMorePages) {
  const std::string more = R"(<https://api.github.com/user/installations?page=2>; rel="next", )"
                           R"(<https://api.github.com/user/installations?page=5>; rel="last")";
  const std::string last = R"(<https://api.github.com/user/installations?page=1>; rel="first", )"
                           R"(<https://api.github.com/user/installations?page=4>; rel="prev")";

  const auto first =
      ParseInstallations(Json(200, R"({"total_count":0,"installations":[]})", {{"link", more}}));
  const auto final =
      ParseInstallations(Json(200, R"({"total_count":0,"installations":[]})", {{"link", last}}));

  EXPECT_TRUE(first->has_next_page);
  EXPECT_FALSE(final->has_next_page);
  EXPECT_TRUE(first->items.empty());
}

TEST(ParseInstallations, RejectsUnexpectedShapes) {
  for (const char* body : {"[]", R"({"installations":[]})", R"({"total_count":1})",
                           R"({"total_count":1,"installations":[{"account":{}}]})",
                           R"({"total_count":1,"installations":[7]})"}) {
    const auto page = ParseInstallations(Json(200, body));

    ASSERT_FALSE(page.ok()) << body;
    EXPECT_EQ(page.error().code, core::ErrorCode::kUpstreamFailed) << body;
  }
}

TEST(ParseInstallations, BadTokenRequiresReauthorization) {
  const auto page = ParseInstallations(Json(401, R"({"message":"Bad credentials"})"));

  EXPECT_EQ(page.error().code, core::ErrorCode::kReauthorizationRequired);
}

}  // namespace
}  // namespace keybridge::oauth
