// http::CookieValue (the browser session and CSRF cookies) and http::SetCookieHeader. The input is
// a Cookie header value. Properties: a found value never contains ';' and is preceded in the
// header by exactly "<name>=" at the start of a pair; the cookie keybridge writes
// (SetCookieHeader) for a value of cookie-octets (RFC 6265 §4.1.1) reads back unchanged from any
// header that carries it as its own pair, whatever the fuzzed pairs around it.
#include <string>

#include "fuzz_check.h"
#include "http/message.h"

namespace {

bool IsCookieOctet(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u <= 0x2B) || (u >= 0x2D && u <= 0x3A)
         || (u >= 0x3C && u <= 0x5B) || (u >= 0x5D && u <= 0x7E);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view header = keybridge::fuzz::AsText(data, size);
  for (const std::string_view name : {"kb_session", "kb_csrf", "kb_flow"}) {
    const auto value = keybridge::http::CookieValue(header, name);
    if (!value) {
      continue;
    }
    FUZZ_CHECK(value->find(';') == std::string::npos);
    const std::string pair = std::string(name) + "=" + *value;
    const auto at = header.find(pair);
    FUZZ_CHECK(at != std::string_view::npos);
  }
  // A value we would write, surrounded by the fuzzed header's pairs.
  std::string value;
  for (const char c : header) {
    if (IsCookieOctet(c)) {
      value += c;
    }
  }
  const std::string set = keybridge::http::SetCookieHeader("kb_session", value, {});
  FUZZ_CHECK(set.starts_with("kb_session=" + value + ";"));
  const std::string sent = "kb_session=" + value + "; " + std::string(header);
  FUZZ_CHECK(keybridge::http::CookieValue(sent, "kb_session") == value);
  return 0;
}
