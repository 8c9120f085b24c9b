// git-proxy's server side: the listening socket, one coroutine per client connection on a single
// I/O thread, and per request the target and credential decisions; blocking calls to keybridge
// for credentials run on a small thread pool. Connecting to the provider is in
// upstream_connection.cc, streaming in relay.cc (GitProxy::Impl is declared in proxy_impl.h; the
// compiled Asio is keybridge_asio).
#include "gitproxy/git_proxy.h"

#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <utility>

#include "core/startup_error.h"
#include "gitproxy/proxy_impl.h"

namespace keybridge::gitproxy {
namespace {

bhttp::response<bhttp::string_body> TextResponse(int status, std::string_view message,
                                                 bool keep_alive) {
  bhttp::response<bhttp::string_body> response;
  response.version(11);
  response.result(static_cast<unsigned>(status));
  response.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  response.set(bhttp::field::cache_control, "no-store");
  response.body() = "keybridge git-proxy: " + std::string(message) + "\n";
  response.keep_alive(keep_alive);
  response.prepare_payload();
  return response;
}

}  // namespace

GitProxy::Impl::Impl(GitProxyOptions options, CredentialCache& credentials)
    : options_(std::move(options)),
      credentials_(credentials),
      pool_(options_.credential_threads),
      acceptor_(io_),
      tls_(ssl::context::tls_client),
      logger_(Logger()) {
  tls_.set_default_verify_paths();
  tls_.set_verify_mode(ssl::verify_peer);
  tls_.set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1
                   | ssl::context::no_tlsv1_1);
  if (!options_.ca_file.empty()) {
    beast::error_code ec;
    tls_.load_verify_file(options_.ca_file, ec);
    if (ec) {
      throw StartupError("cannot read the CA file " + options_.ca_file + ": " + ec.message());
    }
  }
  const std::string where = options_.host + ":" + std::to_string(options_.port);
  beast::error_code ec;
  const auto address = asio::ip::make_address(options_.host, ec);
  if (ec) {
    throw StartupError("git-proxy: '" + options_.host + "' is not an IP address");
  }
  const tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor_.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    throw StartupError("git-proxy cannot listen on " + where + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
}

// Stop only throws if a thread cannot be joined; terminating then is the right outcome.
GitProxy::Impl::~Impl() {  // NOLINT(bugprone-exception-escape): see above
  Stop();
}

void GitProxy::Impl::Start() {
  if (started_) {
    return;
  }
  started_ = true;
  asio::co_spawn(io_, Listen(), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

void GitProxy::Impl::Stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  // Closing the acceptor and stopping the loop abandons the connections: their coroutine frames
  // (and sockets) are destroyed with io_. Credential calls in flight finish on the pool first.
  asio::post(io_, [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
    io_.stop();
  });
  if (thread_.joinable()) {
    thread_.join();
  }
  pool_.join();
}

std::shared_ptr<spdlog::logger> GitProxy::Impl::Logger() {
  if (auto logger = spdlog::get("git-proxy")) {
    return logger;
  }
  auto logger = spdlog::default_logger()->clone("git-proxy");
  return logger;
}

asio::awaitable<void> GitProxy::Impl::Listen() {
  while (true) {
    auto [ec, socket] = co_await acceptor_.async_accept(kUseTuple);
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
      co_return;
    }
    if (ec) {
      logger_->warn("accept failed: {}", ec.message());
      continue;
    }
    asio::co_spawn(io_, Serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> GitProxy::Impl::Serve(tcp::socket socket) {
  beast::tcp_stream client(std::move(socket));
  beast::flat_buffer buffer;
  while (co_await ServeOne(client, buffer)) {
  }
  beast::error_code ignored;
  client.socket().shutdown(tcp::socket::shutdown_send, ignored);
  client.close();
}

asio::awaitable<void> GitProxy::Impl::Reply(beast::tcp_stream& client, int status,
                                            std::string_view message, bool keep_alive) {
  auto response = TextResponse(status, message, keep_alive);
  client.expires_after(options_.io_timeout);
  co_await bhttp::async_write(client, response, kUseTuple);
}

asio::awaitable<bool> GitProxy::Impl::ServeOne(beast::tcp_stream& client,
                                               beast::flat_buffer& buffer) {
  auto parser = std::make_unique<bhttp::request_parser<bhttp::buffer_body>>();
  parser->body_limit(boost::none);  // packs have no size limit; they are streamed
  parser->header_limit(kMaxHeaderBytes);
  client.expires_after(options_.idle_timeout);
  auto [read_ec, header_bytes] =
      co_await bhttp::async_read_header(client, buffer, *parser, kUseTuple);
  if (read_ec) {
    if (read_ec != bhttp::error::end_of_stream && read_ec != asio::error::eof
        && read_ec != asio::error::operation_aborted && read_ec != beast::error::timeout) {
      co_await Reply(client, 400, "malformed HTTP request", false);
    }
    co_return false;
  }
  const auto started = std::chrono::steady_clock::now();
  auto& request = parser->get();
  const std::string method(request.method_string());
  // Only the body-less part of the request is known before it is read; a request whose body
  // is refused before reading it must close the connection (RFC 9112 §9.6).
  const bool body_pending = !parser->is_done();
  const bool client_keep_alive = request.keep_alive() && !body_pending;

  if (const std::optional<Refusal> refusal = RefuseNonGitClient(
          std::string(request[bhttp::field::host]), std::string(request[bhttp::field::origin]),
          std::string(request["sec-fetch-site"]), options_.host, port_)) {
    co_await Reply(client, refusal->status, refusal->message, false);
    Log(method, nullptr, refusal->status, Exchange{}, started);
    co_return false;
  }
  auto target = ParseProxyTarget(method, request.target());
  if (!target.ok()) {
    const int status = StatusFor(target.error().code);
    co_await Reply(client, status, target.error().message, client_keep_alive);
    Log(method, nullptr, status, Exchange{}, started);
    co_return client_keep_alive;
  }
  auto credential = co_await OnPool([this, &target] { return credentials_.Get(*target); });
  Exchange exchange;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!credential.ok()) {
      exchange.status = StatusFor(credential.error().code);
      co_await Reply(client, exchange.status, credential.error().message, client_keep_alive);
      Log(method, &*target, exchange.status, exchange, started);
      co_return client_keep_alive;
    }
    exchange = co_await Forward(client, buffer, *parser, *target, *credential,
                                /*may_retry=*/attempt == 0 && !body_pending);
    if (!exchange.retry_with_new_token) {
      break;
    }
    // RFC 6750 §3.1 invalid_token: the provider no longer takes the token we hold (revoked,
    // or expired early). keybridge refreshes it (once for every client that reports it).
    const UpstreamCredential rejected = *credential;
    credential = co_await OnPool(
        [this, &target, &rejected] { return credentials_.Replace(*target, rejected); });
  }
  if (exchange.status == 401) {
    credentials_.Forget(*target);
  }
  Log(method, &*target, exchange.status, exchange, started);
  co_return exchange.keep_alive;
}

void GitProxy::Impl::Log(const std::string& method, const ProxyTarget* target, int status,
                         const Exchange& exchange, std::chrono::steady_clock::time_point started) {
  if (!options_.log_requests) {
    return;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  // Never the token, the query or headers: integration, repository, endpoint, outcome, sizes.
  if (target == nullptr) {
    logger_->info("git-proxy {} (refused path) -> {}", method, status);
    return;
  }
  logger_->info("git-proxy {} {}/{}/{} -> {} ({} bytes up, {} bytes down, {} ms)", method,
                target->provider_id, target->repository_path, target->endpoint, status,
                exchange.bytes_up, exchange.bytes_down, ms);
}

GitProxy::GitProxy(GitProxyOptions options, CredentialCache& credentials)
    : impl_(std::make_unique<Impl>(std::move(options), credentials)) {}
GitProxy::~GitProxy() = default;
void GitProxy::Start() {
  impl_->Start();
}
void GitProxy::Stop() {
  impl_->Stop();
}
std::uint16_t GitProxy::port() const {
  return impl_->port();
}

}  // namespace keybridge::gitproxy
