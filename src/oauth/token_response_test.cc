#include "oauth/token_response.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "oauth/test_fixtures.h"

namespace keybridge::oauth {
namespace {

using testing::Json;
using testing::Response;

// Mid-second on purpose: times are truncated to whole seconds.
const core::TimePoint kNow = core::FromUnixSeconds(1'700'000'000) + std::chrono::milliseconds(700);
const core::TimePoint kNowSeconds = core::FromUnixSeconds(1'700'000'000);

// Obviously synthetic values, never real credentials: the GitHub ones keep the provider's prefix,
// but real GitHub tokens are [A-Za-z0-9_] only, so the hyphens rule them out for people and
// secret scanners alike.
constexpr std::string_view kGitLabAccess =
    "feedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedface";
constexpr std::string_view kGitLabRefresh =
    "deadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef";
constexpr std::string_view kGhu = "ghu_TEST-ONLY-not-a-real-token";
constexpr std::string_view kGhr = "ghr_TEST-ONLY-not-a-real-refresh-token";

// Doorkeeper's invalid_grant answer, verbatim as GitLab sends it (RFC 6749 §5.2 body).
const std::string kGitLabInvalidGrant =
    R"({"error":"invalid_grant","error_description":"The provided authorization grant is )"
    R"(invalid, expired, revoked, does not match the redirection URI used in the authorization )"
    R"(request, or was issued to another client."})";

core::Error ErrorOf(const core::HttpResponse& response, GrantKind kind = GrantKind::kRefresh) {
  auto result = ParseTokenResponse(response, kNow, kind);
  EXPECT_FALSE(result.ok());
  return result.ok() ? core::Error{} : result.error();
}

TEST(ParseTokenResponse, GitLabJsonSuccess) {
  const auto response = Json(200, R"({
    "access_token": "feedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedface",
    "token_type": "Bearer",
    "expires_in": 7200,
    "refresh_token": "deadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef",
    "scope": "api read_user",
    "created_at": 1607635748
  })");

  const auto tokens = ParseTokenResponse(response, kNow, GrantKind::kCode).value();

  EXPECT_EQ(tokens.access_token.Reveal(), kGitLabAccess);
  EXPECT_EQ(tokens.token_type, "bearer");
  ASSERT_TRUE(tokens.refresh_token.has_value());
  EXPECT_EQ(tokens.refresh_token->Reveal(), kGitLabRefresh);
  EXPECT_EQ(tokens.scope, "api read_user");
  EXPECT_EQ(tokens.obtained_at, kNowSeconds);
  EXPECT_EQ(tokens.expires_in, 7200);
  EXPECT_EQ(tokens.expires_at, kNowSeconds + core::Seconds(7200));
  EXPECT_FALSE(tokens.refresh_token_expires_at.has_value());
  EXPECT_FALSE(tokens.id_token.has_value());
  // Handed on as Renku does; nothing read by keybridge is repeated among the extras.
  EXPECT_EQ(tokens.extra_fields_json, R"({"created_at":1607635748})");
}

TEST(ParseTokenResponse, KeepsExtraMembersOfAnyTypeButNeverTheRefreshToken) {
  const auto response =
      Json(200, R"({"access_token":"at-1","token_type":"Bearer","expires_in":3600,)"
                R"("refresh_token":"rt-1","scope":"deposit:write","user":{"id":"42"},)"
                R"("refresh_token_expires_in":15897600})");

  const auto tokens = ParseTokenResponse(response, kNow, GrantKind::kCode).value();

  EXPECT_EQ(tokens.extra_fields_json,
            R"({"refresh_token_expires_in":15897600,"user":{"id":"42"}})");
  EXPECT_EQ(tokens.extra_fields_json.find("rt-1"), std::string::npos);
}

TEST(ParseTokenResponse, DropsOversizedExtrasWhole) {
  const auto response = Json(200, R"({"access_token":"at-1","token_type":"bearer","blob":")"
                                      + std::string(5000, 'x') + R"("})");

  EXPECT_EQ(ParseTokenResponse(response, kNow, GrantKind::kCode).value().extra_fields_json, "");
}

