// application/x-www-form-urlencoded helpers shared by the fake providers and their tests: the
// encoding Ruby's URI.encode_www_form uses (space as '+'), which is what GitLab (Doorkeeper) and
// GitHub put in redirect query strings and in GitHub's form-encoded token responses.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keybridge::fakes {

using FormFields = std::vector<std::pair<std::string, std::string>>;

// Keeps [A-Za-z0-9*-._], turns ' ' into '+', percent-encodes everything else (upper-case hex).
std::string FormEncode(std::string_view text);
// "a=1&b=two+words", in the given order.
std::string EncodeFormFields(const FormFields& fields);
// Decodes "a=1&b=two+words"; pairs with a malformed escape are dropped, a name without '=' gets "".
FormFields ParseFormFields(std::string_view text);
// First value of `name` in `fields`.
std::optional<std::string> FindField(const FormFields& fields, std::string_view name);
// Appends `fields` to `uri` as a query string, with '?' or '&' as `uri` requires.
std::string AppendQuery(std::string uri, const FormFields& fields);

}  // namespace keybridge::fakes
