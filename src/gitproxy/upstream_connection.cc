// git-proxy's connection to the provider: resolve, connect (with a timeout) and, for https, the
// TLS handshake with SNI and host name verification; then relay.cc streams the exchange.
#include <openssl/ssl.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <string>
#include <tuple>

#include "gitproxy/proxy_impl.h"

namespace keybridge::gitproxy {

asio::awaitable<Exchange> GitProxy::Impl::Forward(beast::tcp_stream& client,
                                                  beast::flat_buffer& buffer,
                                                  bhttp::request_parser<bhttp::buffer_body>& parser,
                                                  const ProxyTarget& target,
                                                  const UpstreamCredential& credential,
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
                      // OpenSSL copies the name; its ctrl interface only takes void*.
                      // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): read only
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

}  // namespace keybridge::gitproxy
