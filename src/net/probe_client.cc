#include "net/probe_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include "core/startup_error.h"
#include "core/text.h"
#include "net/curl_support.h"

namespace keybridge::net {
namespace {

using core::ErrorCode;
using core::MakeError;
using Clock = std::chrono::steady_clock;

// ---- Address classification ----

bool IsPublicV4(const std::uint8_t* b) {
  const std::uint8_t a = b[0];
  const std::uint8_t c = b[1];
  const std::uint8_t d = b[2];
  const bool special = a == 0                                // "this network"
                       || a == 10                            // private
                       || (a == 100 && (c & 0xC0U) == 64)    // carrier-grade NAT
                       || a == 127                           // loopback
                       || (a == 169 && c == 254)             // link-local, cloud metadata
                       || (a == 172 && (c & 0xF0U) == 16)    // private
                       || (a == 192 && c == 0 && d == 0)     // IETF protocol assignments
                       || (a == 192 && c == 0 && d == 2)     // TEST-NET-1
                       || (a == 192 && c == 88 && d == 99)   // 6to4 relay anycast
                       || (a == 192 && c == 168)             // private
                       || (a == 198 && (c & 0xFEU) == 18)    // benchmarking
                       || (a == 198 && c == 51 && d == 100)  // TEST-NET-2
                       || (a == 203 && c == 0 && d == 113)   // TEST-NET-3
                       || a >= 224;                          // multicast, reserved, broadcast
  return !special;
}

bool AllZero(const std::uint8_t* b, std::size_t n) {
  return std::all_of(b, b + n, [](std::uint8_t x) { return x == 0; });
}

bool IsPublicV6(const std::array<std::uint8_t, 16>& b) {
  // Forms that embed an IPv4 address reach that address: judge it instead.
  if (AllZero(b.data(), 10) && b[10] == 0xFF && b[11] == 0xFF) {
    return IsPublicV4(&b[12]);  // ::ffff:a.b.c.d (IPv4-mapped)
  }
  if (AllZero(b.data(), 12)) {
    return IsPublicV4(&b[12]);  // ::, ::1 (as 0.0.0.x) and deprecated ::a.b.c.d
  }
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && AllZero(&b[4], 8)) {
    return IsPublicV4(&b[12]);  // 64:ff9b::/96 NAT64
  }
  if (b[0] == 0x20 && b[1] == 0x02) {
    return IsPublicV4(&b[2]);  // 2002::/16 6to4
  }
  // Only 2000::/3 is global unicast; that excludes fe80::/10, fec0::/10, fc00::/7, ff00::/8,
  // 100::/64 and 64:ff9b:1::/48 at once.
  if ((b[0] & 0xE0U) != 0x20) {
    return false;
  }
  const bool special = (b[0] == 0x20 && b[1] == 0x01 && (b[2] & 0xFEU) == 0)  // 2001::/23
                       || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8)
                       || (b[0] == 0x3F && b[1] == 0xFF && (b[2] & 0xF0U) == 0);  // 3fff::/20
  return !special;
}

