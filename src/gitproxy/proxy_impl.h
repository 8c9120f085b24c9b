// GitProxy::Impl, shared by the three files that implement it: git_proxy.cc (listening, one
// request per client turn, credentials), upstream_connection.cc (resolving and connecting to the
// provider, TLS) and relay.cc (streaming the request up and the answer down). Private to
// gitproxy: the only header that includes Beast/Asio, included by those three .cc files only.
#pragma once

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>

#include "gitproxy/forwarding.h"
#include "gitproxy/git_proxy.h"

namespace keybridge::gitproxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

inline constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
inline constexpr std::size_t kChunkBytes = std::size_t{64} * 1024;
inline constexpr std::size_t kMaxHeaderBytes = std::size_t{32} * 1024;
// Error bodies of info/refs are read whole, to add what would give access.
inline constexpr std::size_t kMaxErrorBodyBytes = std::size_t{64} * 1024;

// What happened to one request, for the log line and the keep-alive decision.
struct Exchange {
  int status = 0;
  std::uint64_t bytes_up = 0;
  std::uint64_t bytes_down = 0;
  bool keep_alive = false;
  bool retry_with_new_token = false;  // upstream 401 before any body was sent
  bool responded = false;             // the client already got (part of) a response
};

struct UploadState {
  bool done = false;       // the whole body reached the provider
  bool failed = false;     // the upload stopped early
  bool abandoned = false;  // the exchange ended without it: start no further operation
  std::uint64_t bytes = 0;
};

using RequestParser = bhttp::request_parser<bhttp::buffer_body>;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

class GitProxy::Impl {
 public:
  Impl(GitProxyOptions options, CredentialCache& credentials);
  ~Impl();  // NOLINT(bugprone-exception-escape): see git_proxy.cc
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;

  void Start();
  void Stop();
  std::uint16_t port() const { return port_; }

 private:
  // git_proxy.cc
  static std::shared_ptr<spdlog::logger> Logger();
  asio::awaitable<void> Listen();
  asio::awaitable<void> Serve(tcp::socket socket);
  asio::awaitable<void> Reply(beast::tcp_stream& client, int status, std::string_view message,
                              bool keep_alive);
  // One request from the client; false when the connection must close.
  asio::awaitable<bool> ServeOne(beast::tcp_stream& client, beast::flat_buffer& buffer);
  void Log(const std::string& method, const ProxyTarget* target, int status,
           const Exchange& exchange, std::chrono::steady_clock::time_point started);

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

  // upstream_connection.cc: connects to the provider (TLS verified, SNI) and relays.
  asio::awaitable<Exchange> Forward(beast::tcp_stream& client, beast::flat_buffer& buffer,
                                    RequestParser& parser, const ProxyTarget& target,
                                    const UpstreamCredential& credential, bool may_retry);

  // relay.cc, instantiated there for beast::tcp_stream and TlsStream.
  template <typename Stream>
  asio::awaitable<Exchange> Relay(Stream& upstream, beast::tcp_stream& client,
                                  beast::flat_buffer& buffer, RequestParser& parser,
                                  const ProxyTarget& target, const UpstreamCredential& credential,
                                  const Upstream& where, bool may_retry);
  asio::awaitable<std::optional<std::size_t>> ReadChunk(beast::tcp_stream& client,
                                                        beast::flat_buffer& buffer,
                                                        RequestParser& parser,
                                                        std::array<char, kChunkBytes>& chunk,
                                                        const UploadState& state);
  template <typename Stream>
  asio::awaitable<bool> WriteChunk(Stream& upstream, bhttp::request<bhttp::buffer_body>& out,
                                   bhttp::request_serializer<bhttp::buffer_body>& serializer,
                                   char* data, std::size_t size, bool more);
  template <typename Stream>
  asio::awaitable<bool> Upload(beast::tcp_stream& client, beast::flat_buffer& buffer,
                               RequestParser& parser, Stream& upstream,
                               bhttp::request<bhttp::buffer_body>& out,
                               bhttp::request_serializer<bhttp::buffer_body>& serializer,
                               UploadState& state);
  template <typename Stream>
  asio::awaitable<Exchange> Download(Stream& upstream, beast::tcp_stream& client,
                                     const ProxyTarget& target, const Upstream& where,
                                     bool client_keep_alive, bool may_retry, UploadState& upload);
  template <typename Stream>
  asio::awaitable<Exchange> ExplainRefusal(Stream& upstream, beast::flat_buffer& upstream_buffer,
                                           bhttp::response_parser<bhttp::buffer_body>& parser,
                                           beast::tcp_stream& client, const Upstream& where,
                                           bool client_keep_alive, UploadState& upload,
                                           Exchange exchange);
  template <typename Stream>
  Exchange Finish(Stream& upstream, beast::tcp_stream& client, UploadState& upload,
                  Exchange exchange);

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

}  // namespace keybridge::gitproxy
