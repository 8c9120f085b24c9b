// Harness for integration tests: a real keybridge Application in-process on loopback, with a
// fake OIDC issuer (TestJwtIssuer behind http::Server) so tests can act as any user or admin, and
// helpers that play the browser through the OAuth redirects.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/application.h"
#include "core/http_client.h"
#include "http/router.h"
#include "http/server.h"
#include "net/curl_http_client.h"
#include "support/test_jwt_issuer.h"

namespace keybridge::testing {

class TestIssuerServer {
 public:
  TestIssuerServer();
  ~TestIssuerServer();
  std::string IssuerUrl() const;
  // A JWT for `sub` with audience "renku"; `roles` go to realm_access.roles.
  std::string TokenFor(const std::string& sub, std::vector<std::string> roles = {}) const;
  std::string AdminToken() const { return TokenFor("admin-1", {"renku-admin"}); }
  TestJwtIssuer& issuer() { return *issuer_; }

  // Browser sign-in (authorization code + PKCE): the authorization endpoint signs in this user at
  // once and redirects back with a code; the token endpoint accepts the code only with the
  // verifier of its S256 challenge and these client credentials (HTTP Basic, RFC 6749 2.3.1).
  static constexpr const char* kClientId = "keybridge-ui";
  static constexpr const char* kClientSecret = "test-ui-secret";
  void SetBrowserUser(std::string sub, std::vector<std::string> roles = {});
  // The `iss` its authorization responses carry (RFC 9207, as Keycloak sends it): its own issuer
  // URL unless set; nullopt leaves the parameter out (a mix-up or a misbehaving server).
  void SetAuthorizationResponseIssuer(std::optional<std::string> iss);
  // How many token requests were refused (wrong client, code or verifier).
  int RefusedTokenRequests() const;

 private:
  struct PendingCode {
    std::string challenge;
    std::string redirect_uri;
    std::string sub;
    std::vector<std::string> roles;
  };
  http::Response Authorize(const http::Request& request);
  http::Response Token(const http::Request& request);

  mutable std::mutex mu_;
  std::string browser_sub_ = "user-1";
  std::vector<std::string> browser_roles_;
  std::optional<std::optional<std::string>> response_issuer_;  // unset: IssuerUrl()
  std::map<std::string, PendingCode> codes_;
  int next_code_ = 0;
  int refused_ = 0;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<TestJwtIssuer> issuer_;
};

// Sends requests with curl; never follows redirects.
class HttpCaller {
 public:
  explicit HttpCaller(std::string base_url) : base_url_(std::move(base_url)) {}
  // `path_or_url` starting with "http" is used as is, else appended to the base URL.
  core::HttpResponse Call(const std::string& method, const std::string& path_or_url,
                          const std::string& bearer = "", const std::string& body = "",
                          std::vector<core::HttpHeader> extra = {}) const;
  // Like Call, but a transport failure is a value, not a test failure (for requests to a
  // server the test is about to kill).
  core::Result<core::HttpResponse> Try(const std::string& method, const std::string& path,
                                       const std::string& bearer) const;
  const std::string& base_url() const { return base_url_; }

 private:
  std::string base_url_;
  mutable net::CurlHttpClient client_{net::CurlHttpClient::Options{}};
};

class KeybridgeHarness {
 public:
  // `configure` may change the config (database, flags) before the application starts.
  explicit KeybridgeHarness(const std::function<void(app::ServeConfig&)>& configure =
                                [](app::ServeConfig&) {});
  ~KeybridgeHarness();

  std::string BaseUrl() const;
  const std::filesystem::path& dir() const { return dir_; }
  TestIssuerServer& issuer() { return issuer_; }
  app::Application& application() { return *app_; }
  // Stops and destroys the application (e.g. to read the database file afterwards).
  void StopApplication();

  // A non-empty body is sent as application/json unless `extra` names another Content-Type.
  core::HttpResponse Call(const std::string& method, const std::string& path,
                          const std::string& bearer = "", const std::string& body = "",
                          std::vector<core::HttpHeader> extra = {}) const;
  // POSTs a provider as admin; fails the test unless 201.
  void CreateProvider(const nlohmann::json& body);

  // The browser: GET authorize as `bearer`, follow the provider's redirect, deliver the callback
  // with the flow cookie. Returns the callback's response (303 to next_url, or an error).
  core::HttpResponse Connect(const std::string& bearer, const std::string& provider_id,
                             const std::string& next_url = "");
  // The connection id of `provider_id` for the user of `bearer` ("" if none).
  std::string ConnectionId(const std::string& bearer, const std::string& provider_id);

 private:
  std::filesystem::path dir_;
  TestIssuerServer issuer_;
  std::unique_ptr<app::Application> app_;
  std::unique_ptr<HttpCaller> caller_;
};

// A token that keybridge must refresh on the next read: issue it with this lifetime (the fake
// providers' SetAccessTokenLifetime), then WaitUntilShortTokensNeedRefresh(). Keybridge refreshes
// a token within half its lifetime of expiry and asks no more of a refresh than half the lifetime
// whatever min_valid_seconds says, so a test cannot make it refresh a young token: time must
// really pass on keybridge's own clock.
inline constexpr std::chrono::seconds kShortTokenLifetime{2};
// Sleeps just over half of kShortTokenLifetime: waiting for time to pass, not synchronisation.
void WaitUntilShortTokensNeedRefresh();

// The value of a query parameter in a URL ("" if absent), percent-decoded.
std::string QueryParam(const std::string& url, const std::string& key);
// "name=value" of the first Set-Cookie header, without attributes.
std::string CookiePair(const core::HttpResponse& response);

}  // namespace keybridge::testing