// A host name that a resolver or curl could read as a number: the last label is all digits or
// hexadecimal with 0x (inet_aton shorthands such as 127.1, 0x7f.1, 2130706433). DNS names never
// end in a numeric label, so refusing these loses nothing.
bool LooksNumeric(std::string_view host) {
  while (!host.empty() && host.back() == '.') {
    host.remove_suffix(1);
  }
  const auto dot = host.rfind('.');
  const std::string_view label = dot == std::string_view::npos ? host : host.substr(dot + 1);
  if (label.empty()) {
    return true;
  }
  if (label.size() > 1 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X')) {
    return true;
  }
  return std::all_of(label.begin(), label.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

std::optional<IpAddress> FromSockaddr(const sockaddr* address, std::size_t length) {
  IpAddress ip;
  if (address->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
    sockaddr_in v4{};
    std::memcpy(&v4, address, sizeof(v4));
    std::memcpy(ip.bytes.data(), &v4.sin_addr, 4);
    return ip;
  }
  if (address->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    sockaddr_in6 v6{};
    std::memcpy(&v6, address, sizeof(v6));
    ip.is_v6 = true;
    std::memcpy(ip.bytes.data(), &v6.sin6_addr, 16);
    return ip;
  }
  return std::nullopt;
}

// ---- One transfer ----

struct Transfer {
  HeaderList headers;
  HeaderList resolve;
  std::array<char, CURL_ERROR_SIZE> error_buffer{};
  core::HttpResponse response;
  std::size_t max_body = 0;
  std::size_t header_bytes = 0;
  bool truncated = false;
  bool headers_too_large = false;
  // The addresses that passed the policy for this hop; curl may connect to these only.
  std::vector<IpAddress> allowed;
  bool refused_connect = false;
};

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  std::string& body = transfer->response.body;
  if (body.size() + n > transfer->max_body) {
    body.append(data, transfer->max_body - body.size());
    transfer->truncated = true;
    return 0;  // stops the transfer (CURLE_WRITE_ERROR); the status and headers are complete
  }
  body.append(data, n);
  return n;
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  transfer->header_bytes += n;
  if (transfer->header_bytes > transfer->max_body) {
    transfer->headers_too_large = true;
    return 0;
  }
  const std::string_view line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {
    transfer->response.headers.clear();  // after an interim 1xx response
    return n;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || line.front() == ' ' || line.front() == '\t') {
    return n;
  }
  std::string name = core::AsciiLower(Trim(line.substr(0, colon)));
  transfer->response.headers.push_back(
      {std::move(name), std::string(Trim(line.substr(colon + 1)))});
  return n;
}

// Defence in depth behind the resolve-time check: whatever curl decided to connect to, it gets a
// socket only for an address that passed the policy on this hop.
curl_socket_t OpenSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* transfer = static_cast<Transfer*>(user);
  const auto ip = purpose == CURLSOCKTYPE_IPCXN
                      ? FromSockaddr(&address->addr, static_cast<std::size_t>(address->addrlen))
                      : std::nullopt;
  if (!ip
      || std::find(transfer->allowed.begin(), transfer->allowed.end(), *ip)
             == transfer->allowed.end()) {
    transfer->refused_connect = true;
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype, address->protocol);
}

struct Target {
  std::string scheme;
  std::string host;  // without IPv6 brackets
  std::string port;  // decimal, the scheme's default when absent
};

std::optional<Target> ParseTarget(const std::string& url) {
  const std::unique_ptr<CURLU, CurlUrlDeleter> handle(curl_url());
  if (!handle || curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return std::nullopt;
  }
  const auto get = [&](CURLUPart part, unsigned flags) -> std::optional<std::string> {
    char* value = nullptr;
    if (curl_url_get(handle.get(), part, &value, flags) != CURLUE_OK || value == nullptr) {
      return std::nullopt;
    }
    std::string out(value);
    curl_free(value);
    return out;
  };
  if (get(CURLUPART_ZONEID, 0)) {
    return std::nullopt;  // fe80::1%eth0: link-local anyway, and never wanted
  }
  auto scheme = get(CURLUPART_SCHEME, 0);
  auto host = get(CURLUPART_HOST, 0);
  auto port = get(CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!scheme || !host || !port || host->empty()) {
    return std::nullopt;
  }
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  *host = core::AsciiLower(*host);
  return Target{std::move(*scheme), std::move(*host), std::move(*port)};
}

std::chrono::milliseconds Remaining(Clock::time_point deadline) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
}

bool IsRedirect(long status) {  // NOLINT(google-runtime-int): libcurl's type
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

// ---- IpAddress and policies ----

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  const std::string copy(text);
  IpAddress ip;
  if (inet_pton(AF_INET, copy.c_str(), ip.bytes.data()) == 1) {
    return ip;
  }
  if (inet_pton(AF_INET6, copy.c_str(), ip.bytes.data()) == 1) {
    ip.is_v6 = true;
    return ip;
  }
  return std::nullopt;
}

std::string IpAddress::ToString() const {
  std::array<char, INET6_ADDRSTRLEN> buffer{};
  if (inet_ntop(is_v6 ? AF_INET6 : AF_INET, bytes.data(), buffer.data(),
                static_cast<socklen_t>(buffer.size()))
      == nullptr) {
    return "?";
  }
  return buffer.data();
}

bool IsPublicAddress(const IpAddress& address) {
  return address.is_v6 ? IsPublicV6(address.bytes) : IsPublicV4(address.bytes.data());
}

AddressPolicy PublicOnlyPolicy() {
  return [](const IpAddress& address, int /*hop*/) {
    return IsPublicAddress(address);
  };
}

AddressPolicy AnyAddressPolicy() {
  return [](const IpAddress&, int) {
    return true;
  };
}