TEST(ParseTokenResponse, GitHubJsonSuccessWithRefreshTokenExpiry) {
  const auto response =
      Json(200, R"({"access_token":")" + std::string(kGhu)
                    + R"(","expires_in":28800,"refresh_token":")" + std::string(kGhr)
                    + R"(","refresh_token_expires_in":15897600,"scope":"",)"
                      R"("token_type":"bearer"})");

  const auto tokens = ParseTokenResponse(response, kNow, GrantKind::kRefresh).value();

  EXPECT_EQ(tokens.access_token.Reveal(), kGhu);
  EXPECT_EQ(tokens.refresh_token->Reveal(), kGhr);
  EXPECT_EQ(tokens.expires_at, kNowSeconds + core::Seconds(28800));
  EXPECT_EQ(tokens.refresh_token_expires_at, kNowSeconds + core::Seconds(15897600));
  EXPECT_EQ(tokens.scope, "");
}

TEST(ParseTokenResponse, GitHubFormEncodedSuccess) {
  const std::string body = "access_token=" + std::string(kGhu)
                           + "&expires_in=28800&refresh_token=" + std::string(kGhr)
                           + "&refresh_token_expires_in=15897600&scope=&token_type=bearer";

  for (const char* content_type : {"application/x-www-form-urlencoded; charset=utf-8", ""}) {
    const auto tokens =
        ParseTokenResponse(Response(200, content_type, body), kNow, GrantKind::kCode).value();

    EXPECT_EQ(tokens.access_token.Reveal(), kGhu) << content_type;
    EXPECT_EQ(tokens.refresh_token->Reveal(), kGhr);
    EXPECT_EQ(tokens.token_type, "bearer");
    EXPECT_EQ(tokens.expires_in, 28800);
    EXPECT_EQ(tokens.expires_at, kNowSeconds + core::Seconds(28800));
    EXPECT_EQ(tokens.refresh_token_expires_at, kNowSeconds + core::Seconds(15897600));
    EXPECT_EQ(tokens.scope, "");
    EXPECT_EQ(tokens.extra_fields_json, R"({"refresh_token_expires_in":"15897600"})");
  }
}

