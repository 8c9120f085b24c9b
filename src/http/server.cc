// The only http file that compiles Boost.Beast/Asio code against keybridge types (the separately
// compiled library parts are in the asio module, src/asio/).
#include "http/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>
#include <exception>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/bounded_executor.h"
#include "core/startup_error.h"
#include "core/text.h"
#include "http/error_response.h"
#include "http/offload_chain.h"
#include "http/response_rules.h"
#include "http/server_messages.h"
#include "metrics/serving_metrics.h"

namespace keybridge::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ip = asio::ip;
using Clock = std::chrono::steady_clock;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// After an error response we read (and discard) what the client is still sending before closing,
// so the kernel does not answer unread data with a RST that would destroy our response.
constexpr std::size_t kMaxDrainBytes = std::size_t{16} * 1024 * 1024;
constexpr std::chrono::seconds kMaxDrainTime{5};
constexpr std::size_t kMaxLoggedPathLength = 256;
// How much a kept-alive connection reads at once while waiting for its next request.
constexpr std::size_t kFirstReadBytes = 4096;

std::shared_ptr<spdlog::logger> HttpLogger() {
  static std::mutex mutex;
  const std::lock_guard lock(mutex);
  if (auto logger = spdlog::get("http")) {
    return logger;
  }
  // Share the default logger's sinks so that whatever app/ configured applies here too.
  const auto& sinks = spdlog::default_logger()->sinks();
  auto logger = std::make_shared<spdlog::logger>("http", sinks.begin(), sinks.end());
  logger->set_level(spdlog::default_logger()->level());
  spdlog::register_logger(logger);
  return logger;
}

using RequestParser = bhttp::request_parser<bhttp::string_body>;

// Keeps a connection in the server's registry (so Stop can close it) for the scope's lifetime.
class ConnectionRegistration {
 public:
  ConnectionRegistration(std::mutex& mutex, std::set<beast::tcp_stream*>& registry,
                         beast::tcp_stream& stream)
      : mutex_(mutex), registry_(registry), stream_(&stream) {
    const std::lock_guard lock(mutex_);
    registry_.insert(stream_);
  }
  ~ConnectionRegistration() {
    const std::lock_guard lock(mutex_);
    registry_.erase(stream_);
  }
  ConnectionRegistration(const ConnectionRegistration&) = delete;
  ConnectionRegistration& operator=(const ConnectionRegistration&) = delete;
  ConnectionRegistration(ConnectionRegistration&&) = delete;
  ConnectionRegistration& operator=(ConnectionRegistration&&) = delete;

 private:
  std::mutex& mutex_;
  std::set<beast::tcp_stream*>& registry_;
  beast::tcp_stream* stream_;
};

// Counts a connection as open for the scope's lifetime.
class OpenConnection {
 public:
  explicit OpenConnection(std::atomic<std::size_t>& count) : count_(count) {}
  ~OpenConnection() { count_.fetch_sub(1, std::memory_order_relaxed); }
  OpenConnection(const OpenConnection&) = delete;
  OpenConnection& operator=(const OpenConnection&) = delete;
  OpenConnection(OpenConnection&&) = delete;
  OpenConnection& operator=(OpenConnection&&) = delete;

 private:
  std::atomic<std::size_t>& count_;
};

