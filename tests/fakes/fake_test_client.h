// TestClient: a thin net::CurlHttpClient wrapper for the fakes' own tests (GET, form POST, JSON
// helpers, redirect parsing). Transport failures are reported as gtest failures.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/http_client.h"
#include "fakes/form_encoding.h"
#include "net/curl_http_client.h"

namespace keybridge::fakes {

class TestClient {
 public:
  // An empty `user_agent` sends no User-Agent header at all.
  explicit TestClient(std::string user_agent = "keybridge-test/1.0");

  core::HttpResponse Send(const std::string& method, const std::string& url,
                          std::vector<core::HttpHeader> headers = {}, std::string body = "");
  core::HttpResponse Get(const std::string& url, std::vector<core::HttpHeader> headers = {});
  core::HttpResponse PostForm(const std::string& url, const FormFields& fields,
                              std::vector<core::HttpHeader> headers = {});

 private:
  net::CurlHttpClient client_;
};

// The query parameters of a response's Location header.
FormFields RedirectParams(const core::HttpResponse& response);
// The Location header without its query string.
std::string RedirectTarget(const core::HttpResponse& response);
// RFC 7636 S256 challenge of `verifier`.
std::string S256Challenge(std::string_view verifier);
// "Basic base64(user:password)".
std::string BasicAuth(std::string_view user, std::string_view password);

}  // namespace keybridge::fakes
