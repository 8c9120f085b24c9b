#include "net/curl_support.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <mutex>
#include <sstream>

#include "core/startup_error.h"

namespace keybridge::net {
namespace {

using core::ErrorCode;
using core::MakeError;

constexpr const char* kFallbackSystemBundle = "/etc/ssl/certs/ca-certificates.crt";

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0
         || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

void EnsureCurlInitialized() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw StartupError("curl_global_init failed");
    }
  });
}

std::string_view Trim(std::string_view text) {
  const auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  };
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

bool IsToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), IsTokenChar);
}

bool HasLineBreakOrNul(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

core::Result<HeaderList> BuildHeaderList(const std::vector<core::HttpHeader>& headers,
                                         const std::string& host) {
  // "Expect:" suppresses curl's 100-continue round trip for larger bodies.
  HeaderList list(curl_slist_append(nullptr, "Expect:"));
  if (!list) {
    return MakeError(ErrorCode::kInternal, "out of memory building request headers");
  }
  for (const auto& header : headers) {
    if (!IsToken(header.name) || HasLineBreakOrNul(header.value)) {
      return MakeError(ErrorCode::kInvalidArgument, "invalid request header for " + host);
    }
    // "Name;" is curl's spelling for a header with an empty value.
    const std::string line =
        header.value.empty() ? header.name + ";" : header.name + ": " + header.value;
    // Appending to a non-empty list keeps its head, so `list` stays the owner.
    if (curl_slist_append(list.get(), line.c_str()) == nullptr) {
      return MakeError(ErrorCode::kInternal, "out of memory building request headers");
    }
  }
  return list;
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string SystemBundlePath() {
  std::string path = kFallbackSystemBundle;
  if (CURL* handle = curl_easy_init()) {
    char* built_in = nullptr;
    if (curl_easy_getinfo(handle, CURLINFO_CAINFO, &built_in) == CURLE_OK && built_in != nullptr) {
      path = built_in;
    }
    curl_easy_cleanup(handle);
  }
  return path;
}

}  // namespace keybridge::net
