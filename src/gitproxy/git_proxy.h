// GitProxy: the streaming reverse proxy behind `keybridge git-proxy`. A session points git at it
// with  git config url."http://127.0.0.1:65480/<integration id>/".insteadOf "<integration URL>/"
// and the proxy forwards git's smart-HTTP requests to the integration with the user's token in
// `Authorization` (no TLS interception, no sslVerify=false: the upstream connection is ordinary
// verified HTTPS). Bodies stream both ways through fixed buffers, so memory stays flat for a pack
// of any size; chunked uploads, Expect: 100-continue and answers that arrive before the upload
// ends are handled. Beast lives only in git_proxy.cc, upstream_connection.cc and relay.cc (and
// their private proxy_impl.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "gitproxy/credentials.h"

namespace keybridge::gitproxy {

struct GitProxyOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 65480;  // 0 picks a free port; see GitProxy::port()
  std::string ca_file;         // extra CA bundle for upstream TLS ("" = system store only)
  std::chrono::seconds connect_timeout{15};
  // Longest silence on either connection while a request is in flight. A provider checking a big
  // push can take minutes before it answers, so this is generous.
  std::chrono::seconds io_timeout{600};
  std::chrono::seconds idle_timeout{120};  // between requests on a kept-alive client connection
  std::size_t credential_threads = 4;      // blocking calls to keybridge run here
  bool log_requests = true;
};

class GitProxy {
 public:
  // Binds immediately; throws keybridge::StartupError if it cannot. `credentials` must outlive it.
  GitProxy(GitProxyOptions options, CredentialCache& credentials);
  ~GitProxy();
  GitProxy(const GitProxy&) = delete;
  GitProxy& operator=(const GitProxy&) = delete;
  GitProxy(GitProxy&&) = delete;
  GitProxy& operator=(GitProxy&&) = delete;

  void Start();  // serves on a background thread
  void Stop();   // idempotent; closes connections and joins
  std::uint16_t port() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keybridge::gitproxy
