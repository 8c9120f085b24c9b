// Server: the inbound HTTP/1.1 server (Boost.Beast + Asio C++20 coroutines). worker_threads
// threads run one io_context; each connection is a coroutine on its own strand that reads a
// request, runs the handler inline and writes the answer. A handler that would wait on the outside
// world returns an http::Offload (http/offload.h) instead: the work runs on a bounded compartment
// and the connection resumes on its strand with the answer, so the I/O threads never wait. Limits
// (open connections, header time, body and header sizes) bound what one client can hold. Logs one
// line per request and, when given ServingMetrics, counts requests and their latency by route.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "http/message.h"
#include "http/offload.h"

namespace keybridge::metrics {
class ServingMetrics;
}  // namespace keybridge::metrics

namespace keybridge::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0 picks a free port; see Server::port()
  // Larger bodies get 413, checked against Content-Length before the body is read. 64 KiB is far
  // above the largest real body (a provider definition, a few KiB).
  std::size_t max_body_bytes = std::size_t{64} * 1024;
  std::size_t max_header_bytes = std::size_t{16} * 1024;  // larger header blocks get 431
  std::size_t worker_threads = 8;  // threads serving connections and running inline handlers
  // Connections open at once; past it a new connection gets 503 + Retry-After and is closed. Below
  // the usual 1024 open-files soft limit, leaving descriptors for the database and providers.
  std::size_t max_connections = 512;
  // A request's header must arrive within this time from its first byte (for a new connection,
  // from the accept), however it is trickled; else 408 and close. Capped by idle_timeout.
  std::chrono::seconds header_timeout{10};
  // A kept-alive connection may wait this long for its next request; then it is closed silently.
  // Also bounds reading a body and writing an answer.
  std::chrono::seconds idle_timeout{30};
  bool log_requests = true;
  // Not owned; must outlive the server. nullptr records nothing.
  metrics::ServingMetrics* metrics = nullptr;
};

class Server {
 public:
  // Binds immediately; throws keybridge::StartupError (core/startup_error.h) if it cannot.
  Server(ServerOptions options, Handler handler);
  // The same for a handler that may answer with an Offload.
  Server(ServerOptions options, OffloadingHandler handler);
  // Stops and joins all threads. A failure to join is unrecoverable (std::terminate), as for any
  // joined std::thread.
  ~Server();  // NOLINT(bugprone-exception-escape): see above
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  Server(Server&&) = delete;
  Server& operator=(Server&&) = delete;

  // Starts serving on background threads and returns.
  void Start();
  // Stops accepting, closes connections, waits for running handlers (and offloaded work, whose
  // compartments must therefore keep running or be shut down), joins threads. Idempotent.
  // Must not be called from inside a handler (it joins the worker pool).
  void Stop();
  std::uint16_t port() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keybridge::http
