#include "http/error_response.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace keybridge::http {
namespace {

using core::ErrorCode;

nlohmann::json BodyOf(const Response& response) {
  return nlohmann::json::parse(response.body);
}

TEST(ErrorResponse, PublicFieldsJoinTheErrorAndDetailStaysOut) {
  core::Error error =
      core::MakeError(ErrorCode::kNotFound, "You have no connection to GitLab.", "user=alice");
  error.WithPublicField("provider_id", "gitlab")
      .WithPublicField("connect_url", "https://kb.example.org/connect")
      .WithPublicField("error", "must not replace the error object");

  const Response response = ErrorResponse(error);

  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, R"({"connect_url":"https://kb.example.org/connect",)"
                           R"("error":{"code":1404,"message":"You have no connection to GitLab."},)"
                           R"("provider_id":"gitlab"})");
}

TEST(StatusFor, MapsEveryCode) {
  EXPECT_EQ(StatusFor(ErrorCode::kInvalidArgument), 422);
  EXPECT_EQ(StatusFor(ErrorCode::kBadRequest), 400);
  EXPECT_EQ(StatusFor(ErrorCode::kUnauthenticated), 401);
  EXPECT_EQ(StatusFor(ErrorCode::kPermissionDenied), 403);
  EXPECT_EQ(StatusFor(ErrorCode::kNotFound), 404);
  EXPECT_EQ(StatusFor(ErrorCode::kConflict), 409);
  EXPECT_EQ(StatusFor(ErrorCode::kPayloadTooLarge), 413);
  EXPECT_EQ(StatusFor(ErrorCode::kReauthorizationRequired), 401);
  EXPECT_EQ(StatusFor(ErrorCode::kDecryptionFailed), 500);
  EXPECT_EQ(StatusFor(ErrorCode::kUpstreamFailed), 502);
  EXPECT_EQ(StatusFor(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(StatusFor(ErrorCode::kInternal), 500);
}

TEST(ErrorResponse, BodyCarriesCodeAndMessage) {
  const Response response =
      ErrorResponse(core::MakeError(ErrorCode::kNotFound, "no such provider", "id=x"));

  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, R"({"error":{"code":1404,"message":"no such provider"}})");
  ASSERT_EQ(response.headers.size(), 1U);
  EXPECT_EQ(response.headers[0].name, "Content-Type");
  EXPECT_EQ(response.headers[0].value, "application/json");
}

TEST(ErrorResponse, NeverSendsDetail) {
  const Response response =
      ErrorResponse(core::MakeError(ErrorCode::kConflict, "taken", "secret-detail"));

  EXPECT_EQ(response.body.find("secret-detail"), std::string::npos);
}

TEST(ErrorResponse, DecryptionFailureUsesCode1510) {
  const Response response =
      ErrorResponse(core::MakeError(ErrorCode::kDecryptionFailed, "cannot decrypt"));

  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(BodyOf(response)["error"]["code"], 1510);
}

TEST(ErrorResponse, ReauthorizationRequiredIs401) {
  const Response response =
      ErrorResponse(core::MakeError(ErrorCode::kReauthorizationRequired, "reconnect"));

  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(BodyOf(response)["error"]["code"], 1401);
}

TEST(ErrorResponse, EmptyInternalMessageBecomesGeneric) {
  const Response response = ErrorResponse(core::MakeError(ErrorCode::kInternal, ""));

  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(BodyOf(response)["error"]["message"], "Internal error; see the server log");
  EXPECT_EQ(BodyOf(response)["error"]["code"], 1500);
}

TEST(ErrorResponse, InternalMessageIsKeptWhenSet) {
  const Response response = ErrorResponse(core::MakeError(ErrorCode::kInternal, "oops"));

  EXPECT_EQ(BodyOf(response)["error"]["message"], "oops");
}

TEST(ErrorResponse, InvalidUtf8IsReplacedNotThrown) {
  const Response response =
      ErrorResponse(core::MakeError(ErrorCode::kInvalidArgument, "bad \xff name"));

  EXPECT_EQ(response.status, 422);
  EXPECT_EQ(BodyOf(response)["error"]["message"], "bad \xEF\xBF\xBD name");
}

TEST(ErrorResponse, MessageIsJsonEscaped) {
  const Response response =
      ErrorResponse(core::MakeError(ErrorCode::kBadRequest, "quote \" and \\ and \n"));

  EXPECT_EQ(BodyOf(response)["error"]["message"], "quote \" and \\ and \n");
}

TEST(ErrorResponse, TransportErrorUsesStatusCode) {
  const Response response = ErrorResponse(431, "Request header fields too large");

  EXPECT_EQ(response.status, 431);
  EXPECT_EQ(response.body,
            R"({"error":{"code":1431,"message":"Request header fields too large"}})");
}

TEST(ErrorResponse, RetryAfterBecomesTheHeaderAndTooManyRequestsIs429) {
  core::Error limited = core::MakeError(ErrorCode::kTooManyRequests, "slow down");
  limited.WithRetryAfter(std::chrono::seconds(12));
  const Response response = ErrorResponse(limited);

  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(BodyOf(response)["error"]["code"], 1429);
  ASSERT_EQ(response.headers.size(), 2U);
  EXPECT_EQ(response.headers[1].name, "Retry-After");
  EXPECT_EQ(response.headers[1].value, "12");
}

TEST(ErrorResponse, RetryAfterIsAtLeastOneSecond) {
  core::Error error = core::MakeError(ErrorCode::kUnavailable, "busy");
  error.WithRetryAfter(std::chrono::seconds(0));

  EXPECT_EQ(ErrorResponse(error).headers.back().value, "1");
}

}  // namespace
}  // namespace keybridge::http
