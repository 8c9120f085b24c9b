#include "oauth/api_status.h"

#include <gtest/gtest.h>

#include "oauth/test_fixtures.h"

namespace keybridge::oauth {
namespace {

using testing::Json;

core::Error ErrorOf(const core::HttpResponse& response) {
  const auto status = CheckApiStatus(response, "the account lookup");
  EXPECT_FALSE(status.ok());
  return status.ok() ? core::Error{} : status.error();
}

TEST(CheckApiStatus, AcceptsOnly200) {
  EXPECT_TRUE(CheckApiStatus(Json(200, "{}"), "x").ok());
  EXPECT_FALSE(CheckApiStatus(Json(204, ""), "x").ok());
}

TEST(CheckApiStatus, Unauthorized401MeansTheTokenIsBad) {
  const auto error = ErrorOf(Json(401, R"({"message":"Bad credentials","status":"401"})"));

  EXPECT_EQ(error.code, core::ErrorCode::kReauthorizationRequired);
  EXPECT_EQ(error.detail, "api_401");
  EXPECT_EQ(error.message.rfind("the account lookup", 0), 0U);
}

TEST(CheckApiStatus, GitHubRateLimitsAreTransient) {
  const auto primary =
      ErrorOf(Json(403, R"({"message":"API rate limit exceeded"})",
                   {{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "1700003600"}}));
  const auto secondary = ErrorOf(Json(403, "{}", {{"retry-after", "60"}}));
  const auto too_many = ErrorOf(Json(429, "{}"));

  EXPECT_EQ(primary.code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(primary.detail, "ratelimit_reset=1700003600");
  EXPECT_EQ(secondary.code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(secondary.detail, "retry_after=60");
  EXPECT_EQ(too_many.code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(too_many.detail, "rate_limited");
}

TEST(CheckApiStatus, PermissionForbiddenIsNotARateLimit) {
  const auto forbidden =
      ErrorOf(Json(403, R"({"message":"Forbidden"})", {{"x-ratelimit-remaining", "4999"}}));
  const auto sso = ErrorOf(Json(403, "{}", {{"x-github-sso", "required; url=https://x"}}));

  EXPECT_EQ(forbidden.code, core::ErrorCode::kUpstreamFailed);
  EXPECT_EQ(forbidden.detail, "http_403");
  EXPECT_EQ(sso.code, core::ErrorCode::kUpstreamFailed);
  EXPECT_EQ(sso.detail, "github_sso_required");
}

TEST(CheckApiStatus, ServerErrorsAreTransientAndOthersUpstreamFailures) {
  EXPECT_EQ(ErrorOf(Json(502, "")).code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(ErrorOf(Json(404, R"({"message":"Not Found"})")).code,
            core::ErrorCode::kUpstreamFailed);
}

}  // namespace
}  // namespace keybridge::oauth
