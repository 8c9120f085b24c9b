// The FakeGitHub test fixture shared by fake_github_test.cc (OAuth endpoints) and
// fake_github_api_test.cc (REST API, rate limits, Enterprise layout).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <nlohmann/json.hpp>

#include "fakes/fake_github.h"
#include "fakes/fake_test_client.h"
#include "support/fake_clock.h"

namespace keybridge::fakes::github_test {

using Json = nlohmann::json;

inline constexpr std::string_view kRedirectUri = "http://127.0.0.1:9/oauth2/github/callback";
inline constexpr std::string_view kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
inline constexpr std::string_view kClientId = "Iv23liTestClient";
inline constexpr std::string_view kClientSecret = "s3cr3t";

inline void Set(FormFields& fields, const std::string& name, std::string value) {
  for (auto& [key, existing] : fields) {
    if (key == name) {
      existing = std::move(value);
      return;
    }
  }
  fields.emplace_back(name, std::move(value));
}

inline void Remove(FormFields& fields, const std::string& name) {
  std::erase_if(fields, [&](const auto& field) { return field.first == name; });
}

inline bool IsAlnum(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

inline const std::vector<core::HttpHeader> kJson = {{"Accept", "application/json"}};

class FakeGitHubTest : public ::testing::Test {
 protected:
  FakeGitHubTest() { Start(FakeGitHub::Options()); }

  void Start(FakeGitHub::Options options) {
    options.client_id = std::string(kClientId);
    options.client_secret = std::string(kClientSecret);
    options.redirect_uris = {std::string(kRedirectUri), "http://127.0.0.1:9/second"};
    github_.reset();
    github_ = std::make_unique<FakeGitHub>(clock_, std::move(options));
  }

  FormFields AuthorizeParams() const {
    return {{"client_id", std::string(kClientId)},
            {"redirect_uri", std::string(kRedirectUri)},
            {"state", "st-9"},
            {"code_challenge", S256Challenge(kVerifier)},
            {"code_challenge_method", "S256"}};
  }

  core::HttpResponse Authorize(const FormFields& params) {
    return client_.Get(github_->AuthorizationEndpoint() + "?" + EncodeFormFields(params));
  }

  std::string Code(const FormFields& params) {
    const core::HttpResponse response = Authorize(params);
    EXPECT_EQ(response.status, 302) << response.body;
    return FindField(RedirectParams(response), "code").value_or("");
  }
  std::string Code() { return Code(AuthorizeParams()); }

  FormFields ExchangeParams(const std::string& code) const {
    return {{"client_id", std::string(kClientId)},
            {"client_secret", std::string(kClientSecret)},
            {"code", code},
            {"redirect_uri", std::string(kRedirectUri)},
            {"code_verifier", std::string(kVerifier)}};
  }

  core::HttpResponse Token(const FormFields& params,
                           std::vector<core::HttpHeader> headers = kJson) {
    return client_.PostForm(github_->TokenEndpoint(), params, std::move(headers));
  }

  core::HttpResponse Refresh(const std::string& refresh_token) {
    return Token({{"client_id", std::string(kClientId)},
                  {"client_secret", std::string(kClientSecret)},
                  {"grant_type", "refresh_token"},
                  {"refresh_token", refresh_token}});
  }

  TokenPair Connect() {
    const core::HttpResponse response = Token(ExchangeParams(Code()));
    const Json body = Json::parse(response.body);
    EXPECT_FALSE(body.contains("error")) << response.body;
    return TokenPair{body.value("access_token", ""), body.value("refresh_token", "")};
  }

  core::HttpResponse Api(const std::string& path, const std::string& access_token,
                         const std::string& method = "GET") {
    return client_.Send(method, github_->ApiBaseUrl() + path,
                        {{"Authorization", "Bearer " + access_token},
                         {"Accept", "application/vnd.github+json"},
                         {"X-GitHub-Api-Version", "2022-11-28"}});
  }

  core::HttpResponse AppTokenCall(const std::string& method, const std::string& what,
                                  const std::string& access_token,
                                  std::string_view secret = kClientSecret) {
    return client_.Send(
        method, github_->ApiBaseUrl() + "/applications/" + std::string(kClientId) + "/" + what,
        {{"Authorization", BasicAuth(kClientId, secret)}, {"Content-Type", "application/json"}},
        Json{{"access_token", access_token}}.dump());
  }

  testing::FakeClock clock_;
  TestClient client_;
  std::unique_ptr<FakeGitHub> github_;
};

}  // namespace keybridge::fakes::github_test
