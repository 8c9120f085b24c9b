// The HTTP client options of the client helpers (`git-credential`, `docker-credential`,
// `rclone-config`), which take no flags of their own for it: KEYBRIDGE_CA_FILE, when set, names an
// extra CA bundle for the keybridge server's certificate.
#pragma once

#include <cstdlib>

#include "net/curl_http_client.h"

namespace keybridge::app {

inline net::CurlHttpClient::Options ClientHelperHttpOptions() {
  net::CurlHttpClient::Options options;
  // Read before any thread starts, and nothing here sets the environment.
  // NOLINTNEXTLINE(concurrency-mt-unsafe): see above
  if (const char* ca_file = ::getenv("KEYBRIDGE_CA_FILE"); ca_file != nullptr) {
    options.ca_file = ca_file;
  }
  return options;
}

}  // namespace keybridge::app
