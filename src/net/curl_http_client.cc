#include "net/curl_http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include "core/startup_error.h"
#include "core/text.h"
#include "net/curl_support.h"

namespace keybridge::net {
namespace {

using core::ErrorCode;
using core::MakeError;

constexpr std::chrono::milliseconds kMaxConnectTimeout{5000};
constexpr std::size_t kMaxIdleHandles = 8;

// Everything one request needs to outlive curl_easy_perform.
struct Transfer {
  HeaderList headers;
  std::array<char, CURL_ERROR_SIZE> error_buffer{};
  core::HttpResponse response;
  std::size_t max_bytes = 0;
  std::size_t received = 0;
  bool too_large = false;
  bool configure_failed = false;

  // Returns false (and remembers why) when the response outgrows the limit.
  bool Account(std::size_t n) {
    received += n;
    too_large = too_large || received > max_bytes;
    return !too_large;
  }
};

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  if (!transfer->Account(n)) {
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  transfer->response.body.append(data, n);
  return n;
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  if (!transfer->Account(n)) {
    return 0;
  }
  const std::string_view line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new status line (after 100 Continue or a followed redirect): keep the final headers only.
    transfer->response.headers.clear();
    return n;
  }
  if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
    // obs-fold continuation (RFC 7230 §3.2.4): belongs to the previous header's value.
    if (!transfer->response.headers.empty()) {
      transfer->response.headers.back().value += " " + std::string(Trim(line));
    }
    return n;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    return n;  // the blank line that ends the header block
  }
  std::string name = core::AsciiLower(Trim(line.substr(0, colon)));
  transfer->response.headers.push_back(
      {std::move(name), std::string(Trim(line.substr(colon + 1)))});
  return n;
}

struct UrlParts {
  std::string scheme;
  std::string host;
};

std::optional<UrlParts> ParseUrl(const std::string& url) {
  const std::unique_ptr<CURLU, CurlUrlDeleter> handle(curl_url());
  if (!handle || curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return std::nullopt;
  }
  char* scheme = nullptr;
  char* host = nullptr;
  if (curl_url_get(handle.get(), CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
    return std::nullopt;
  }
  const CurlString scheme_owner(scheme);
  if (curl_url_get(handle.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK) {
    return std::nullopt;
  }
  const CurlString host_owner(host);
  return UrlParts{scheme, host};
}

// Applies every option for one request; returns the first setopt failure.
CURLcode Configure(CURL* handle, const core::HttpRequest& request,
                   const CurlHttpClient::Options& options, const std::string& ca_bundle,
                   Transfer& transfer) {
  CURLcode rc = CURLE_OK;
  const auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) {
      rc = curl_easy_setopt(handle, option, value);
    }
  };
  const auto timeout = std::max(request.timeout, std::chrono::milliseconds(1));
  const auto connect_timeout = std::min(timeout, kMaxConnectTimeout);
  // NOLINTBEGIN(google-runtime-int): libcurl takes long
  set(CURLOPT_ERRORBUFFER, transfer.error_buffer.data());
  set(CURLOPT_URL, request.url.c_str());
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  set(CURLOPT_FOLLOWLOCATION, options.follow_redirects ? 1L : 0L);
  set(CURLOPT_MAXREDIRS, 5L);
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  set(CURLOPT_NOSIGNAL, 1L);  // required for timeouts in a multi-threaded process
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));
  set(CURLOPT_USERAGENT, options.user_agent.c_str());
  set(CURLOPT_HTTPHEADER, transfer.headers.get());
  set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_response_bytes));
  set(CURLOPT_WRITEFUNCTION, OnBody);
  set(CURLOPT_WRITEDATA, &transfer);
  set(CURLOPT_HEADERFUNCTION, OnHeader);
  set(CURLOPT_HEADERDATA, &transfer);
  if (!ca_bundle.empty()) {
    // curl_blob wants void*, but with CURL_BLOB_NOCOPY curl only reads the bytes.
    curl_blob blob{const_cast<char*>(ca_bundle.data()),  // NOLINT(*-const-cast): read only
                   ca_bundle.size(), CURL_BLOB_NOCOPY};
    set(CURLOPT_CAINFO_BLOB, &blob);  // curl copies the struct; the bytes live in ca_bundle
  }
  if (request.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else if (request.method == "GET" && request.body.empty()) {
    set(CURLOPT_HTTPGET, 1L);
  } else {
    if (request.method != "POST") {
      set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    if (request.method == "POST" || !request.body.empty()) {
      set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      set(CURLOPT_POSTFIELDS, request.body.data());
    }
  }
  // NOLINTEND(google-runtime-int)
  return rc;
}

core::Error TransportError(CURLcode code, const std::string& host, const char* detail) {
  const std::string what = code == CURLE_OPERATION_TIMEDOUT
                               ? "request to " + host + " timed out"
                               : "cannot reach " + host + ": " + curl_easy_strerror(code);
  return MakeError(ErrorCode::kUnavailable, what, detail);
}

}  // namespace

