// oauth::FormDecode / FormEncode (application/x-www-form-urlencoded token answers, GitHub's
// default). Properties: a decoded body, encoded again, decodes to the same fields in the same
// order; FormEncodeComponent writes only unreserved characters, '+' and %XX escapes.
#include <string>

#include "fuzz_check.h"
#include "oauth/form.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body = keybridge::fuzz::AsText(data, size);
  const std::string component = keybridge::oauth::FormEncodeComponent(body);
  for (const char c : component) {
    FUZZ_CHECK((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
               || std::string_view("-._~*+%").find(c) != std::string_view::npos);
  }
  const auto fields = keybridge::oauth::FormDecode(body);
  if (!fields) {
    return 0;
  }
  const auto again = keybridge::oauth::FormDecode(keybridge::oauth::FormEncode(*fields));
  FUZZ_CHECK(again && *again == *fields);
  for (const auto& [name, value] : *fields) {
    const std::string* found = keybridge::oauth::FindField(*fields, name);
    FUZZ_CHECK(found != nullptr);
  }
  return 0;
}
