// Percent-encoding (RFC 3986 §2) and application/x-www-form-urlencoded (WHATWG URL §5) helpers:
// the oauth/ request builders use them for query strings and token-endpoint bodies, the response
// parsers for GitHub's form-encoded token answers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keybridge::oauth {

// Ordered name/value pairs; order is kept so request bodies are deterministic (golden tests).
using FormFields = std::vector<std::pair<std::string, std::string>>;

// Keeps RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~) and encodes every other byte as
// %XX (upper-case hex), including ' ' as "%20" and '/' as "%2F". Safe for a query component
// and for a single path segment.
std::string PercentEncode(std::string_view text);

// One form component: like PercentEncode, but ' ' becomes '+'.
std::string FormEncodeComponent(std::string_view text);

// "a=1&b=2" with both names and values form-encoded.
std::string FormEncode(const FormFields& fields);

// Decodes %XX sequences; with `plus_as_space`, '+' becomes ' '. std::nullopt on a malformed
// escape ('%' not followed by two hex digits).
std::optional<std::string> PercentDecode(std::string_view text, bool plus_as_space);

// Parses "a=1&b=&c" (empty pieces are skipped; a piece without '=' has an empty value).
// std::nullopt on a malformed escape.
std::optional<FormFields> FormDecode(std::string_view body);

// The value of the first field called `name`, or nullptr.
const std::string* FindField(const FormFields& fields, std::string_view name);

}  // namespace keybridge::oauth
