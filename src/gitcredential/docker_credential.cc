#include "gitcredential/docker_credential.h"

#include <cctype>
#include <chrono>
#include <istream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string_view>

#include "core/url.h"

namespace keybridge::gitcredential {
namespace {

using nlohmann::json;

// As git-credential: the token handed out stays valid for at least the next 5 minutes, longer
// than a pull of a large image takes to authenticate its layers' requests.
constexpr int kMinValidSeconds = 300;
constexpr std::chrono::milliseconds kRequestTimeout{60000};

std::string Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

std::string StringField(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

int NotFound(DockerCredentialIo& io, const std::string& reason) {
  io.err << "keybridge: " << reason << "\n";
  io.out << kDockerCredentialsNotFound << "\n";
  io.out.flush();
  return 1;
}

int Get(const ServerAccess& access, const std::string& access_problem, DockerCredentialIo& io) {
  std::string server_url;
  std::getline(io.in, server_url);
  server_url = Trim(server_url);
  if (server_url.empty()) {
    // docker-credential-helpers' answer to an empty request.
    io.out << "no credentials server URL\n";
    return 1;
  }
  if (access.keybridge_url.empty()) {
    return NotFound(io, access_problem);
  }
  core::HttpRequest request;
  request.method = "GET";
  request.url = access.keybridge_url + "/api/data/sessions/registry-credentials?server_url="
                + core::PercentEncode(server_url)
                + "&min_valid_seconds=" + std::to_string(kMinValidSeconds);
  request.headers.push_back({"Authorization", "Bearer " + access.token});
  request.headers.push_back({"Accept", "application/json"});
  request.timeout = kRequestTimeout;
  auto response = io.http.Send(request);
  if (!response.ok()) {
    return NotFound(io, "cannot reach " + access.keybridge_url + ": " + response.error().message);
  }
  const json body = json::parse(response->body, nullptr, false);
  if (response->status == 200 && body.is_object()) {
    const std::string username = StringField(body, "username");
    const std::string secret = StringField(body, "secret");
    if (username.empty() || secret.empty()) {
      return NotFound(io, "the server answered without a user name and token");
    }
    io.out << json{{"ServerURL", server_url}, {"Username", username}, {"Secret", secret}}.dump()
           << "\n";
    io.out.flush();
    return 0;
  }
  const std::string message = ServerErrorMessage(response->status, response->body);
  const std::string connect_url = body.is_object() ? StringField(body, "connect_url") : "";
  if (!connect_url.empty()) {
    std::string provider = StringField(body, "provider_name");
    if (provider.empty()) {
      provider = StringField(body, "provider_id");
    }
    return NotFound(io, response->status == 404
                            ? "no connection to " + provider + " — connect at " + connect_url
                            : "the connection to " + provider + " must be renewed — reconnect at "
                                  + connect_url);
  }
  if (response->status == 401) {
    return NotFound(io, "the server did not accept KEYBRIDGE_TOKEN: " + message);
  }
  return NotFound(io, message);
}

}  // namespace

int RunDockerCredential(const std::string& operation, const ServerAccess& access,
                        const std::string& access_problem, DockerCredentialIo& io) {
  if (operation == "get") {
    return Get(access, access_problem, io);
  }
  if (operation == "list") {
    io.out << "{}\n";
    return 0;
  }
  if (operation == "store" || operation == "erase") {
    // The input (a credential for store, a server URL for erase) is read and dropped: keybridge
    // hands out fresh tokens on every get, nothing is stored locally.
    std::string ignored(std::istreambuf_iterator<char>(io.in), {});
    io.err << "keybridge: credentials for registries are managed by keybridge; nothing to "
           << operation << "\n";
    return 0;
  }
  // docker-credential-helpers' answer to an unknown action.
  io.out << "Unknown credential action `" << operation << "`\n";
  return 1;
}

}  // namespace keybridge::gitcredential