// Starts an offload chain and completes `handler` (a coroutine's) with its final Response, posted
// to the handler's executor (the connection's strand), never inline.
template <typename CompletionHandler>
void StartOffload(CompletionHandler handler, Offload offload,
                  std::shared_ptr<spdlog::logger> logger) {
  // The work guard keeps io_context::run() going while the coroutine waits for a worker.
  struct Pending {
    CompletionHandler handler;
    asio::executor_work_guard<asio::associated_executor_t<CompletionHandler>> guard;
  };
  auto guard = asio::make_work_guard(handler);
  auto pending = std::make_shared<Pending>(Pending{std::move(handler), std::move(guard)});
  auto chain = std::make_shared<OffloadChain>();
  chain->logger = std::move(logger);
  chain->complete = [pending](Response response) {
    auto executor = pending->guard.get_executor();
    asio::post(executor, asio::append(std::move(pending->handler), std::move(response)));
    pending->guard.reset();
  };
  Continue(chain, [offload = std::move(offload)]() -> Reply { return offload; });
}

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions options, std::function<Reply(Request&)> handler);
  void Start();
  void Stop();
  std::uint16_t Port() const { return port_; }

 private:
  asio::awaitable<void> Listen();
  asio::awaitable<void> Serve(ip::tcp::socket socket);
  // Answers a connection past max_connections with 503 and closes it.
  asio::awaitable<void> Refuse(ip::tcp::socket socket);
  // Reads, handles and answers one request; returns whether the connection stays open.
  asio::awaitable<bool> ServeOne(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                 const std::string& remote, bool first);
  asio::awaitable<beast::error_code> ReadRequest(beast::tcp_stream& stream,
                                                 beast::flat_buffer& buffer, RequestParser& parser,
                                                 bool first) const;
  asio::awaitable<Response> RunOffloaded(Offload offload) const;
  asio::awaitable<void> WriteResponse(beast::tcp_stream& stream, Response response,
                                      bool head_request, bool keep_alive) const;
  asio::awaitable<void> DrainAndClose(beast::tcp_stream& stream) const;
  Reply InvokeHandler(Request& request) const;
  void CloseAll();
  // Logs the request line and records its metrics; `route` is the matched pattern or "".
  void LogRequest(std::string_view method, std::string_view path, std::string_view route,
                  int status, Clock::time_point start, const std::string& remote) const;
  std::chrono::seconds HeaderTimeout() const {
    return std::min(options_.header_timeout, options_.idle_timeout);
  }

  ServerOptions options_;
  std::function<Reply(Request&)> handler_;
  std::shared_ptr<spdlog::logger> logger_;
  std::mutex stop_mutex_;
  bool started_ = false;
  bool stopped_ = false;
  // Declared before io_ so that coroutine frames destroyed with io_ can still unregister.
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> open_connections_{0};  // Serve coroutines alive (Refuse not counted)
  std::mutex connections_mutex_;
  std::set<beast::tcp_stream*> connections_;
  asio::io_context io_;
  // The accept loop and every connection run on their own strand of io_ (a tcp_stream's timer
  // and its operations must not run concurrently).
  asio::strand<asio::io_context::executor_type> listen_strand_{asio::make_strand(io_)};
  ip::tcp::acceptor acceptor_{listen_strand_};
  std::uint16_t port_ = 0;
  std::vector<std::thread> io_threads_;
};

Server::Impl::Impl(ServerOptions options, std::function<Reply(Request&)> handler)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      logger_(HttpLogger()),
      io_(static_cast<int>(std::max<std::size_t>(options_.worker_threads, 1))) {
  const std::string where = options_.host + ":" + std::to_string(options_.port);
  beast::error_code ec;
  ip::tcp::resolver resolver(io_);
  const auto endpoints =
      resolver.resolve(options_.host, std::to_string(options_.port),
                       ip::tcp::resolver::passive | ip::tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    throw StartupError("cannot resolve listen address " + where + ": " + ec.message());
  }
  const ip::tcp::endpoint endpoint = endpoints.begin()->endpoint();
  if (acceptor_.open(endpoint.protocol(), ec); !ec) {
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor_.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    throw StartupError("cannot listen on " + where + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
}

void Server::Impl::Start() {
  const std::lock_guard lock(stop_mutex_);
  if (started_ || stopped_) {
    return;
  }
  started_ = true;
  asio::co_spawn(listen_strand_, Listen(), [logger = logger_](const std::exception_ptr& error) {
    if (error) {
      logger->error("http accept loop ended with an exception");
    }
  });
  for (std::size_t i = 0; i < std::max<std::size_t>(options_.worker_threads, 1); ++i) {
    io_threads_.emplace_back([this] { io_.run(); });
  }
}

void Server::Impl::Stop() {
  const std::lock_guard lock(stop_mutex_);
  if (stopped_) {
    return;
  }
  stopped_ = true;
  if (started_) {
    // Close the acceptor and every connection, each on its own strand; handlers already running
    // finish, their connections then end, and with no work left run() returns on every thread.
    std::promise<void> closed;
    asio::post(listen_strand_, [this, &closed] {
      CloseAll();
      closed.set_value();
    });
    closed.get_future().wait();
    for (std::thread& thread : io_threads_) {
      thread.join();
    }
  } else {
    beast::error_code ignored;
    acceptor_.close(ignored);
  }
}

void Server::Impl::CloseAll() {
  stopping_ = true;
  beast::error_code ignored;
  acceptor_.close(ignored);
  const std::lock_guard lock(connections_mutex_);
  for (beast::tcp_stream* stream : connections_) {
    // On the connection's strand; it may have ended (and unregistered) by then.
    asio::post(stream->get_executor(), [this, stream] {
      const std::lock_guard still(connections_mutex_);
      if (connections_.contains(stream)) {
        beast::error_code closing;
        stream->socket().close(closing);
      }
    });
  }
}

asio::awaitable<void> Server::Impl::Listen() {
  while (true) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(io_), kUseTuple);
    if (stopping_ || ec == asio::error::operation_aborted) {
      co_return;
    }
    if (ec) {
      // Typically EMFILE: back off briefly instead of spinning on the failing accept.
      logger_->warn("accept failed: {}", ec.message());
      asio::steady_timer timer(listen_strand_, std::chrono::milliseconds(100));
      co_await timer.async_wait(kUseTuple);
      continue;
    }
    const auto executor = socket.get_executor();
    auto on_end = [logger = logger_](const std::exception_ptr& e) {
      if (e) {
        logger->error("http connection ended with an exception");
      }
    };
    // Only this loop increments, so the check and the increment cannot race with each other.
    if (open_connections_.load(std::memory_order_relaxed) >= options_.max_connections) {
      asio::co_spawn(executor, Refuse(std::move(socket)), on_end);
      continue;
    }
    open_connections_.fetch_add(1, std::memory_order_relaxed);
    asio::co_spawn(executor, Serve(std::move(socket)), on_end);
  }
}

