// git-proxy's streaming: the rewritten request header goes up, then the upload (client ->
// provider) and the download (provider -> client) run as two coroutines joined with &&, each
// through fixed 64 KiB buffers, so memory does not grow with the pack. Whichever side ends first
// stops the other; a client whose body was not read to the end is disconnected (RFC 9112 §9.6).
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <set>
#include <tuple>

#include "core/text.h"
#include "gitproxy/proxy_impl.h"

namespace keybridge::gitproxy {

// The operator that runs Upload && Download below concurrently lives only in this namespace.
using namespace asio::experimental::awaitable_operators;  // NOLINT(google-build-using-namespace)

// Sends the request to `upstream` (streaming the client's body, if any, while the answer may
// already be coming back) and streams the answer to the client.
template <typename Stream>
asio::awaitable<Exchange> GitProxy::Impl::Relay(Stream& upstream, beast::tcp_stream& client,
                                                beast::flat_buffer& buffer,
                                                bhttp::request_parser<bhttp::buffer_body>& parser,
                                                const ProxyTarget& target,
                                                const UpstreamCredential& credential,
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
  auto [uploaded, exchange] =
      co_await (Upload(client, buffer, parser, upstream, out, serializer, upload)
                && Download(upstream, client, target, where, request.keep_alive(), false, upload));
  exchange.bytes_up = upload.bytes;
  if (!uploaded) {
    exchange.keep_alive = false;
  }
  co_return exchange;
}

// The next piece of the client's body in `chunk`: its size (0 once the body is complete), or
// nullopt when the client failed.
asio::awaitable<std::optional<std::size_t>> GitProxy::Impl::ReadChunk(
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
asio::awaitable<bool> GitProxy::Impl::WriteChunk(
    Stream& upstream, bhttp::request<bhttp::buffer_body>& out,
    bhttp::request_serializer<bhttp::buffer_body>& serializer, char* data, std::size_t size,
    bool more) {
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
asio::awaitable<bool> GitProxy::Impl::Upload(
    beast::tcp_stream& client, beast::flat_buffer& buffer,
    bhttp::request_parser<bhttp::buffer_body>& parser, Stream& upstream,
    bhttp::request<bhttp::buffer_body>& out,
    bhttp::request_serializer<bhttp::buffer_body>& serializer, UploadState& state) {
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
asio::awaitable<Exchange> GitProxy::Impl::Download(Stream& upstream, beast::tcp_stream& client,
                                                   const ProxyTarget& target, const Upstream& where,
                                                   bool client_keep_alive, bool may_retry,
                                                   UploadState& upload) {
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
asio::awaitable<Exchange> GitProxy::Impl::ExplainRefusal(
    Stream& upstream, beast::flat_buffer& upstream_buffer,
    bhttp::response_parser<bhttp::buffer_body>& parser, beast::tcp_stream& client,
    const Upstream& where, bool client_keep_alive, UploadState& upload, Exchange exchange) {
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
Exchange GitProxy::Impl::Finish(Stream& upstream, beast::tcp_stream& client, UploadState& upload,
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

// Forward (upstream_connection.cc) relays over plain TCP or TLS.
template asio::awaitable<Exchange> GitProxy::Impl::Relay<beast::tcp_stream>(
    beast::tcp_stream& upstream, beast::tcp_stream& client, beast::flat_buffer& buffer,
    RequestParser& parser, const ProxyTarget& target, const UpstreamCredential& credential,
    const Upstream& where, bool may_retry);
template asio::awaitable<Exchange> GitProxy::Impl::Relay<TlsStream>(
    TlsStream& upstream, beast::tcp_stream& client, beast::flat_buffer& buffer,
    RequestParser& parser, const ProxyTarget& target, const UpstreamCredential& credential,
    const Upstream& where, bool may_retry);

}  // namespace keybridge::gitproxy
