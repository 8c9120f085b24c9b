// HttpClient port: every outbound request (identity issuer, OAuth providers) goes through it.
// The production implementation is net::CurlHttpClient; tests use fakes on loopback.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace keybridge::core {

struct HttpHeader {
  std::string name;
  std::string value;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<HttpHeader> headers;
  std::string body;
  std::chrono::milliseconds timeout{10000};
};

struct HttpResponse {
  int status = 0;
  std::vector<HttpHeader> headers;  // names lower-cased
  std::string body;

  // First header with this (lower-case) name, or "" if absent.
  std::string Header(std::string_view lower_name) const {
    for (const auto& h : headers) {
      if (h.name == lower_name) {
        return h.value;
      }
    }
    return {};
  }
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Sends the request. A response with any status is a success; only transport failures
  // (DNS, connect, TLS, timeout) are errors, reported as ErrorCode::kUnavailable.
  // Implementations must never log request bodies or Authorization headers.
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

}  // namespace keybridge::core
