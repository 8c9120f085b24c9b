#include "integration/harness.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "core/text.h"
#include "core/url.h"
#include "crypto/base64.h"
#include "http/message.h"
#include "oauth/pkce.h"

namespace keybridge::testing {

TestIssuerServer::TestIssuerServer() {
  router_.Add("GET", "/realms/test/.well-known/openid-configuration", [this](http::Request&) {
    return http::Response::Json(200, issuer_->DiscoveryJson(IssuerUrl() + "/jwks"));
  });
  router_.Add("GET", "/realms/test/jwks",
              [this](http::Request&) { return http::Response::Json(200, issuer_->JwksJson()); });
  router_.Add("GET", "/realms/test/protocol/openid-connect/auth",
              [this](http::Request& r) { return Authorize(r); });
  router_.Add("POST", "/realms/test/protocol/openid-connect/token",
              [this](http::Request& r) { return Token(r); });
  server_ = std::make_unique<http::Server>(
      http::ServerOptions{}, [this](http::Request& r) { return router_.Dispatch(r); });
  server_->Start();
  issuer_ = std::make_unique<TestJwtIssuer>(IssuerUrl());
}

TestIssuerServer::~TestIssuerServer() {
  server_->Stop();
}

std::string TestIssuerServer::IssuerUrl() const {
  return "http://127.0.0.1:" + std::to_string(server_->port()) + "/realms/test";
}

std::string TestIssuerServer::TokenFor(const std::string& sub,
                                       std::vector<std::string> roles) const {
  auto claims = issuer_->DefaultClaims(sub, std::move(roles), std::chrono::system_clock::now());
  claims["aud"] = "renku";
  return issuer_->Mint(claims);
}

void TestIssuerServer::SetBrowserUser(std::string sub, std::vector<std::string> roles) {
  std::lock_guard lock(mu_);
  browser_sub_ = std::move(sub);
  browser_roles_ = std::move(roles);
}

void TestIssuerServer::SetAuthorizationResponseIssuer(std::optional<std::string> iss) {
  std::lock_guard lock(mu_);
  response_issuer_ = std::move(iss);
}

int TestIssuerServer::RefusedTokenRequests() const {
  std::lock_guard lock(mu_);
  return refused_;
}

http::Response TestIssuerServer::Authorize(const http::Request& request) {
  const auto redirect_uri = request.Query("redirect_uri").value_or("");
  if (request.Query("response_type") != "code" || request.Query("client_id") != kClientId
      || request.Query("code_challenge_method") != "S256" || !request.Query("code_challenge")
      || !request.Query("state") || redirect_uri.empty()) {
    return http::Response::Json(400, R"({"error":"invalid_request"})");
  }
  std::lock_guard lock(mu_);
  const std::string code = "code-" + std::to_string(++next_code_);
  codes_[code] =
      PendingCode{*request.Query("code_challenge"), redirect_uri, browser_sub_, browser_roles_};
  const std::optional<std::string> iss = response_issuer_ ? *response_issuer_ : IssuerUrl();
  return http::Response::Redirect(redirect_uri + "?code=" + code
                                  + "&state=" + core::PercentEncode(*request.Query("state"))
                                  + (iss ? "&iss=" + core::PercentEncode(*iss) : ""));
}

http::Response TestIssuerServer::Token(const http::Request& request) {
  std::map<std::string, std::string> form;
  std::size_t start = 0;
  while (start <= request.body.size()) {
    const auto end = std::min(request.body.find('&', start), request.body.size());
    const std::string pair = request.body.substr(start, end - start);
    const auto eq = pair.find('=');
    if (eq != std::string::npos) {
      form[core::PercentDecode(pair.substr(0, eq), true).value_or("")] =
          core::PercentDecode(pair.substr(eq + 1), true).value_or("");
    }
    start = end + 1;
  }
  const std::string basic =
      "Basic " + crypto::Base64Encode(std::string(kClientId) + ":" + std::string(kClientSecret));
  std::lock_guard lock(mu_);
  const auto pending = codes_.find(form["code"]);
  const bool ok = request.Header("authorization") == basic
                  && form["grant_type"] == "authorization_code" && pending != codes_.end()
                  && pending->second.redirect_uri == form["redirect_uri"]
                  && oauth::ChallengeFor(form["code_verifier"]) == pending->second.challenge;
  if (!ok) {
    ++refused_;
    return http::Response::Json(400, R"({"error":"invalid_grant"})");
  }
  const PendingCode code = pending->second;
  codes_.erase(pending);  // single use (RFC 6749 4.1.2)
  return http::Response::Json(200, nlohmann::json{{"access_token", TokenFor(code.sub, code.roles)},
                                                  {"token_type", "Bearer"},
                                                  {"expires_in", 300}}
                                       .dump());
}

core::HttpResponse HttpCaller::Call(const std::string& method, const std::string& path_or_url,
                                    const std::string& bearer, const std::string& body,
                                    std::vector<core::HttpHeader> extra) const {
  core::HttpRequest request;
  request.method = method;
  request.url = path_or_url.rfind("http", 0) == 0 ? path_or_url : base_url_ + path_or_url;
  request.body = body;
  const bool typed = std::any_of(extra.begin(), extra.end(), [](const core::HttpHeader& h) {
    return core::EqualsIgnoreAsciiCase(h.name, "content-type");
  });
  if (!body.empty() && !typed) {
    request.headers.push_back({"Content-Type", "application/json"});
  }
  if (!bearer.empty()) {
    request.headers.push_back({"Authorization", "Bearer " + bearer});
  }
  for (auto& h : extra) {
    request.headers.push_back(std::move(h));
  }
  auto response = client_.Send(request);
  EXPECT_TRUE(response.ok()) << method << " " << request.url << ": "
                             << (response.ok() ? "" : response.error().message);
  return response.ok() ? *response : core::HttpResponse{};
}

core::Result<core::HttpResponse> HttpCaller::Try(const std::string& method, const std::string& path,
                                                 const std::string& bearer) const {
  core::HttpRequest request;
  request.method = method;
  request.url = base_url_ + path;
  request.headers.push_back({"Authorization", "Bearer " + bearer});
  return client_.Send(request);
}

KeybridgeHarness::KeybridgeHarness(const std::function<void(app::ServeConfig&)>& configure) {
  static std::atomic<int> counter{0};
  dir_ = std::filesystem::temp_directory_path()
         / ("keybridge-it-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  app::ServeConfig config;
  config.listen = "127.0.0.1:0";
  config.database = "sqlite://" + (dir_ / "keybridge.db").string();
  config.key_file = (dir_ / "keybridge.key").string();
  config.oidc_issuer = issuer_.IssuerUrl();
  config.oidc_audiences = {"renku"};
  config.worker_threads = 8;
  config.background_refresh_interval = "0";
  configure(config);
  app_ = std::make_unique<app::Application>(config);
  app_->Start();
  caller_ = std::make_unique<HttpCaller>(BaseUrl());
}

KeybridgeHarness::~KeybridgeHarness() {
  app_.reset();
  std::filesystem::remove_all(dir_);
}

void KeybridgeHarness::StopApplication() {
  app_.reset();
}

std::string KeybridgeHarness::BaseUrl() const {
  return "http://127.0.0.1:" + std::to_string(app_->port());
}

core::HttpResponse KeybridgeHarness::Call(const std::string& method, const std::string& path,
                                          const std::string& bearer, const std::string& body,
                                          std::vector<core::HttpHeader> extra) const {
  return caller_->Call(method, path, bearer, body, std::move(extra));
}

void KeybridgeHarness::CreateProvider(const nlohmann::json& body) {
  auto r = Call("POST", "/api/data/oauth2/providers", issuer_.AdminToken(), body.dump());
  ASSERT_EQ(r.status, 201) << r.body;
}

core::HttpResponse KeybridgeHarness::Connect(const std::string& bearer,
                                             const std::string& provider_id,
                                             const std::string& next_url) {
  std::string path = "/api/data/oauth2/providers/" + provider_id + "/authorize";
  if (!next_url.empty()) {
    path += "?next_url=" + core::PercentEncode(next_url);
  }
  auto authorize = Call("GET", path, bearer);
  if (authorize.status != 302) {
    return authorize;
  }
  const std::string cookie = CookiePair(authorize);
  auto at_provider = Call("GET", authorize.Header("location"));
  if (at_provider.status != 302) {
    return at_provider;  // the provider showed a page instead of redirecting
  }
  const std::string callback = at_provider.Header("location");
  return Call("GET", callback, bearer, "", {{"Cookie", cookie}});
}

std::string KeybridgeHarness::ConnectionId(const std::string& bearer,
                                           const std::string& provider_id) {
  auto list = nlohmann::json::parse(Call("GET", "/api/data/oauth2/connections", bearer).body,
                                    nullptr, false);
  if (list.is_array()) {
    for (const auto& c : list) {
      if (c["provider_id"] == provider_id) {
        return c["id"].get<std::string>();
      }
    }
  }
  return "";
}

void WaitUntilShortTokensNeedRefresh() {
  std::this_thread::sleep_for(kShortTokenLifetime / 2 + std::chrono::milliseconds(100));
}

std::string QueryParam(const std::string& url, const std::string& key) {
  const auto q = url.find('?');
  if (q == std::string::npos) {
    return "";
  }
  http::Request r;
  r.raw_query = url.substr(q + 1);
  if (const auto hash = r.raw_query.find('#'); hash != std::string::npos) {
    r.raw_query.resize(hash);
  }
  return r.Query(key).value_or("");
}

std::string CookiePair(const core::HttpResponse& response) {
  const std::string header = response.Header("set-cookie");
  return header.substr(0, header.find(';'));
}

}  // namespace keybridge::testing