asio::awaitable<void> Server::Impl::Refuse(ip::tcp::socket socket) {
  if (stopping_) {
    co_return;
  }
  beast::tcp_stream stream(std::move(socket));
  const ConnectionRegistration registration(connections_mutex_, connections_, stream);
  const Clock::time_point start = Clock::now();
  beast::error_code ec;
  const ip::tcp::endpoint peer = stream.socket().remote_endpoint(ec);
  const std::string remote = ec ? std::string("unknown") : peer.address().to_string();
  Response response = ErrorResponse(core::MakeError(core::ErrorCode::kUnavailable,
                                                    "Too many open connections; retry later"))
                          .WithHeader("Retry-After", "1");
  co_await WriteResponse(stream, std::move(response), false, false);
  LogRequest("-", "-", "", 503, start, remote);
  // Discard what already arrived (a request sent right after connecting), so that closing does
  // not answer unread data with a RST that could destroy the 503 before the client reads it.
  std::array<char, 16384> scratch{};
  for (std::size_t available = stream.socket().available(ec); !ec && available > 0;
       available = stream.socket().available(ec)) {
    stream.socket().read_some(asio::buffer(scratch), ec);
  }
  stream.socket().shutdown(ip::tcp::socket::shutdown_send, ec);
  stream.socket().close(ec);
}

asio::awaitable<void> Server::Impl::Serve(ip::tcp::socket socket) {
  const OpenConnection counted(open_connections_);
  if (stopping_) {
    co_return;
  }
  beast::tcp_stream stream(std::move(socket));
  const ConnectionRegistration registration(connections_mutex_, connections_, stream);
  beast::error_code ec;
  const ip::tcp::endpoint peer = stream.socket().remote_endpoint(ec);
  const std::string remote = ec ? std::string("unknown") : peer.address().to_string();
  beast::flat_buffer buffer;
  bool first = true;
  while (!stopping_ && co_await ServeOne(stream, buffer, remote, first)) {
    first = false;
  }
  stream.socket().close(ec);
}

