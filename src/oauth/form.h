// application/x-www-form-urlencoded (WHATWG URL Standard, section
// "application/x-www-form-urlencoded") helpers: the oauth/ request builders use them for
// token-endpoint bodies, the response parsers for GitHub's form-encoded token answers. Plain
// percent-encoding (RFC 3986 §2.1, query components and path segments) is core::PercentEncode /
// core::PercentDecode in core/url.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keybridge::oauth {

// Ordered name/value pairs; order is kept so request bodies are deterministic (golden tests).
using FormFields = std::vector<std::pair<std::string, std::string>>;

// One form component: like core::PercentEncode, but ' ' becomes '+'.
std::string FormEncodeComponent(std::string_view text);

// "a=1&b=2" with both names and values form-encoded.
std::string FormEncode(const FormFields& fields);

// Parses "a=1&b=&c" (empty pieces are skipped; a piece without '=' has an empty value).
// std::nullopt on a malformed escape.
std::optional<FormFields> FormDecode(std::string_view body);

// The value of the first field called `name`, or nullptr.
const std::string* FindField(const FormFields& fields, std::string_view name);

}  // namespace keybridge::oauth