core::Result<std::vector<IpAddress>> SystemResolve(const std::string& host,
                                                   std::chrono::milliseconds timeout) {
  // Shared with the helper thread, which may outlive this call when DNS is slower than the
  // deadline; it then finishes on its own and frees the state.
  struct Job {
    std::mutex mu;
    std::condition_variable done_cv;
    bool done = false;
    int rc = 0;
    std::vector<IpAddress> addresses;
  };
  auto job = std::make_shared<Job>();
  std::thread([job, host] {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* list = nullptr;
    const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
    std::vector<IpAddress> addresses;
    for (const addrinfo* ai = list; rc == 0 && ai != nullptr; ai = ai->ai_next) {
      if (auto ip = FromSockaddr(ai->ai_addr, ai->ai_addrlen);
          ip && std::find(addresses.begin(), addresses.end(), *ip) == addresses.end()) {
        addresses.push_back(*ip);
      }
    }
    if (list != nullptr) {
      ::freeaddrinfo(list);
    }
    const std::lock_guard lock(job->mu);
    job->rc = rc;
    job->addresses = std::move(addresses);
    job->done = true;
    job->done_cv.notify_all();
  }).detach();
  std::unique_lock lock(job->mu);
  if (!job->done_cv.wait_for(lock, timeout, [&] { return job->done; })) {
    return MakeError(ErrorCode::kUnavailable, "resolving " + host + " timed out");
  }
  if (job->rc != 0 || job->addresses.empty()) {
    return MakeError(ErrorCode::kUnavailable, "cannot resolve " + host,
                     job->rc != 0 ? ::gai_strerror(job->rc) : "no addresses");
  }
  return job->addresses;
}

// ---- ProbeClient ----

ProbeClient::ProbeClient() : ProbeClient(Options{}) {}

ProbeClient::ProbeClient(Options options) : options_(std::move(options)) {
  EnsureCurlInitialized();
  if (!options_.policy) {
    options_.policy = PublicOnlyPolicy();
  }
  if (!options_.resolver) {
    options_.resolver = SystemResolve;
  }
  if (!options_.ca_file.empty()) {
    auto extra = ReadFile(options_.ca_file);
    if (!extra) {
      throw StartupError("cannot read CA bundle " + options_.ca_file);
    }
    ca_bundle_ = ReadFile(SystemBundlePath()).value_or("") + "\n" + *extra;
  }
}