asio::awaitable<bool> Server::Impl::ServeOne(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                             const std::string& remote, bool first) {
  RequestParser parser;
  const beast::error_code read_ec = co_await ReadRequest(stream, buffer, parser, first);
  const Clock::time_point start = Clock::now();
  if (stopping_) {
    co_return false;
  }
  if (read_ec) {
    if (auto response = ResponseForReadError(read_ec)) {
      const int status = response->status;
      co_await WriteResponse(stream, std::move(*response), false, false);
      // After a body-limit error the request line is known; after the others it may not be.
      std::string_view method = "-";
      std::string_view path = "-";
      if (read_ec == bhttp::error::body_limit) {
        method = parser.get().method_string();
        path = parser.get().target();
        path = path.substr(0, path.find('?'));
      }
      LogRequest(method, path, "", status, start, remote);
      co_await DrainAndClose(stream);
    }
    co_return false;
  }

  const bool keep_alive = parser.get().keep_alive();
  const bool head_request = parser.get().method() == bhttp::verb::head;
  Request request = ToRequest(parser.get(), remote);
  Response response;
  if (request.path.empty() || request.path.front() != '/') {
    // Absolute-form and asterisk-form targets are for proxies and OPTIONS *; we serve neither.
    response = ErrorResponse(400, "Request target must be an absolute path");
  } else {
    // Inline, on this connection's I/O thread: no hand-off to another thread and back (two
    // futex wake-ups and context switches per request, the main cost of a token read; see
    // docs/benchmarks.md). A handler that would block (database, provider) returns an Offload
    // instead; until every one does, a blocking handler holds one of the worker_threads threads.
    Reply reply = InvokeHandler(request);
    if (auto* offload = std::get_if<Offload>(&reply)) {
      response = co_await RunOffloaded(std::move(*offload));
    } else {
      response = std::get<Response>(std::move(reply));
    }
  }
  const int status = response.status;
  const bool must_close = !keep_alive || stopping_;
  co_await WriteResponse(stream, std::move(response), head_request, !must_close);
  LogRequest(request.method, request.path, request.route_pattern, status, start, remote);
  if (must_close) {
    beast::error_code ignored;
    stream.socket().shutdown(ip::tcp::socket::shutdown_send, ignored);
  }
  co_return !must_close;
}

asio::awaitable<beast::error_code> Server::Impl::ReadRequest(beast::tcp_stream& stream,
                                                             beast::flat_buffer& buffer,
                                                             RequestParser& parser,
                                                             bool first) const {
  parser.header_limit(
      static_cast<std::uint32_t>(std::min<std::size_t>(options_.max_header_bytes, UINT32_MAX)));
  parser.body_limit(static_cast<std::uint64_t>(options_.max_body_bytes));
  if (!first && buffer.size() == 0) {
    // A kept-alive connection waits up to idle_timeout for its next request; the header clock
    // starts with the first byte. tcp_stream's own timeout closes the socket: a silent close.
    stream.expires_after(options_.idle_timeout);
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(kFirstReadBytes), kUseTuple);
    if (ec) {
      co_return ec;
    }
    buffer.commit(n);
  }
  // One deadline for the whole header, however slowly it trickles in. A timer that cancels the
  // read (instead of tcp_stream's timeout, which closes the socket) so that 408 can still be sent.
  // The timer's handler runs on this connection's strand, as does this coroutine; `live` tells
  // it whether the read (and the socket) are still there.
  stream.expires_never();
  auto live = std::make_shared<bool>(true);
  auto fired = std::make_shared<bool>(false);
  asio::steady_timer deadline(stream.get_executor(), HeaderTimeout());
  deadline.async_wait([live, fired, &socket = stream.socket()](const beast::error_code& ec) {
    if (!ec && *live) {
      *fired = true;
      beast::error_code ignored;
      socket.cancel(ignored);  // NOLINT(bugprone-unused-return-value): ignored is the result
    }
  });
  auto [ec, header_bytes] = co_await bhttp::async_read_header(stream, buffer, parser, kUseTuple);
  *live = false;
  deadline.cancel();
  if (ec && *fired) {
    // Nothing at all on a new connection (a pre-opened browser connection) is closed silently.
    const bool partial = parser.got_some() || buffer.size() > 0 || !first;
    co_return partial ? beast::error_code(asio::error::timed_out)
                      : beast::error_code(beast::error::timeout);
  }
  if (ec || parser.is_done()) {
    co_return ec;
  }
  // The body (at most max_body_bytes, announced or chunked) has idle_timeout to arrive.
  stream.expires_after(options_.idle_timeout);
  if (core::EqualsIgnoreAsciiCase(parser.get()[bhttp::field::expect], "100-continue")) {
    // The body limit was already checked against Content-Length, so the client may proceed.
    bhttp::response<bhttp::empty_body> proceed{bhttp::status::continue_, 11};
    std::tie(ec, std::ignore) = co_await bhttp::async_write(stream, proceed, kUseTuple);
    if (ec) {
      co_return ec;
    }
  }
  std::tie(ec, std::ignore) = co_await bhttp::async_read(stream, buffer, parser, kUseTuple);
  co_return ec;
}