TEST(ParseTokenResponse, GitHubWithoutExpiringTokensHasNoExpiryAndNoRefreshToken) {
  const auto response = Json(200, R"({"access_token":"gho_TEST-ONLY-not-a-real-token",)"
                                  R"("scope":"repo,gist","token_type":"bearer"})");

  const auto tokens = ParseTokenResponse(response, kNow, GrantKind::kCode).value();

  EXPECT_FALSE(tokens.expires_at.has_value());
  EXPECT_FALSE(tokens.expires_in.has_value());
  EXPECT_FALSE(tokens.refresh_token.has_value());
  EXPECT_FALSE(tokens.refresh_token_expires_at.has_value());
  EXPECT_FALSE(tokens.IsExpiring(kNow + core::Seconds(1'000'000'000), core::Seconds(60)));
  EXPECT_EQ(tokens.scope, "repo,gist");
}

TEST(ParseTokenResponse, ExpiresInMayBeAStringNullOrFloat) {
  const auto as_string = ParseTokenResponse(
      Json(200, R"({"access_token":"a","token_type":"bearer","expires_in":"3600"})"), kNow,
      GrantKind::kCode);
  const auto as_null = ParseTokenResponse(
      Json(200, R"({"access_token":"a","token_type":"bearer","expires_in":null})"), kNow,
      GrantKind::kCode);
  const auto as_float = ParseTokenResponse(
      Json(200, R"({"access_token":"a","token_type":"bearer","expires_in":3599.0})"), kNow,
      GrantKind::kCode);

  EXPECT_EQ(as_string->expires_at, kNowSeconds + core::Seconds(3600));
  EXPECT_FALSE(as_null->expires_at.has_value());
  EXPECT_EQ(as_float->expires_at, kNowSeconds + core::Seconds(3599));
}

TEST(ParseTokenResponse, RejectsMalformedLifetimes) {
  for (const char* value : {R"("soon")", "-5", R"("-5")", R"("12x")", "true", R"(" 60")"}) {
    const auto error =
        ErrorOf(Json(200, std::string(R"({"access_token":"a","token_type":"bearer","expires_in":)")
                              + value + "}"));

    EXPECT_EQ(error.code, core::ErrorCode::kUpstreamFailed) << value;
    EXPECT_EQ(error.detail, "malformed_expires_in") << value;
  }
}

// Found by fuzzing: a form-encoded scope that decodes to broken UTF-8 was stored and later
// rewritten (U+FFFD) on its way out; now the response is refused and a valid scope is kept as is.
TEST(ParseTokenResponse, RefusesAScopeThatIsNotUtf8TextAndKeepsAValidOneByteExact) {
  for (const char* scope :
       {"repo%FF", "repo%C3", "%C0%AF", "%ED%A0%80", "%F4%90%80%80", "a%0Ab", "a%00", "a%7F"}) {
    const auto error =
        ErrorOf(Response(200, "application/x-www-form-urlencoded",
                         std::string("access_token=a&token_type=bearer&scope=") + scope),
                GrantKind::kCode);

    EXPECT_EQ(error.code, core::ErrorCode::kUpstreamFailed) << scope;
    EXPECT_EQ(error.detail, "malformed_scope") << scope;
    EXPECT_NE(error.message.find("scope"), std::string::npos) << scope;
  }
  const auto tokens = ParseTokenResponse(
      Response(200, "application/x-www-form-urlencoded",
               "access_token=a&token_type=bearer&scope=repo%2Cgist+%C3%A9%F0%9F%94%91"),
      kNow, GrantKind::kCode);
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  EXPECT_EQ(tokens->scope, "repo,gist \xC3\xA9\xF0\x9F\x94\x91");
}

// Found by fuzzing: token_type and `error` were quoted even when they carried the response's own
// access token, which then reached the message and the logged detail.
TEST(ParseTokenResponse, NeverQuotesATokenThroughTokenTypeOrError) {
  const std::string token = "abcdefghijklmnop";
  const auto type_error = ErrorOf(
      Json(200, R"({"access_token":")" + token + R"(","token_type":"mac )" + token + R"("})"),
      GrantKind::kCode);
  EXPECT_EQ(type_error.detail, "unsupported_token_type");
  EXPECT_EQ(type_error.message.find(token), std::string::npos) << type_error.message;

  const auto oauth_error =
      ErrorOf(Json(400, R"({"error":")" + token + R"(","refresh_token":")" + token + R"("})"));
  EXPECT_EQ(oauth_error.code, core::ErrorCode::kUpstreamFailed);
  EXPECT_EQ(oauth_error.message.find(token), std::string::npos) << oauth_error.message;
  EXPECT_EQ(oauth_error.detail.find(token), std::string::npos) << oauth_error.detail;

  const auto spliced = ErrorOf(
      Json(200, R"({"access_token":")" + token + R"(","token_type":"abcdefgh\u0000ijklmnop"})"),
      GrantKind::kCode);
  EXPECT_EQ(spliced.message.find(token), std::string::npos) << spliced.message;
  const auto described =
      ErrorOf(Json(400, R"({"error":"x","error_description":"abcd\u0001efghijklmnop",)"
                        R"("refresh_token":")"
                            + token + R"("})"));
  EXPECT_EQ(described.message.find(token), std::string::npos) << described.message;

  const auto plain = ErrorOf(Json(200, R"({"access_token":"a-b-c-d-e","token_type":"mac"})"));
  EXPECT_NE(plain.message.find("type \"mac\""), std::string::npos) << plain.message;
}

TEST(ParseTokenResponse, ClampsAbsurdLifetimesInsteadOfOverflowing) {
  const auto tokens = ParseTokenResponse(
      Json(200, R"({"access_token":"a","token_type":"bearer","expires_in":"99999999999999999999",)"
                R"("refresh_token":"r","refresh_token_expires_in":9223372036854775807})"),
      kNow, GrantKind::kCode);

  ASSERT_TRUE(tokens.ok());
  EXPECT_GT(*tokens->expires_at, kNow + core::Seconds(std::int64_t{40} * 365 * 24 * 3600));
  EXPECT_EQ(tokens->expires_at, tokens->refresh_token_expires_at);
}

TEST(ParseTokenResponse, RefreshWithoutNewRefreshTokenYieldsNone) {
  const auto tokens = ParseTokenResponse(
      Json(200, R"({"access_token":"ya29.x","token_type":"Bearer","expires_in":3599,)"
                R"("refresh_token":"","id_token":"h.p.s"})"),
      kNow, GrantKind::kRefresh);

  EXPECT_FALSE(tokens->refresh_token.has_value());
  ASSERT_TRUE(tokens->id_token.has_value());
  EXPECT_EQ(tokens->id_token->Reveal(), "h.p.s");
}

TEST(ParseTokenResponse, GitLabInvalidGrantOnRefreshRequiresReauthorization) {
  const auto error = ErrorOf(Json(400, kGitLabInvalidGrant), GrantKind::kRefresh);

  EXPECT_EQ(error.code, core::ErrorCode::kReauthorizationRequired);
  EXPECT_EQ(error.detail, "invalid_grant");
}

TEST(ParseTokenResponse, GitLabInvalidGrantOnCodeExchangeRejectsTheCode) {
  const auto error = ErrorOf(Json(400, kGitLabInvalidGrant), GrantKind::kCode);

  EXPECT_EQ(error.code, core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(error.detail, "invalid_grant");
  EXPECT_NE(error.message.find("authorization code was rejected"), std::string::npos);
}

TEST(ParseTokenResponse, GitHubBadRefreshTokenWithStatus200RequiresReauthorization) {
  const auto error = ErrorOf(
      Json(200, R"({"error":"bad_refresh_token","error_description":"The refresh token passed )"
                R"(is incorrect or expired.","error_uri":"https://docs.github.com"})"),
      GrantKind::kRefresh);

  EXPECT_EQ(error.code, core::ErrorCode::kReauthorizationRequired);
  EXPECT_EQ(error.detail, "bad_refresh_token");
}

TEST(ParseTokenResponse, GitHubBadVerificationCodeFormEncodedRejectsTheCode) {
  const auto error = ErrorOf(
      Response(200, "application/x-www-form-urlencoded",
               "error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+"
               "expired.&error_uri=%2Fapps%2Fmanaging-oauth-apps"),
      GrantKind::kCode);

  EXPECT_EQ(error.code, core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(error.detail, "bad_verification_code");
}

TEST(ParseTokenResponse, UnauthorizedClientOnRefreshRequiresReauthorization) {
  EXPECT_EQ(ErrorOf(Json(400, R"({"error":"unauthorized_client"})")).code,
            core::ErrorCode::kReauthorizationRequired);
}

TEST(ParseTokenResponse, InvalidClientInBothFlavoursTellsTheAdmin) {
  const auto gitlab = ErrorOf(Json(
      401, R"({"error":"invalid_client","error_description":"Client authentication failed due )"
           R"(to unknown client, no client authentication included, or unsupported )"
           R"(authentication method."})"));
  const auto github = ErrorOf(
      Json(200, R"({"error":"incorrect_client_credentials","error_description":"The client_id )"
                R"(and/or client_secret passed are incorrect."})"),
      GrantKind::kCode);

  for (const auto& error : {gitlab, github}) {
    EXPECT_EQ(error.code, core::ErrorCode::kUpstreamFailed);
    EXPECT_NE(error.message.find("client_id and client_secret"), std::string::npos);
    EXPECT_NE(error.message.find("administrator"), std::string::npos);
  }
  EXPECT_EQ(gitlab.detail, "invalid_client");
  EXPECT_EQ(github.detail, "incorrect_client_credentials");
}

