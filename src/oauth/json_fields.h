// Small, exception-free accessors over nlohmann::json for the oauth/ response parsers. Internal to
// oauth/: public headers never include it, so the JSON library stays an implementation detail.
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace keybridge::oauth::internal {

using Json = nlohmann::json;

// The body as a JSON object, or std::nullopt (malformed JSON, or valid JSON that is no object).
inline std::optional<Json> ParseJsonObject(std::string_view body) {
  Json parsed = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return std::nullopt;
  }
  return parsed;
}

// Pointer to the string member `key`, or nullptr when absent, null or of another type.
inline const std::string* StringMember(const Json& object, const char* key) {
  if (!object.is_object()) {
    return nullptr;
  }
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) {
    return nullptr;
  }
  return it->get_ptr<const std::string*>();
}

inline std::string StringMemberOr(const Json& object, const char* key,
                                  const std::string& fallback = {}) {
  const std::string* value = StringMember(object, key);
  return value != nullptr ? *value : fallback;
}

// The integer member `key` (a JSON integer, not a float or a string), or std::nullopt.
inline std::optional<std::int64_t> IntegerMember(const Json& object, const char* key) {
  if (!object.is_object()) {
    return std::nullopt;
  }
  const auto it = object.find(key);
  if (it == object.end()) {
    return std::nullopt;
  }
  if (it->is_number_unsigned()) {
    const auto value = it->get<std::uint64_t>();
    if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(value);
  }
  if (it->is_number_integer()) {
    return it->get<std::int64_t>();
  }
  return std::nullopt;
}

// Serialises without throwing: invalid UTF-8 is replaced by U+FFFD instead of raising.
inline std::string DumpCompact(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace keybridge::oauth::internal
