#include "gitcredential/server_access.h"

#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/url.h"

namespace keybridge::gitcredential {
namespace {

std::string_view TrimWhitespace(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
    text.remove_suffix(1);
  }
  return text;
}

core::Error Invalid(std::string message) {
  return core::MakeError(core::ErrorCode::kInvalidArgument, std::move(message));
}

}  // namespace

core::Status LoadServerAccess(const std::function<const char*(const char*)>& getenv,
                              ServerAccess& access) {
  auto value = [&](const char* name) {
    const char* raw = getenv(name);
    return std::string(TrimWhitespace(raw == nullptr ? "" : raw));
  };
  access.keybridge_url = value("KEYBRIDGE_URL");
  while (!access.keybridge_url.empty() && access.keybridge_url.back() == '/') {
    access.keybridge_url.pop_back();
  }
  if (access.keybridge_url.empty()) {
    return Invalid("set KEYBRIDGE_URL to the keybridge server's URL");
  }
  if (auto url = core::ParseUrl(access.keybridge_url);
      !url.ok() || (url->scheme != "https" && url->scheme != "http")) {
    return Invalid("KEYBRIDGE_URL must be an http(s) URL");
  }
  access.token = value("KEYBRIDGE_TOKEN");
  if (access.token.empty()) {
    const std::string file = value("KEYBRIDGE_TOKEN_FILE");
    if (file.empty()) {
      return Invalid("set KEYBRIDGE_TOKEN or KEYBRIDGE_TOKEN_FILE (a session token)");
    }
    std::ifstream in(file);
    std::string line;
    if (!in || !std::getline(in, line)) {
      return Invalid("KEYBRIDGE_TOKEN_FILE " + file + " cannot be read");
    }
    access.token = std::string(TrimWhitespace(line));
    if (access.token.empty()) {
      return Invalid("KEYBRIDGE_TOKEN_FILE " + file + " is empty");
    }
  }
  if (access.token.find_first_of("\r\n") != std::string::npos) {
    return Invalid("KEYBRIDGE_TOKEN must be a single line");
  }
  return core::OkStatus();
}

std::string ServerErrorMessage(int status, const std::string& body) {
  const nlohmann::json parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object()) {
    if (const auto error = parsed.find("error"); error != parsed.end() && error->is_object()) {
      if (const auto message = error->find("message");
          message != error->end() && message->is_string() && !message->get<std::string>().empty()) {
        return message->get<std::string>();
      }
    }
  }
  return "the server answered HTTP " + std::to_string(status);
}

}  // namespace keybridge::gitcredential