TEST(ParseTokenResponse, OtherOAuthErrorsAreUpstreamFailuresWithTheirDescription) {
  const auto error = ErrorOf(
      Json(200, R"({"error":"unverified_user_email","error_description":"The user must have a )"
                R"(verified primary email."})"),
      GrantKind::kCode);

  EXPECT_EQ(error.code, core::ErrorCode::kUpstreamFailed);
  EXPECT_EQ(error.detail, "unverified_user_email");
  EXPECT_EQ(error.message,
            "the provider's token endpoint refused the request (unverified_user_email): The user "
            "must have a verified primary email.");
}

TEST(ParseTokenResponse, RedirectUriMismatchTellsTheAdmin) {
  const auto error = ErrorOf(Json(200, R"({"error":"redirect_uri_mismatch"})"), GrantKind::kCode);

  EXPECT_EQ(error.code, core::ErrorCode::kUpstreamFailed);
  EXPECT_NE(error.message.find("callback URL is not registered"), std::string::npos);
}

TEST(ParseTokenResponse, ServerErrorsAndRateLimitsAreTransient) {
  const auto unavailable = ErrorOf(Response(503, "text/html", "<html>down</html>"));
  const auto limited = ErrorOf(Response(429, "text/plain", "Retry later", {{"retry-after", "30"}}));
  const auto bad_gateway =
      ErrorOf(Json(502, R"({"error":"invalid_grant"})", {{"retry-after", "Wed, 21 Oct 2015"}}));
  const auto temporarily = ErrorOf(Json(400, R"({"error":"temporarily_unavailable"})"));

  EXPECT_EQ(unavailable.code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(unavailable.detail, "http_503");
  EXPECT_EQ(limited.code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(limited.detail, "retry_after=30");
  EXPECT_EQ(bad_gateway.code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(bad_gateway.detail, "http_502");
  EXPECT_EQ(temporarily.code, core::ErrorCode::kUnavailable);
}

TEST(ParseTokenResponse, HtmlPageWithStatus200IsAnUpstreamFailure) {
  for (const char* content_type : {"text/html; charset=utf-8", ""}) {
    const auto error =
        ErrorOf(Response(200, content_type, "<!DOCTYPE html><html><body>Sign in</body></html>"));

    EXPECT_EQ(error.code, core::ErrorCode::kUpstreamFailed) << content_type;
    EXPECT_EQ(error.detail, "unreadable_body");
  }
}

TEST(ParseTokenResponse, RejectsMissingOrUnusableFields) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"token_type":"bearer"})", "missing_access_token"},
      {R"({"access_token":"","token_type":"bearer"})", "missing_access_token"},
      {R"({"access_token":7,"token_type":"bearer"})", "missing_access_token"},
      {R"({"access_token":"a\r\nX-Injected: 1","token_type":"bearer"})", "missing_access_token"},
      {R"({"access_token":"a"})", "missing_token_type"},
      {R"({"access_token":"a","token_type":"mac"})", "unsupported_token_type"},
      {R"({"access_token":"a","token_type":"bearer","refresh_token":"r\n"})",
       "malformed_refresh_token"},
      {R"(["access_token","a"])", "unreadable_body"},
      {R"({"access_token":"a",)", "unreadable_body"},
  };
  for (const auto& [body, detail] : cases) {
    const auto error = ErrorOf(Json(200, body), GrantKind::kCode);

    EXPECT_EQ(error.code, core::ErrorCode::kUpstreamFailed) << body;
    EXPECT_EQ(error.detail, detail) << body;
  }
}