CurlHttpClient::CurlHttpClient() : CurlHttpClient(Options{}) {}

CurlHttpClient::CurlHttpClient(Options options) : options_(std::move(options)) {
  EnsureCurlInitialized();
  if (!options_.ca_file.empty()) {
    // CURLOPT_CAINFO would replace the system bundle; we want both, so we hand curl their
    // concatenation. A missing system bundle leaves only the configured file trusted.
    auto extra = ReadFile(options_.ca_file);
    if (!extra) {
      throw StartupError("cannot read CA bundle " + options_.ca_file);
    }
    ca_bundle_ = ReadFile(SystemBundlePath()).value_or("");
    ca_bundle_ += "\n" + *extra;
  }
}

CurlHttpClient::~CurlHttpClient() {
  for (void* handle : idle_handles_) {
    curl_easy_cleanup(handle);
  }
}

void* CurlHttpClient::AcquireHandle() {
  {
    const std::lock_guard lock(mutex_);
    if (!idle_handles_.empty()) {
      void* handle = idle_handles_.back();
      idle_handles_.pop_back();
      return handle;
    }
  }
  return curl_easy_init();
}

void CurlHttpClient::ReleaseHandle(void* handle) {
  // Reset drops every option (and thus every pointer into the finished request) but keeps the
  // connection cache, which is the point of pooling.
  curl_easy_reset(handle);
  {
    const std::lock_guard lock(mutex_);
    if (idle_handles_.size() < kMaxIdleHandles) {
      idle_handles_.push_back(handle);
      return;
    }
  }
  curl_easy_cleanup(handle);
}

core::Result<core::HttpResponse> CurlHttpClient::Send(const core::HttpRequest& request) {
  const auto url = ParseUrl(request.url);
  if (!url || (url->scheme != "http" && url->scheme != "https")) {
    return MakeError(ErrorCode::kInvalidArgument, "outbound URL must be an http(s) URL");
  }
  if (!IsToken(request.method)) {
    return MakeError(ErrorCode::kInvalidArgument, "invalid HTTP method for " + url->host);
  }
  Transfer transfer;
  transfer.max_bytes = options_.max_response_bytes;
  KEYBRIDGE_ASSIGN_OR_RETURN(transfer.headers, BuildHeaderList(request.headers, url->host));
  if (request.method == "POST" && request.body.empty()
      && std::none_of(request.headers.begin(), request.headers.end(), [](const auto& header) {
           return core::AsciiLower(header.name) == "content-type";
         })) {
    // curl labels every POST application/x-www-form-urlencoded; an empty one carries no form,
    // and Dropbox refuses the label on its endpoints without arguments (auth/token/revoke).
    // "Name:" without a value removes a header curl would add.
    if (curl_slist_append(transfer.headers.get(), "Content-Type:") == nullptr) {
      return MakeError(ErrorCode::kInternal, "out of memory building request headers");
    }
  }

  CURL* handle = AcquireHandle();
  if (handle == nullptr) {
    return MakeError(ErrorCode::kInternal, "curl_easy_init failed");
  }
  CURLcode rc = Configure(handle, request, options_, ca_bundle_, transfer);
  long status = 0;  // NOLINT(google-runtime-int): libcurl's type
  if (rc == CURLE_OK) {
    rc = curl_easy_perform(handle);
    if (rc == CURLE_OK) {
      curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    }
  } else {
    transfer.configure_failed = true;
  }
  ReleaseHandle(handle);

  if (transfer.configure_failed) {
    return MakeError(ErrorCode::kInternal, "cannot configure request to " + url->host,
                     curl_easy_strerror(rc));
  }
  if (transfer.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    return MakeError(ErrorCode::kUpstreamFailed, "response from " + url->host + " exceeds "
                                                     + std::to_string(options_.max_response_bytes)
                                                     + " bytes");
  }
  if (rc != CURLE_OK) {
    return TransportError(rc, url->host, transfer.error_buffer.data());
  }
  transfer.response.status = static_cast<int>(status);
  return std::move(transfer.response);
}

}  // namespace keybridge::net
