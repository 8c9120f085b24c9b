// Pieces both curl users in net/ share (CurlHttpClient and ProbeClient): RAII for curl objects,
// header validation and list building, global initialisation and the CA bundle. Internal to net/.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_client.h"
#include "core/result.h"

namespace keybridge::net {

struct CurlUrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct CurlStringDeleter {
  void operator()(char* text) const { curl_free(text); }
};
struct CurlEasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using CurlString = std::unique_ptr<char, CurlStringDeleter>;
using HeaderList = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// curl_global_init once per process; throws StartupError if it fails (constructors only).
void EnsureCurlInitialized();

std::string_view Trim(std::string_view text);
// RFC 9110 token (header names, methods).
bool IsToken(std::string_view text);
bool HasLineBreakOrNul(std::string_view text);

// The request headers as a curl list (plus "Expect:" to suppress 100-continue). kInvalidArgument
// naming `host` for a header that is not a token or whose value could split the request.
core::Result<HeaderList> BuildHeaderList(const std::vector<core::HttpHeader>& headers,
                                         const std::string& host);

std::optional<std::string> ReadFile(const std::string& path);
// The CA bundle libcurl would use by default (the distribution's bundle on Debian).
std::string SystemBundlePath();

}  // namespace keybridge::net