TEST(ParseTokenResponse, Bare401MeansTheClientCredentialsWereRejected) {
  const auto error = ErrorOf(Response(401, "", "", {{"www-authenticate", "Basic"}}));

  EXPECT_EQ(error.code, core::ErrorCode::kUpstreamFailed);
  EXPECT_EQ(error.detail, "http_401");
  EXPECT_NE(error.message.find("client_id and client_secret"), std::string::npos);
}

TEST(ParseTokenResponse, Non2xxWithoutOAuthErrorIsAnUpstreamFailure) {
  const auto error = ErrorOf(Json(404, R"({"message":"Not Found"})"));

  EXPECT_EQ(error.code, core::ErrorCode::kUpstreamFailed);
  EXPECT_EQ(error.detail, "http_404");
}

TEST(ParseTokenResponse, NoErrorEverContainsTokenText) {
  const std::string tokens = R"("access_token":")" + std::string(kGhu) + R"(","refresh_token":")"
                             + std::string(kGhr) + R"(")";
  const std::vector<core::HttpResponse> responses = {
      Json(200, "{" + tokens + R"(,"error":"weird","error_description":"got )" + std::string(kGhu)
                    + R"("})"),
      Json(200, "{" + tokens + R"(,"error":"weird","error_description":"token )"
                    + std::string(kGhr).substr(0, 10) + R"("})"),
      Json(400, "{" + tokens + R"(,"error":"invalid_grant","error_description":")"
                    + std::string(kGhr) + R"("})"),
      Json(200, "{" + tokens + "}"),
      Json(200, "{" + tokens + R"(,"token_type":"mac"})"),
      Json(200, "{" + tokens + R"(,"token_type":"bearer","expires_in":"x"})"),
      Json(400, "{" + tokens + "}"),
      Json(503, "{" + tokens + "}"),
      Response(200, "text/html", "<p>" + std::string(kGhu) + "</p>"),
      Response(200, "",
               "access_token=" + std::string(kGhu) + "&refresh_token=" + std::string(kGhr)
                   + "&token_type=%ZZ"),
      Response(500, "", std::string(kGitLabAccess)),
  };
  for (const auto kind : {GrantKind::kCode, GrantKind::kRefresh}) {
    for (const auto& response : responses) {
      const auto error = ErrorOf(response, kind);

      for (std::string_view secret : {kGhu, kGhr, kGitLabAccess}) {
        EXPECT_EQ(error.message.find(secret), std::string::npos) << response.body;
        EXPECT_EQ(error.detail.find(secret), std::string::npos) << response.body;
      }
      EXPECT_EQ(error.message.find("ghr_"), std::string::npos) << response.body;
      EXPECT_EQ(error.message.find("ghu_"), std::string::npos) << response.body;
    }
  }
}

TEST(ParseTokenResponse, StripsControlCharactersFromErrorFields) {
  const auto error = ErrorOf(
      Json(200, R"({"error":"odd\u0000\n_error","error_description":"line\r\nInjected: yes"})"));

  EXPECT_EQ(error.detail, "odd_error");
  EXPECT_EQ(error.message.find('\n'), std::string::npos);
  EXPECT_EQ(error.message.find('\r'), std::string::npos);
}

}  // namespace
}  // namespace keybridge::oauth
