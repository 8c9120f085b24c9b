// CurlHttpClient: the production core::HttpClient (libcurl). app/ builds one and hands it to the
// identity verifier and the OAuth flows; nothing else in keybridge includes curl.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "core/http_client.h"

namespace keybridge::net {

class CurlHttpClient final : public core::HttpClient {
 public:
  struct Options {
    // Extra trusted CA bundle (PEM). "" trusts the system bundle only; otherwise both the system
    // bundle and this file are trusted.
    std::string ca_file;
    std::string user_agent = "keybridge/0.1";
    std::size_t max_response_bytes =
        std::size_t{10} * 1024 * 1024;  // headers + body; more is kUpstreamFailed
    bool follow_redirects = false;
  };

  CurlHttpClient();
  // Throws keybridge::StartupError if `ca_file` is set but cannot be read.
  explicit CurlHttpClient(Options options);
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;
  CurlHttpClient(CurlHttpClient&&) = delete;
  CurlHttpClient& operator=(CurlHttpClient&&) = delete;

  // Thread-safe. TLS peer and host verification are always on; only http and https URLs (and
  // redirects) are allowed. The connect timeout is min(request.timeout, 5 s).
  // Errors: kUnavailable for transport failures (DNS, connect, TLS, timeout), kUpstreamFailed for
  // a response larger than max_response_bytes, kInvalidArgument for a URL that is not http(s) or a
  // header containing CR/LF. Messages name the host, never the path, query, headers or body.
  core::Result<core::HttpResponse> Send(const core::HttpRequest& request) override;

 private:
  void* AcquireHandle();
  void ReleaseHandle(void* handle);

  Options options_;
  // System bundle + ca_file when ca_file is set (handed to curl as CURLOPT_CAINFO_BLOB).
  std::string ca_bundle_;
  // Idle easy handles, reused so that connections and TLS sessions to providers are kept alive.
  std::mutex mutex_;
  std::vector<void*> idle_handles_;
};

}  // namespace keybridge::net
