#include "gitcredential/access_hint.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "core/url.h"

namespace keybridge::gitcredential {
namespace {

using nlohmann::json;

// The repository check may probe the provider (its own provider timeouts are 10 s per call).
constexpr std::chrono::milliseconds kRequestTimeout{30000};

std::string StringField(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::string AccessHint(core::HttpClient& http, const std::string& base_url,
                       const core::Secret& token, const std::string& repository_url) {
  core::HttpRequest request;
  request.url = base_url + "/api/data/repository?url=" + core::PercentEncode(repository_url);
  request.headers.push_back({"Authorization", "Bearer " + token.Reveal()});
  request.headers.push_back({"Accept", "application/json"});
  request.timeout = kRequestTimeout;
  auto response = http.Send(request);
  if (!response.ok() || response->status != 200) {
    return "";
  }
  const json body = json::parse(response->body, nullptr, false);
  if (!body.is_object()) {
    return "";
  }
  const std::string install_url = StringField(body, "install_url");
  if (!install_url.empty()) {
    return "The GitHub App of this integration cannot reach " + repository_url
           + ": install it for the repository's owner (or add the repository to the installation) "
             "at "
           + install_url;
  }
  const std::string connect_url = StringField(body, "connect_url");
  if (!connect_url.empty()) {
    return "Connect your account at " + connect_url;
  }
  return "";
}

}  // namespace keybridge::gitcredential
