#include "gitcredential/rclone_config.h"

#include <gtest/gtest.h>

#include <sstream>

#include "support/scripted_http_client.h"

namespace keybridge::gitcredential {
namespace {

constexpr const char* kServer = "https://kb.example.org";
constexpr const char* kConnection = "01HZZZZZZZZZZZZZZZZZZZZZZZ";
const std::string kConfigUrl =
    std::string(kServer) + "/api/data/oauth2/connections/" + kConnection + "/rclone_config";

class RcloneConfigTest : public ::testing::Test {
 protected:
  RcloneConfigTest() {
    access_.keybridge_url = kServer;
    access_.token = "kbs_session";
  }

  int Run(const std::string& name = "") {
    RcloneConfigIo io{out_, err_, http_};
    return RunRcloneConfig(kConnection, name, access_, io);
  }

  ServerAccess access_;
  testing::ScriptedHttpClient http_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(RcloneConfigTest, PrintsARemoteSectionNamedAfterTheIntegration) {
  http_.Always("GET", kConfigUrl,
               testing::JsonResponse(
                   200, R"({"provider_id":"dropbox","type":"dropbox",)"
                        R"("token_url":"https://kb.example.org/api/data/oauth2/connections/)"
                        R"(01HZZZZZZZZZZZZZZZZZZZZZZZ/token_endpoint",)"
                        R"("token":{"access_token":"sl.test-only","token_type":"Bearer",)"
                        R"("refresh_token":"kbr_handle","expiry":"2026-12-05T10:00:00Z"},)"
                        R"("refresh_token_expires_at":"2026-12-06T10:00:00Z"})"));

  EXPECT_EQ(Run(), 0);

  EXPECT_EQ(out_.str(),
            "[dropbox]\n"
            "type = dropbox\n"
            "token_url = https://kb.example.org/api/data/oauth2/connections/"
            "01HZZZZZZZZZZZZZZZZZZZZZZZ/token_endpoint\n"
            "token = {\"access_token\":\"sl.test-only\",\"expiry\":\"2026-12-05T10:00:00Z\","
            "\"refresh_token\":\"kbr_handle\",\"token_type\":\"Bearer\"}\n");
  EXPECT_EQ(err_.str(), "");
  EXPECT_EQ(http_.Requests().at(0).headers.at(0).value, "Bearer kbs_session");
}

TEST_F(RcloneConfigTest, TakesTheRemoteNameGivenAndRefusesOneThatWouldBreakTheFile) {
  http_.Always("GET", kConfigUrl,
               testing::JsonResponse(200, R"({"provider_id":"google","type":"drive",)"
                                          R"("token_url":"https://kb/x","token":{}})"));

  EXPECT_EQ(Run("my-drive"), 0);
  EXPECT_EQ(out_.str().substr(0, 11), "[my-drive]\n");

  EXPECT_EQ(Run("x]\n[other"), 1);
  EXPECT_NE(err_.str().find("remote name"), std::string::npos);
}

TEST_F(RcloneConfigTest, ShowsTheServersReasonAndTheReconnectLink) {
  http_.Always("GET", kConfigUrl,
               testing::JsonResponse(
                   401, R"({"error":{"code":1401,"message":"The connection must be renewed."},)"
                        R"("connect_url":"https://kb.example.org/api/data/oauth2/providers/)"
                        R"(dropbox/authorize"})"));

  EXPECT_EQ(Run(), 1);

  EXPECT_EQ(out_.str(), "");
  EXPECT_NE(err_.str().find("The connection must be renewed."), std::string::npos);
  EXPECT_NE(err_.str().find("reconnect at https://kb.example.org/api/data/oauth2/providers/"
                            "dropbox/authorize"),
            std::string::npos);
}

}  // namespace
}  // namespace keybridge::gitcredential
