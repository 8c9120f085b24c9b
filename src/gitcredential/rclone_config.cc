#include "gitcredential/rclone_config.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>
#include <ostream>

#include "core/text.h"
#include "core/url.h"

namespace keybridge::gitcredential {
namespace {

using nlohmann::json;

constexpr std::chrono::seconds kRequestTimeout{30};

std::string StringField(const json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// rclone.conf is an INI file: a remote name must not open another section or line.
bool IsRemoteName(const std::string& name) {
  return !name.empty() && name.size() <= 100 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace

int RunRcloneConfig(const std::string& connection_id, const std::string& remote_name,
                    const ServerAccess& access, RcloneConfigIo& io) {
  if (!remote_name.empty() && !IsRemoteName(remote_name)) {
    io.err << "keybridge: the remote name may contain letters, digits, '-', '_' and '.'\n";
    return 1;
  }
  core::HttpRequest request;
  request.method = "GET";
  request.url = access.keybridge_url + "/api/data/oauth2/connections/"
                + core::PercentEncode(connection_id) + "/rclone_config";
  request.headers.push_back({"Authorization", "Bearer " + access.token});
  request.headers.push_back({"Accept", "application/json"});
  request.timeout = kRequestTimeout;
  auto response = io.http.Send(request);
  if (!response.ok()) {
    io.err << "keybridge: cannot reach " << access.keybridge_url << ": " << response.error().message
           << "\n";
    return 1;
  }
  const json body = json::parse(response->body, nullptr, false);
  if (response->status != 200 || !body.is_object()) {
    std::string message = ServerErrorMessage(response->status, response->body);
    if (const std::string connect_url = body.is_object() ? StringField(body, "connect_url") : "";
        !connect_url.empty()) {
      message += " — reconnect at " + connect_url;
    }
    io.err << "keybridge: " << message << "\n";
    return 1;
  }
  const std::string name = remote_name.empty() ? StringField(body, "provider_id") : remote_name;
  const std::string type = StringField(body, "type");
  const std::string token_url = StringField(body, "token_url");
  const auto token = body.find("token");
  if (!IsRemoteName(name) || type.empty() || token_url.empty() || token == body.end()
      || !token->is_object()) {
    io.err << "keybridge: the server's answer is not an rclone remote\n";
    return 1;
  }
  io.out << "[" << name << "]\n"
         << "type = " << type << "\n"
         << "token_url = " << token_url << "\n"
         << "token = " << token->dump() << "\n";
  io.out.flush();
  return 0;
}

}  // namespace keybridge::gitcredential
