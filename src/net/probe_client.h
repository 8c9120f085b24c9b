// ProbeClient: the outbound HTTP client for URLs that callers choose rather than administrators
// (the repository check's git probe, which anonymous callers may trigger). It is a guard against
// server-side request forgery (OWASP SSRF Prevention Cheat Sheet): every host is resolved here,
// EVERY address it resolves to must pass the address policy, curl is pinned to exactly those
// addresses (CURLOPT_RESOLVE, so DNS rebinding cannot swap them) and re-checks the address it
// actually connects to, redirects are followed here (never by curl) with the same checks on every
// hop, and proxies from the environment are ignored. Requests to administrator-configured provider
// URLs use CurlHttpClient instead.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_client.h"
#include "core/result.h"

namespace keybridge::net {

// An IPv4 or IPv6 address.
struct IpAddress {
  bool is_v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4

  // A dotted-quad IPv4 or an IPv6 literal (no brackets, no zone); nullopt for anything else,
  // including the inet_aton shorthands ("127.1", "0x7f.0.0.1", "2130706433").
  static std::optional<IpAddress> Parse(std::string_view text);
  std::string ToString() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// True only for globally reachable unicast addresses. False for: 0.0.0.0/8, 10/8, 100.64/10,
// 127/8, 169.254/16 (incl. the 169.254.169.254 cloud metadata address), 172.16/12, 192.0.0/24,
// 192.0.2/24, 192.88.99/24, 192.168/16, 198.18/15, 198.51.100/24, 203.0.113/24, 224/4 (multicast),
// 240/4 and broadcast; ::, ::1, fe80::/10, fec0::/10, fc00::/7, ff00::/8, 100::/64, 2001:db8::/32,
// 2001::/23 (Teredo, ORCHID, benchmarking...), and IPv6 forms that embed an IPv4 address
// (::ffff:a.b.c.d, ::a.b.c.d, 64:ff9b::/96 NAT64, 2002::/16 6to4), which are public only if the
// embedded IPv4 address is.
bool IsPublicAddress(const IpAddress& address);

// Whether a probe may connect to `address` on redirect hop `hop` (0 = the URL asked for, 1 = the
// first redirect target...). Tests inject policies; production uses PublicOnlyPolicy().
using AddressPolicy = std::function<bool(const IpAddress& address, int hop)>;
AddressPolicy PublicOnlyPolicy();
// Every address (the server's --allow-private-probe, for deployments whose git servers are on a
// private network).
AddressPolicy AnyAddressPolicy();

// Resolves a host name to all its addresses within `timeout`. kUnavailable when it does not
// resolve or takes too long.
using Resolver = std::function<core::Result<std::vector<IpAddress>>(
    const std::string& host, std::chrono::milliseconds timeout)>;
// getaddrinfo (all families), run on a helper thread so a slow DNS server cannot hold a request
// past its deadline.
core::Result<std::vector<IpAddress>> SystemResolve(const std::string& host,
                                                   std::chrono::milliseconds timeout);

class ProbeClient final : public core::HttpClient {
 public:
  struct Options {
    AddressPolicy policy;  // empty: PublicOnlyPolicy()
    Resolver resolver;     // empty: SystemResolve
    // Extra trusted CA bundle (PEM), as CurlHttpClient; "" trusts the system bundle only.
    std::string ca_file;
    // For the whole request, redirects and DNS included; min(this, request.timeout) applies.
    std::chrono::milliseconds timeout{5000};
    // Longer bodies are cut at this size and the transfer stopped: callers of a probe only need
    // the status and headers. Header blocks larger than this are an error.
    std::size_t max_body_bytes = std::size_t{64} * 1024;
    int max_redirects = 3;
    // Ports a probe may connect to, on every hop; empty allows any. The server allows 80 and 443
    // only (unless --allow-any-probe-port), so a probe cannot map services on other ports.
    std::vector<std::uint16_t> allowed_ports;
  };

  ProbeClient();
  // Throws keybridge::StartupError if `ca_file` is set but cannot be read.
  explicit ProbeClient(Options options);

  // Thread-safe. GET and HEAD only, without a body; TLS is always verified. 301/302/303/307/308
  // responses with a Location are followed up to max_redirects times, each target re-resolved and
  // re-checked. The returned response is the final one. Errors:
  // - kPermissionDenied: a host resolves to (or a redirect leads to) an address the policy
  //   refuses, a redirect leaves http/https, or a host is a numeric shorthand; nothing was sent
  //   to that address;
  // - kInvalidArgument: the URL is not http(s), the method is not GET/HEAD, a header is invalid;
  // - kUnavailable: DNS, connect, TLS or timeout failures;
  // - kUpstreamFailed: too many redirects, or an oversized header block.
  // Messages name the host, never the path, query or headers.
  core::Result<core::HttpResponse> Send(const core::HttpRequest& request) override;

 private:
  Options options_;
  std::string ca_bundle_;  // system bundle + ca_file when ca_file is set
};

}  // namespace keybridge::net