core::Result<core::HttpResponse> ProbeClient::Send(const core::HttpRequest& request) {
  if ((request.method != "GET" && request.method != "HEAD") || !request.body.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "a probe is a GET or HEAD without a body");
  }
  const auto deadline = Clock::now() + std::min(options_.timeout, request.timeout);
  std::string url = request.url;
  for (int hop = 0;; ++hop) {
    const auto target = ParseTarget(url);
    if (!target || (target->scheme != "http" && target->scheme != "https")) {
      return hop == 0 ? MakeError(ErrorCode::kInvalidArgument, "a probe URL must be http(s)")
                      : MakeError(ErrorCode::kPermissionDenied,
                                  "refused to follow a redirect that leaves http(s)");
    }
    const std::string& host = target->host;
    // One message for "not public", "does not resolve" and "port not allowed": a caller must not
    // learn which, or the probe becomes a map of the network. The detail (logged) says which.
    const std::string refused = "cannot probe " + host + ": not a public address that resolves";
    if (!options_.allowed_ports.empty()
        && std::find(options_.allowed_ports.begin(), options_.allowed_ports.end(),
                     static_cast<std::uint16_t>(std::atoi(target->port.c_str())))
               == options_.allowed_ports.end()) {
      return MakeError(ErrorCode::kPermissionDenied, refused, "port " + target->port);
    }

    // Resolve once, judge every address, and connect only to those (no second lookup).
    std::vector<IpAddress> addresses;
    const auto literal = IpAddress::Parse(host);
    if (literal) {
      addresses.push_back(*literal);
    } else if (LooksNumeric(host)) {
      return MakeError(ErrorCode::kPermissionDenied, refused, "numeric host shorthand");
    } else {
      auto resolved =
          options_.resolver(host, std::max(Remaining(deadline), std::chrono::milliseconds(1)));
      if (!resolved.ok()) {
        return MakeError(ErrorCode::kPermissionDenied, refused,
                         "does not resolve: " + resolved.error().message);
      }
      addresses = std::move(resolved).value();
    }
    if (addresses.empty()) {
      return MakeError(ErrorCode::kPermissionDenied, refused, "no addresses");
    }
    for (const auto& address : addresses) {
      if (!options_.policy(address, hop)) {
        return MakeError(ErrorCode::kPermissionDenied, refused, address.ToString());
      }
    }

    Transfer transfer;
    transfer.max_body = options_.max_body_bytes;
    transfer.allowed = addresses;
    KEYBRIDGE_ASSIGN_OR_RETURN(transfer.headers, BuildHeaderList(request.headers, host));
    if (!literal) {
      std::string entry = host + ":" + target->port + ":";
      for (std::size_t i = 0; i < addresses.size(); ++i) {
        const std::string text = addresses[i].ToString();
        entry += (i == 0 ? "" : ",") + (addresses[i].is_v6 ? "[" + text + "]" : text);
      }
      transfer.resolve.reset(curl_slist_append(nullptr, entry.c_str()));
      if (!transfer.resolve) {
        return MakeError(ErrorCode::kInternal, "out of memory pinning " + host);
      }
    }
    const auto left = Remaining(deadline);
    if (left.count() <= 0) {
      return MakeError(ErrorCode::kUnavailable, "probe of " + host + " timed out");
    }

    // A fresh handle per hop: no DNS cache or connection from an earlier hop can be reused.
    const std::unique_ptr<CURL, CurlEasyDeleter> handle(curl_easy_init());
    if (!handle) {
      return MakeError(ErrorCode::kInternal, "curl_easy_init failed");
    }
    CURL* h = handle.get();
    CURLcode rc = CURLE_OK;
    const auto set = [&](CURLoption option, auto value) {
      if (rc == CURLE_OK) {
        rc = curl_easy_setopt(h, option, value);
      }
    };
    // NOLINTBEGIN(google-runtime-int): libcurl takes long
    set(CURLOPT_ERRORBUFFER, transfer.error_buffer.data());
    set(CURLOPT_URL, url.c_str());
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_FOLLOWLOCATION, 0L);  // we follow, after checking the target
    set(CURLOPT_PROXY, "");           // an environment proxy would reach what we did not check
    set(CURLOPT_SSL_VERIFYPEER, 1L);
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_TIMEOUT_MS, static_cast<long>(left.count()));
    set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(left.count()));
    set(CURLOPT_USERAGENT, "keybridge/0.1");
    set(CURLOPT_HTTPHEADER, transfer.headers.get());
    if (transfer.resolve) {
      set(CURLOPT_RESOLVE, transfer.resolve.get());
    }
    set(CURLOPT_OPENSOCKETFUNCTION, OpenSocket);
    set(CURLOPT_OPENSOCKETDATA, &transfer);
    set(CURLOPT_WRITEFUNCTION, OnBody);
    set(CURLOPT_WRITEDATA, &transfer);
    set(CURLOPT_HEADERFUNCTION, OnHeader);
    set(CURLOPT_HEADERDATA, &transfer);
    if (!ca_bundle_.empty()) {
      // curl_blob wants void*, but with CURL_BLOB_NOCOPY curl only reads the bytes.
      curl_blob blob{const_cast<char*>(ca_bundle_.data()),  // NOLINT(*-const-cast): read only
                     ca_bundle_.size(), CURL_BLOB_NOCOPY};
      set(CURLOPT_CAINFO_BLOB, &blob);
    }
    set(request.method == "HEAD" ? CURLOPT_NOBODY : CURLOPT_HTTPGET, 1L);
    // NOLINTEND(google-runtime-int)
    if (rc != CURLE_OK) {
      return MakeError(ErrorCode::kInternal, "cannot configure the probe of " + host,
                       curl_easy_strerror(rc));
    }
    rc = curl_easy_perform(h);
    if (transfer.refused_connect) {
      return MakeError(ErrorCode::kPermissionDenied, refused, "connect address not checked");
    }
    if (transfer.headers_too_large) {
      return MakeError(ErrorCode::kUpstreamFailed, "the headers from " + host + " are too large");
    }
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && transfer.truncated)) {
      return MakeError(ErrorCode::kUnavailable,
                       rc == CURLE_OPERATION_TIMEDOUT
                           ? "probe of " + host + " timed out"
                           : "cannot reach " + host + ": " + curl_easy_strerror(rc),
                       transfer.error_buffer.data());
    }
    long status = 0;  // NOLINT(google-runtime-int): libcurl's type
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    char* location = nullptr;
    curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &location);
    if (IsRedirect(status) && location != nullptr) {
      if (hop >= options_.max_redirects) {
        return MakeError(ErrorCode::kUpstreamFailed,
                         "the probe of " + host + " was redirected too many times");
      }
      url = location;  // curl resolved it against the current URL (RFC 9110 §10.2.2)
      continue;
    }
    transfer.response.status = static_cast<int>(status);
    return std::move(transfer.response);
  }
}

}  // namespace keybridge::net
