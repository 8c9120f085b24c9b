#include "gitcredential/access_hint.h"

#include <gtest/gtest.h>

#include "support/scripted_http_client.h"

namespace keybridge::gitcredential {
namespace {

constexpr const char* kBase = "https://kb.example.org";
constexpr const char* kCheck =
    "https://kb.example.org/api/data/repository?url=https%3A%2F%2Fgithub.com%2Fo%2Fr";

TEST(AccessHintTest, NamesTheInstallUrlAndSendsTheToken) {
  testing::ScriptedHttpClient http;
  http.Enqueue("GET", kCheck,
               testing::JsonResponse(200, R"({"status":"invalid","install_url":"https://)"
                                          R"(github.com/apps/kb/installations/new"})"));

  const std::string hint =
      AccessHint(http, kBase, core::Secret("kbs_session"), "https://github.com/o/r");

  EXPECT_NE(hint.find("install it"), std::string::npos) << hint;
  EXPECT_NE(hint.find("https://github.com/apps/kb/installations/new"), std::string::npos) << hint;
  const auto requests = http.Requests();
  ASSERT_EQ(requests.size(), 1U);
  bool bearer = false;
  for (const auto& header : requests[0].headers) {
    bearer = bearer || (header.name == "Authorization" && header.value == "Bearer kbs_session");
  }
  EXPECT_TRUE(bearer);
}

TEST(AccessHintTest, NamesTheConnectUrl) {
  testing::ScriptedHttpClient http;
  http.Enqueue(
      "GET", kCheck,
      testing::JsonResponse(200, R"({"status":"not_connected","connect_url":"https://)"
                                 R"(kb.example.org/api/data/oauth2/providers/gh/authorize"})"));

  EXPECT_EQ(
      AccessHint(http, kBase, core::Secret("t"), "https://github.com/o/r"),
      "Connect your account at https://kb.example.org/api/data/oauth2/providers/gh/authorize");
}

TEST(AccessHintTest, SaysNothingWhenTheServerCannotTell) {
  testing::ScriptedHttpClient http;
  http.Enqueue("GET", kCheck, testing::JsonResponse(404, R"({"error":{"code":1404}})"));
  http.Enqueue("GET", kCheck, testing::JsonResponse(200, "not json"));
  http.Enqueue("GET", kCheck, testing::JsonResponse(200, R"({"status":"valid"})"));

  EXPECT_EQ(AccessHint(http, kBase, core::Secret("t"), "https://github.com/o/r"), "");
  EXPECT_EQ(AccessHint(http, kBase, core::Secret("t"), "https://github.com/o/r"), "");
  EXPECT_EQ(AccessHint(http, kBase, core::Secret("t"), "https://github.com/o/r"), "");
  // Unreachable: the scripted client has nothing left to answer.
  EXPECT_EQ(AccessHint(http, kBase, core::Secret("t"), "https://github.com/o/r"), "");
}

}  // namespace
}  // namespace keybridge::gitcredential
