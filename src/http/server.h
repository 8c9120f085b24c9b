// Server: the inbound HTTP/1.1 server (Boost.Beast + Asio C++20 coroutines). worker_threads
// threads run one io_context; each connection is a coroutine on its own strand that reads a
// request, runs the handler inline (it may block on the database or a provider, holding that
// thread) and writes the answer, so a request never changes threads. Logs one line per request.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "http/message.h"

namespace keybridge::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;                                 // 0 picks a free port; see Server::port()
  std::size_t max_body_bytes = std::size_t{1024} * 1024;  // larger bodies get 413
  std::size_t max_header_bytes = std::size_t{16} * 1024;  // larger header blocks get 431
  std::size_t worker_threads = 8;  // threads serving connections and running handlers
  std::chrono::seconds idle_timeout{30};
  bool log_requests = true;
};

class Server {
 public:
  // Binds immediately; throws keybridge::StartupError (core/startup_error.h) if it cannot.
  Server(ServerOptions options, Handler handler);
  ~Server();  // stops and joins all threads
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  Server(Server&&) = delete;
  Server& operator=(Server&&) = delete;

  // Starts serving on background threads and returns.
  void Start();
  // Stops accepting, closes connections, waits for running handlers, joins threads. Idempotent.
  // Must not be called from inside a handler (it joins the worker pool).
  void Stop();
  std::uint16_t port() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keybridge::http
