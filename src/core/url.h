// Url: a small RFC 3986 parser for the absolute http(s) URLs administrators configure (provider
// base URLs, issuer URLs) and, later, repository URLs. It parses; it never resolves or fetches.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace keybridge::core {

struct Url {
  std::string scheme;      // lower-cased
  std::string userinfo;    // "" if absent
  std::string host;        // lower-cased; IPv6 literals without brackets
  std::uint16_t port = 0;  // explicit port, or 0 when absent
  std::string path;        // "" or starting with '/'
  std::string query;       // without '?'
  std::string fragment;    // without '#'
  bool has_query = false;
  bool has_fragment = false;

  // The port, or the scheme's default (80/443) when absent.
  std::uint16_t EffectivePort() const;
  // scheme://host[:port] with IPv6 brackets and without a default port.
  std::string Origin() const;
  // True for localhost, 127.0.0.0/8 and ::1 (see core::IsLoopbackHost).
  bool IsLoopbackHost() const;
};

// Whether `host` (lower-cased, IPv6 without brackets, as in Url::host) names the loopback
// interface: exactly "localhost", "::1", or an IPv4 dotted quad (four decimal octets 0-255
// without leading zeros) in 127.0.0.0/8. Decided on the parsed address, never on a text prefix:
// "127.attacker.example" is a DNS name anyone can register, and "0127.0.0.1" or "127.1" are read
// differently by different resolvers, so neither counts.
bool IsLoopbackHost(std::string_view host);

// Percent-encodes everything outside the RFC 3986 unreserved set (ALPHA DIGIT - . _ ~).
std::string PercentEncode(std::string_view text);
// Percent-decodes `text`; nullopt on a malformed escape. With `plus_is_space` (query strings and
// form bodies) '+' decodes to ' '.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);

// kInvalidArgument (message says what is wrong) unless `text` is an absolute URL with a scheme
// and a non-empty host.
Result<Url> ParseUrl(std::string_view text);

}  // namespace keybridge::core