Reply Server::Impl::InvokeHandler(Request& request) const {
  const std::string_view full_path = request.path;
  const std::string_view path = full_path.substr(0, kMaxLoggedPathLength);
  // Last-resort catch: a throwing handler is a bug; the client gets a 500 and the log the reason.
  try {
    return handler_(request);
  } catch (const std::exception& e) {
    logger_->error("handler threw for {} {}: {}", request.method, path, e.what());
  } catch (...) {
    logger_->error("handler threw a non-exception for {} {}", request.method, path);
  }
  return ErrorResponse(core::MakeError(core::ErrorCode::kInternal, ""));
}

asio::awaitable<Response> Server::Impl::RunOffloaded(Offload offload) const {
  // Named locals, and a lambda capturing only pointers: GCC 12 has destroyed non-trivial
  // temporaries inside a co_await expression twice.
  auto initiation = [this](auto handler, Offload work) {
    StartOffload(std::move(handler), std::move(work), logger_);
  };
  auto answer = asio::async_initiate<decltype(asio::use_awaitable), void(Response)>(
      initiation, asio::use_awaitable, std::move(offload));
  Response response = co_await std::move(answer);
  co_return response;
}

asio::awaitable<void> Server::Impl::WriteResponse(beast::tcp_stream& stream, Response response,
                                                  bool head_request, bool keep_alive) const {
  if (!IsValidResponse(response)) {
    logger_->error("handler produced an invalid response (status {}); answering 500",
                   response.status);
    response = ErrorResponse(core::MakeError(core::ErrorCode::kInternal, ""));
  }
  ApplyDefaultHeaders(response);

  bhttp::response<bhttp::string_body> out;
  out.version(11);
  out.result(static_cast<unsigned>(response.status));
  for (const auto& header : response.headers) {
    if (!IsFramingHeader(header.name)) {
      out.insert(header.name, header.value);
    }
  }
  // RFC 9110 §8.6: no Content-Length on 204; a HEAD answer announces the GET length, sends no body.
  if (StatusForbidsBody(response.status)) {
    response.body.clear();
  } else {
    out.content_length(response.body.size());
  }
  if (!head_request) {
    out.body() = std::move(response.body);
  }
  out.keep_alive(keep_alive);
  stream.expires_after(options_.idle_timeout);
  co_await bhttp::async_write(stream, out, kUseTuple);
}

asio::awaitable<void> Server::Impl::DrainAndClose(beast::tcp_stream& stream) const {
  beast::error_code ec;
  stream.socket().shutdown(ip::tcp::socket::shutdown_send, ec);
  stream.expires_after(std::min<std::chrono::seconds>(options_.idle_timeout, kMaxDrainTime));
  std::array<char, 16384> scratch{};
  std::size_t drained = 0;
  while (!ec && drained < kMaxDrainBytes && !stopping_) {
    std::size_t n = 0;
    std::tie(ec, n) = co_await stream.async_read_some(asio::buffer(scratch), kUseTuple);
    drained += n;
  }
  stream.socket().close(ec);
}

void Server::Impl::LogRequest(std::string_view method, std::string_view path,
                              std::string_view route, int status, Clock::time_point start,
                              const std::string& remote) const {
  const std::chrono::duration<double, std::milli> elapsed = Clock::now() - start;
  if (options_.metrics != nullptr) {
    options_.metrics->RecordRequest(route, method, status, elapsed);
  }
  if (!options_.log_requests) {
    return;
  }
  // Never the query string (it can carry OAuth codes), headers or bodies.
  logger_->info("request method={} path={} status={} duration_ms={:.1f} remote={}", method,
                path.substr(0, kMaxLoggedPathLength), status, elapsed.count(), remote);
}

Server::Server(ServerOptions options, Handler handler)
    : Server(std::move(options),
             OffloadingHandler{[handler = std::move(handler)](Request& request) -> Reply {
               return handler(request);
             }}) {}

Server::Server(ServerOptions options, OffloadingHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler.handle))) {}

// Stop only throws if a thread cannot be joined; terminating then is the right outcome.
Server::~Server() {  // NOLINT(bugprone-exception-escape): see above
  Stop();
}

void Server::Start() {
  impl_->Start();
}

void Server::Stop() {
  impl_->Stop();
}

std::uint16_t Server::port() const {
  return impl_->Port();
}

}  // namespace keybridge::http
