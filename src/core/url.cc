#include "core/url.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/text.h"

namespace keybridge::core {
namespace {

bool IsSchemeChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
}

// RFC 3986 reg-name and IP-literal characters we accept in a host.
bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

}  // namespace

std::string PercentEncode(std::string_view text) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_'
        || c == '~') {
      out.push_back(c);
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[byte >> 4U]);
      out.push_back(kHex[byte & 0x0FU]);
    }
  }
  return out;
}

std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (text.size() - i < 3) {
        return std::nullopt;
      }
      const int high = HexValue(text[i + 1]);
      const int low = HexValue(text[i + 2]);
      if (high < 0 || low < 0) {
        return std::nullopt;
      }
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::uint16_t Url::EffectivePort() const {
  if (port != 0) {
    return port;
  }
  return scheme == "https" ? 443 : scheme == "http" ? 80 : 0;
}

std::string Url::Origin() const {
  std::string out = scheme + "://";
  out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const bool default_port =
      port == 0 || (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
  if (!default_port) {
    out += ":" + std::to_string(port);
  }
  return out;
}

namespace {

// The value of one dotted-quad octet: 1-3 decimal digits, no leading zero, at most 255.
std::optional<unsigned> Octet(std::string_view text) {
  if (text.empty() || text.size() > 3 || (text.size() > 1 && text.front() == '0')) {
    return std::nullopt;
  }
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value <= 255 ? std::optional<unsigned>(value) : std::nullopt;
}

}  // namespace

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "::1") {
    return true;
  }
  std::optional<unsigned> first;
  for (int i = 0; i < 4; ++i) {
    const auto dot = host.find('.');
    if ((i < 3) == (dot == std::string_view::npos)) {
      return false;  // not exactly four parts
    }
    const auto octet = Octet(host.substr(0, dot));
    if (!octet) {
      return false;
    }
    if (i == 0) {
      first = octet;
    }
    host = dot == std::string_view::npos ? std::string_view{} : host.substr(dot + 1);
  }
  return first == 127U;
}

bool Url::IsLoopbackHost() const {
  return core::IsLoopbackHost(host);
}

Result<Url> ParseUrl(std::string_view text) {
  Url url;
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return Invalid("must not contain spaces, control or non-ASCII characters");
    }
  }
  const auto colon = text.find("://");
  if (colon == std::string_view::npos || colon == 0) {
    return Invalid("must be an absolute URL such as https://host/path");
  }
  const std::string_view scheme = text.substr(0, colon);
  if (!std::all_of(scheme.begin(), scheme.end(), IsSchemeChar)) {
    return Invalid("has an invalid scheme");
  }
  url.scheme = AsciiLower(scheme);
  std::string_view rest = text.substr(colon + 3);

  if (const auto hash = rest.find('#'); hash != std::string_view::npos) {
    url.has_fragment = true;
    url.fragment = std::string(rest.substr(hash + 1));
    rest = rest.substr(0, hash);
  }
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    url.has_query = true;
    url.query = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
  }
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  url.path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));

  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    url.userinfo = std::string(authority.substr(0, at));
    authority = authority.substr(at + 1);
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return Invalid("has an unterminated IPv6 address");
    }
    url.host = AsciiLower(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return Invalid("has garbage after the IPv6 address");
      }
      port_text = after.substr(1);
    }
    if (url.host.empty() || url.host.find_first_not_of("0123456789abcdef:.") != std::string::npos) {
      return Invalid("has an invalid IPv6 address");
    }
  } else {
    const auto port_colon = authority.rfind(':');
    std::string_view host = authority.substr(0, port_colon);
    if (port_colon != std::string_view::npos) {
      port_text = authority.substr(port_colon + 1);
    }
    if (!std::all_of(host.begin(), host.end(), IsHostChar)) {
      return Invalid("has an invalid host name");
    }
    url.host = AsciiLower(host);
  }
  if (url.host.empty()) {
    return Invalid("has no host");
  }
  if (!port_text.empty()) {
    unsigned value = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0
        || value > 65535) {
      return Invalid("has an invalid port");
    }
    url.port = static_cast<std::uint16_t>(value);
  }
  return url;
}

}  // namespace keybridge::core
