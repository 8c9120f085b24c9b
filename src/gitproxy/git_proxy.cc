// The only gitproxy file that includes Beast/Asio (asio_ssl_src.cc holds Asio's separately
// compiled TLS part). Each client connection is one coroutine on a single I/O thread; blocking
// calls to keybridge for credentials run on a small thread pool.
#include "gitproxy/git_proxy.h"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <optional>
#include <set>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>

#include "core/startup_error.h"
#include "core/text.h"
#include "core/url.h"

namespace keybridge::gitproxy {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;  // NOLINT(google-build-using-namespace)

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kChunkBytes = std::size_t{64} * 1024;
constexpr std::size_t kMaxHeaderBytes = std::size_t{32} * 1024;
// Error bodies of info/refs are read whole, to add what would give access.
constexpr std::size_t kMaxErrorBodyBytes = std::size_t{64} * 1024;

// Hop-by-hop fields (RFC 9110 §7.6.1) and what the proxy sets itself are never forwarded; neither
// are the client's credentials or cookies, which belong to the proxy's origin, not the provider.
bool DropFromRequest(const std::string& lower_name) {
  static const std::set<std::string, std::less<>> kDropped = {
      "authorization",    "connection", "content-length", "cookie",
      "expect",           "host",       "keep-alive",     "proxy-authorization",
      "proxy-connection", "te",         "trailer",        "transfer-encoding",
      "upgrade"};
  return kDropped.contains(lower_name);
}

bool DropFromResponse(const std::string& lower_name) {
  static const std::set<std::string, std::less<>> kDropped = {
      "connection", "content-length", "keep-alive", "proxy-authenticate", "proxy-connection", "te",
      "trailer", "transfer-encoding", "upgrade",
      // A 401 that reaches git would make it prompt for a password it does not need.
      "www-authenticate"};
  return kDropped.contains(lower_name);
}

// Fields the Connection header names are hop-by-hop too.
std::set<std::string> ConnectionOptions(std::string_view value) {
  std::set<std::string> names;
  while (!value.empty()) {
    const auto comma = value.find(',');
    std::string token = core::AsciiLower(value.substr(0, comma));
    token.erase(0, token.find_first_not_of(" \t"));
    token.erase(token.find_last_not_of(" \t") + 1);
    if (!token.empty()) {
      names.insert(token);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    value.remove_prefix(comma + 1);
  }
  return names;
}

int StatusFor(core::ErrorCode code) {
  switch (code) {
    case core::ErrorCode::kInvalidArgument:
      return 400;
    case core::ErrorCode::kNotFound:
      return 404;
    case core::ErrorCode::kUnavailable:
      return 503;
    default:
      // Not 401: git would answer a 401 by prompting for a password, which cannot help here.
      return 403;
  }
}

struct Upstream {
  core::Url url;
  std::string target;  // origin-form path and query
  std::string host_header;
  std::string repository_url;  // for the access hint
};

core::Result<Upstream> UpstreamFor(const UpstreamCredential& credential,
                                   const ProxyTarget& target) {
  std::string full = credential.repository_url;
  while (!full.empty() && full.back() == '/') {
    full.pop_back();
  }
  full += "/" + target.endpoint;
  if (!target.query.empty()) {
    full += "?" + target.query;
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(core::Url url, core::ParseUrl(full));
  if (url.scheme != "http" && url.scheme != "https") {
    return core::MakeError(core::ErrorCode::kUnavailable,
                           "the integration URL is not http(s): " + credential.repository_url);
  }
  Upstream upstream;
  upstream.target = (url.path.empty() ? "/" : url.path) + (url.has_query ? "?" + url.query : "");
  const bool v6 = url.host.find(':') != std::string::npos;
  upstream.host_header = v6 ? "[" + url.host + "]" : url.host;
  const std::uint16_t default_port = url.scheme == "https" ? 443 : 80;
  if (url.port != 0 && url.port != default_port) {
    upstream.host_header += ":" + std::to_string(url.port);
  }
  upstream.repository_url = credential.repository_url;
  upstream.url = std::move(url);
  return upstream;
}

// What happened to one request, for the log line and the keep-alive decision.
struct Exchange {
  int status = 0;
  std::uint64_t bytes_up = 0;
  std::uint64_t bytes_down = 0;
  bool keep_alive = false;
  bool retry_with_new_token = false;  // upstream 401 before any body was sent
  bool responded = false;             // the client already got (part of) a response
};

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

class GitProxy::Impl {
 public:
  Impl(GitProxyOptions options, CredentialCache& credentials)
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

  ~Impl() { Stop(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;

  void Start() {
    if (started_) {
      return;
    }
    started_ = true;
    asio::co_spawn(io_, Listen(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }

  void Stop() {
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

  std::uint16_t port() const { return port_; }

 private:
  static std::shared_ptr<spdlog::logger> Logger() {
    if (auto logger = spdlog::get("git-proxy")) {
      return logger;
    }
    auto logger = spdlog::default_logger()->clone("git-proxy");
    return logger;
  }

  asio::awaitable<void> Listen() {
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

  asio::awaitable<void> Serve(tcp::socket socket) {
    beast::tcp_stream client(std::move(socket));
    beast::flat_buffer buffer;
    while (co_await ServeOne(client, buffer)) {
    }
    beast::error_code ignored;
    client.socket().shutdown(tcp::socket::shutdown_send, ignored);
    client.close();
  }

  // Runs `work` on the pool and resumes on the I/O thread with its result.
  template <typename Work>
  asio::awaitable<std::invoke_result_t<Work>> OnPool(Work work) {
    using T = std::invoke_result_t<Work>;
    std::optional<T> result = co_await asio::co_spawn(
        pool_,
        [&work]() -> asio::awaitable<std::optional<T>> { co_return std::optional<T>(work()); },
        asio::use_awaitable);
    co_return std::move(*result);
  }

  asio::awaitable<void> Reply(beast::tcp_stream& client, int status, std::string_view message,
                              bool keep_alive) {
    auto response = TextResponse(status, message, keep_alive);
    client.expires_after(options_.io_timeout);
    co_await bhttp::async_write(client, response, kUseTuple);
  }

  // One request from the client; false when the connection must close.
  asio::awaitable<bool> ServeOne(beast::tcp_stream& client, beast::flat_buffer& buffer) {
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

  asio::awaitable<Exchange> Forward(beast::tcp_stream& client, beast::flat_buffer& buffer,
                                    bhttp::request_parser<bhttp::buffer_body>& parser,
                                    const ProxyTarget& target, const UpstreamCredential& credential,
                                    bool may_retry) {
    Exchange failed;
    const bool keep_if_failed = parser.get().keep_alive() && parser.is_done();
    failed.keep_alive = keep_if_failed;
    auto upstream = UpstreamFor(credential, target);
    if (!upstream.ok()) {
      failed.status = 502;
      co_await Reply(client, failed.status, upstream.error().message, keep_if_failed);
      co_return failed;
    }
    tcp::resolver resolver(io_);
    auto [resolve_ec, endpoints] = co_await resolver.async_resolve(
        upstream->url.host, std::to_string(upstream->url.EffectivePort()), kUseTuple);
    if (resolve_ec) {
      failed.status = 502;
      co_await Reply(client, failed.status,
                     "cannot resolve " + upstream->url.host + ": " + resolve_ec.message(),
                     keep_if_failed);
      co_return failed;
    }
    if (upstream->url.scheme == "https") {
      beast::ssl_stream<beast::tcp_stream> stream(io_, tls_);
      beast::get_lowest_layer(stream).expires_after(options_.connect_timeout);
      auto [connect_ec, connected] =
          co_await beast::get_lowest_layer(stream).async_connect(endpoints, kUseTuple);
      beast::error_code ec = connect_ec;
      if (!ec) {
        // SNI, and the certificate must name the host (RFC 6125), not just chain to a root.
        // (SSL_set_tlsext_host_name without its C cast; no SNI for IP literals, RFC 6066 §3.)
        beast::error_code parse_ec;
        [[maybe_unused]] const auto address = asio::ip::make_address(upstream->url.host, parse_ec);
        const bool literal = !parse_ec;
        if (!literal
            && SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME,
                        TLSEXT_NAMETYPE_host_name,
                        static_cast<void*>(const_cast<char*>(upstream->url.host.c_str())))
                   != 1) {
          ec = asio::error::invalid_argument;
        } else {
          stream.set_verify_callback(ssl::host_name_verification(upstream->url.host));
          std::tie(ec) = co_await stream.async_handshake(ssl::stream_base::client, kUseTuple);
        }
      }
      if (ec) {
        failed.status = 502;
        co_await Reply(client, failed.status,
                       "cannot connect to " + upstream->host_header + ": " + ec.message(),
                       keep_if_failed);
        co_return failed;
      }
      co_return co_await Relay(stream, client, buffer, parser, target, credential, *upstream,
                               may_retry);
    }
    beast::tcp_stream stream(io_);
    stream.expires_after(options_.connect_timeout);
    auto [connect_ec, connected] = co_await stream.async_connect(endpoints, kUseTuple);
    if (connect_ec) {
      failed.status = 502;
      co_await Reply(client, failed.status,
                     "cannot connect to " + upstream->host_header + ": " + connect_ec.message(),
                     keep_if_failed);
      co_return failed;
    }
    co_return co_await Relay(stream, client, buffer, parser, target, credential, *upstream,
                             may_retry);
  }

  // Sends the request to `upstream` (streaming the client's body, if any, while the answer may
  // already be coming back) and streams the answer to the client.
  template <typename Stream>
  asio::awaitable<Exchange> Relay(Stream& upstream, beast::tcp_stream& client,
                                  beast::flat_buffer& buffer,
                                  bhttp::request_parser<bhttp::buffer_body>& parser,
                                  const ProxyTarget& target, const UpstreamCredential& credential,
                                  const Upstream& where, bool may_retry) {
    auto& request = parser.get();
    const bool has_body = !parser.is_done();
    bhttp::request<bhttp::buffer_body> out;
    out.version(11);
    out.method_string(request.method_string());
    out.target(where.target);
    const std::set<std::string> connection_options =
        ConnectionOptions(request[bhttp::field::connection]);
    for (const auto& field : request) {
      const std::string name = core::AsciiLower(field.name_string());
      if (!DropFromRequest(name) && !connection_options.contains(name)) {
        out.insert(field.name_string(), field.value());
      }
    }
    out.set(bhttp::field::host, where.host_header);
    out.set(bhttp::field::authorization, credential.authorization.Reveal());
    // One upstream connection per request: nothing to pool, nothing to keep in sync.
    out.set(bhttp::field::connection, "close");
    if (has_body) {
      if (const auto length = parser.content_length()) {
        out.content_length(*length);
      } else {
        out.chunked(true);
      }
    }
    out.body().data = nullptr;
    out.body().size = 0;
    out.body().more = has_body;
    bhttp::request_serializer<bhttp::buffer_body> serializer(out);
    beast::get_lowest_layer(upstream).expires_after(options_.io_timeout);
    auto [header_ec, header_bytes] =
        co_await bhttp::async_write_header(upstream, serializer, kUseTuple);
    if (!header_ec && !has_body && !serializer.is_done()) {
      std::tie(header_ec, header_bytes) =
          co_await bhttp::async_write(upstream, serializer, kUseTuple);
    }
    if (header_ec && header_ec != bhttp::error::need_buffer) {
      Exchange failed;
      failed.status = 502;
      co_await Reply(client, failed.status,
                     "the connection to " + where.host_header + " failed: " + header_ec.message(),
                     false);
      co_return failed;
    }

    UploadState upload;
    upload.done = !has_body;
    if (!has_body) {
      co_return co_await Download(upstream, client, target, where, request.keep_alive(), may_retry,
                                  upload);
    }
    if (beast::iequals(request[bhttp::field::expect], "100-continue")) {
      // We strip Expect upstream (the provider may not answer it) and let the client send now.
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      client.expires_after(options_.io_timeout);
      co_await asio::async_write(client, asio::buffer(kContinue), kUseTuple);
    }
    auto [uploaded, exchange] = co_await (
        Upload(client, buffer, parser, upstream, out, serializer, upload)
        && Download(upstream, client, target, where, request.keep_alive(), false, upload));
    exchange.bytes_up = upload.bytes;
    if (!uploaded) {
      exchange.keep_alive = false;
    }
    co_return exchange;
  }

  struct UploadState {
    bool done = false;       // the whole body reached the provider
    bool failed = false;     // the upload stopped early
    bool abandoned = false;  // the exchange ended without it: start no further operation
    std::uint64_t bytes = 0;
  };

  // The next piece of the client's body in `chunk`: its size (0 once the body is complete), or
  // nullopt when the client failed.
  asio::awaitable<std::optional<std::size_t>> ReadChunk(
      beast::tcp_stream& client, beast::flat_buffer& buffer,
      bhttp::request_parser<bhttp::buffer_body>& parser, std::array<char, kChunkBytes>& chunk,
      const UploadState& state) {
    auto& in = parser.get();
    while (!parser.is_done() && !state.abandoned) {
      in.body().data = chunk.data();
      in.body().size = chunk.size();
      client.expires_after(options_.io_timeout);
      auto [ec, ignored] = co_await bhttp::async_read(client, buffer, parser, kUseTuple);
      if (ec && ec != bhttp::error::need_buffer) {
        co_return std::nullopt;
      }
      if (const std::size_t got = chunk.size() - in.body().size; got > 0) {
        co_return got;
      }
    }
    co_return 0;
  }

  template <typename Stream>
  asio::awaitable<bool> WriteChunk(Stream& upstream, bhttp::request<bhttp::buffer_body>& out,
                                   bhttp::request_serializer<bhttp::buffer_body>& serializer,
                                   char* data, std::size_t size, bool more) {
    out.body().data = size == 0 ? nullptr : data;
    out.body().size = size;
    out.body().more = more;
    beast::get_lowest_layer(upstream).expires_after(options_.io_timeout);
    auto [ec, ignored] = co_await bhttp::async_write(upstream, serializer, kUseTuple);
    co_return !ec || ec == bhttp::error::need_buffer;
  }

  // Streams the client's body to the provider through two buffers: while one is written
  // upstream the next is read from the client, so both connections stay busy (a single buffer
  // made the push 1.2x slower than direct; docs/benchmarks.md).
  template <typename Stream>
  asio::awaitable<bool> Upload(beast::tcp_stream& client, beast::flat_buffer& buffer,
                               bhttp::request_parser<bhttp::buffer_body>& parser, Stream& upstream,
                               bhttp::request<bhttp::buffer_body>& out,
                               bhttp::request_serializer<bhttp::buffer_body>& serializer,
                               UploadState& state) {
    std::array<std::array<char, kChunkBytes>, 2> chunks{};
    std::size_t current = 0;
    std::optional<std::size_t> got = co_await ReadChunk(client, buffer, parser, chunks[0], state);
    while (got && !state.abandoned) {
      if (parser.is_done()) {
        // The last piece, or just the terminating chunk of a chunked upload.
        if (!co_await WriteChunk(upstream, out, serializer, chunks[current].data(), *got, false)) {
          break;
        }
        state.bytes += *got;
        state.done = !state.abandoned;
        co_return state.done;
      }
      auto [written, next] =
          co_await (WriteChunk(upstream, out, serializer, chunks[current].data(), *got, true)
                    && ReadChunk(client, buffer, parser, chunks[1 - current], state));
      if (!written) {
        // The provider stopped reading (it may have answered early): Download reports it.
        state.failed = true;
        co_return false;
      }
      state.bytes += *got;
      got = next;
      current = 1 - current;
    }
    state.failed = true;
    if (!got) {
      // The client is gone: the provider will never see the rest, so stop waiting for it.
      beast::error_code ignored;
      beast::get_lowest_layer(upstream).socket().close(ignored);
    }
    co_return false;
  }

  template <typename Stream>
  asio::awaitable<Exchange> Download(Stream& upstream, beast::tcp_stream& client,
                                     const ProxyTarget& target, const Upstream& where,
                                     bool client_keep_alive, bool may_retry, UploadState& upload) {
    Exchange exchange;
    beast::flat_buffer upstream_buffer;
    std::optional<bhttp::response_parser<bhttp::buffer_body>> parser;
    beast::error_code ec;
    // Interim 1xx answers (a provider honouring an Expect we did not send) carry nothing for git.
    do {
      parser.emplace();
      parser->body_limit(boost::none);
      parser->header_limit(kMaxHeaderBytes);
      beast::get_lowest_layer(upstream).expires_after(options_.io_timeout);
      std::tie(ec, std::ignore) =
          co_await bhttp::async_read_header(upstream, upstream_buffer, *parser, kUseTuple);
    } while (!ec && parser->get().result_int() / 100 == 1);
    if (ec) {
      exchange.status = ec == beast::error::timeout ? 504 : 502;
      if (!upload.failed) {
        co_await Reply(client, exchange.status,
                       where.host_header + " did not answer: " + ec.message(), false);
      }
      co_return Finish(upstream, client, upload, exchange);
    }
    auto& response = parser->get();
    exchange.status = static_cast<int>(response.result_int());
    if (exchange.status == 401 && may_retry) {
      exchange.retry_with_new_token = true;
      co_return exchange;
    }
    if (exchange.status == 401) {
      co_await Reply(client, 403,
                     where.host_header
                         + " rejected the token keybridge holds for you; the next attempt gets a "
                           "refreshed one — if it keeps failing, reconnect the integration",
                     false);
      exchange.status = 403;
      co_return Finish(upstream, client, upload, exchange);
    }
    if ((exchange.status == 403 || exchange.status == 404) && target.endpoint == "info/refs") {
      co_return co_await ExplainRefusal(upstream, upstream_buffer, *parser, client, where,
                                        client_keep_alive, upload, exchange);
    }

    bhttp::response<bhttp::buffer_body> out;
    out.version(11);
    out.result(response.result_int());
    const std::set<std::string> connection_options =
        ConnectionOptions(response[bhttp::field::connection]);
    for (const auto& field : response) {
      const std::string name = core::AsciiLower(field.name_string());
      if (!DropFromResponse(name) && !connection_options.contains(name)) {
        out.insert(field.name_string(), field.value());
      }
    }
    const bool has_body = !parser->is_done();
    if (const auto length = parser->content_length()) {
      out.content_length(*length);
    } else if (has_body) {
      out.chunked(true);  // chunked or until-close upstream: chunked to the client
    }
    out.keep_alive(client_keep_alive);
    out.body().data = nullptr;
    out.body().size = 0;
    out.body().more = has_body;
    bhttp::response_serializer<bhttp::buffer_body> serializer(out);
    client.expires_after(options_.io_timeout);
    std::tie(ec, std::ignore) = co_await bhttp::async_write_header(client, serializer, kUseTuple);
    exchange.responded = true;
    if (ec && ec != bhttp::error::need_buffer) {
      co_return Finish(upstream, client, upload, exchange);
    }
    std::array<char, kChunkBytes> chunk{};
    bool complete = !has_body;
    while (!parser->is_done()) {
      response.body().data = chunk.data();
      response.body().size = chunk.size();
      beast::get_lowest_layer(upstream).expires_after(options_.io_timeout);
      std::tie(ec, std::ignore) =
          co_await bhttp::async_read(upstream, upstream_buffer, *parser, kUseTuple);
      if (ec && ec != bhttp::error::need_buffer) {
        co_return Finish(upstream, client, upload, exchange);  // truncated: close the client
      }
      const std::size_t got = chunk.size() - response.body().size;
      out.body().data = got == 0 ? nullptr : chunk.data();
      out.body().size = got;
      out.body().more = !parser->is_done();
      if (got == 0 && out.body().more) {
        continue;
      }
      client.expires_after(options_.io_timeout);
      std::tie(ec, std::ignore) = co_await bhttp::async_write(client, serializer, kUseTuple);
      if (ec && ec != bhttp::error::need_buffer) {
        co_return Finish(upstream, client, upload, exchange);
      }
      exchange.bytes_down += got;
    }
    if (!serializer.is_done()) {
      out.body().data = nullptr;
      out.body().size = 0;
      out.body().more = false;
      std::tie(ec, std::ignore) = co_await bhttp::async_write(client, serializer, kUseTuple);
      if (ec && ec != bhttp::error::need_buffer) {
        co_return Finish(upstream, client, upload, exchange);
      }
    }
    complete = true;
    exchange.keep_alive = complete && client_keep_alive;
    co_return Finish(upstream, client, upload, exchange);
  }

  // The provider refused the repository: pass its message on and add what would give access
  // (for a GitHub App, the install URL). git shows a text/plain body of a failed info/refs as
  // "remote: ..." lines.
  template <typename Stream>
  asio::awaitable<Exchange> ExplainRefusal(Stream& upstream, beast::flat_buffer& upstream_buffer,
                                           bhttp::response_parser<bhttp::buffer_body>& parser,
                                           beast::tcp_stream& client, const Upstream& where,
                                           bool client_keep_alive, UploadState& upload,
                                           Exchange exchange) {
    std::string text;
    std::array<char, kChunkBytes> chunk{};
    auto& response = parser.get();
    while (!parser.is_done() && text.size() < kMaxErrorBodyBytes) {
      response.body().data = chunk.data();
      response.body().size = chunk.size();
      beast::get_lowest_layer(upstream).expires_after(options_.io_timeout);
      auto [ec, ignored] = co_await bhttp::async_read(upstream, upstream_buffer, parser, kUseTuple);
      if (ec && ec != bhttp::error::need_buffer) {
        break;
      }
      text.append(chunk.data(), chunk.size() - response.body().size);
    }
    const bool plain = beast::iequals(
        std::string_view(response[bhttp::field::content_type]).substr(0, 10), "text/plain");
    if (!plain) {
      text.clear();
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
      text.pop_back();
    }
    const std::string& repository_url = where.repository_url;
    std::string hint =
        co_await OnPool([this, &repository_url] { return credentials_.Hint(repository_url); });
    std::string message =
        text.empty() ? "the provider answered HTTP " + std::to_string(exchange.status) : text;
    if (!hint.empty()) {
      message += "\n" + hint;
    }
    bhttp::response<bhttp::string_body> out;
    out.version(11);
    out.result(static_cast<unsigned>(exchange.status));
    out.set(bhttp::field::content_type, "text/plain; charset=utf-8");
    out.body() = message + "\n";
    out.keep_alive(client_keep_alive && parser.is_done());
    out.prepare_payload();
    client.expires_after(options_.io_timeout);
    co_await bhttp::async_write(client, out, kUseTuple);
    exchange.responded = true;
    exchange.keep_alive = client_keep_alive && parser.is_done();
    co_return Finish(upstream, client, upload, exchange);
  }

  // Ends the upstream connection; an upload still running is stopped (the client must then
  // close, since part of its body was never read). Shutting down and closing are sticky, unlike
  // cancel(): an Upload between two operations cannot start a new one that waits forever.
  template <typename Stream>
  Exchange Finish(Stream& upstream, beast::tcp_stream& client, UploadState& upload,
                  Exchange exchange) {
    beast::error_code ignored;
    if (!upload.done) {
      exchange.keep_alive = false;
      upload.abandoned = true;
      client.socket().shutdown(tcp::socket::shutdown_receive, ignored);
      client.socket().cancel(ignored);
    }
    beast::get_lowest_layer(upstream).socket().close(ignored);
    return exchange;
  }

  void Log(const std::string& method, const ProxyTarget* target, int status,
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

  GitProxyOptions options_;
  CredentialCache& credentials_;
  asio::io_context io_;
  asio::thread_pool pool_;
  tcp::acceptor acceptor_;
  ssl::context tls_;
  std::shared_ptr<spdlog::logger> logger_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

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
