#include "fakes/fake_test_client.h"

#include <gtest/gtest.h>

#include <utility>

#include "crypto/base64.h"
#include "crypto/hash.h"

namespace keybridge::fakes {
namespace {

net::CurlHttpClient::Options ClientOptions(std::string user_agent) {
  net::CurlHttpClient::Options options;
  options.user_agent = std::move(user_agent);
  return options;
}

}  // namespace

TestClient::TestClient(std::string user_agent) : client_(ClientOptions(std::move(user_agent))) {}

core::HttpResponse TestClient::Send(const std::string& method, const std::string& url,
                                    std::vector<core::HttpHeader> headers, std::string body) {
  core::HttpRequest request;
  request.method = method;
  request.url = url;
  request.headers = std::move(headers);
  request.body = std::move(body);
  auto response = client_.Send(request);
  if (!response.ok()) {
    ADD_FAILURE() << method << " " << url << " failed: " << response.error().message;
    return core::HttpResponse{};
  }
  return std::move(response).value();
}

core::HttpResponse TestClient::Get(const std::string& url, std::vector<core::HttpHeader> headers) {
  return Send("GET", url, std::move(headers));
}

core::HttpResponse TestClient::PostForm(const std::string& url, const FormFields& fields,
                                        std::vector<core::HttpHeader> headers) {
  headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  return Send("POST", url, std::move(headers), EncodeFormFields(fields));
}

FormFields RedirectParams(const core::HttpResponse& response) {
  const std::string location = response.Header("location");
  const std::size_t question = location.find('?');
  return question == std::string::npos ? FormFields{}
                                       : ParseFormFields(location.substr(question + 1));
}

std::string RedirectTarget(const core::HttpResponse& response) {
  const std::string location = response.Header("location");
  return location.substr(0, location.find('?'));
}

std::string S256Challenge(std::string_view verifier) {
  return crypto::Base64UrlEncode(crypto::Sha256(verifier));
}

std::string BasicAuth(std::string_view user, std::string_view password) {
  return "Basic " + crypto::Base64Encode(std::string(user) + ":" + std::string(password));
}

}  // namespace keybridge::fakes
