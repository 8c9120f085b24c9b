// Strict JSON request-body reading shared by every route: a clear 400 for bodies that are not
// JSON, a 422 naming the field for a wrong type or an unknown field (Renku's schemas forbid
// additional properties).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "http/message.h"

namespace keybridge::routes {

// No request body needs more than a few levels; anything deeper is refused before parsing.
inline constexpr std::size_t kMaxJsonDepth = 32;

// kBadRequest unless the body is a JSON object (valid UTF-8, nothing trailing) nested at most
// kMaxJsonDepth levels (the outer object is level 1).
core::Result<nlohmann::json> ParseJsonObject(const http::Request& request);

// Whether a Content-Type value names exactly application/json (any case, any parameters), not
// merely contains it ("text/plain; x=application/json" does not).
bool IsJsonMediaType(std::string_view content_type);
// kInvalidArgument naming the first key not in `allowed`.
core::Status RejectUnknownFields(const nlohmann::json& object,
                                 std::initializer_list<std::string_view> allowed);
// Absent or null -> nullopt; a non-string -> kInvalidArgument naming the field.
core::Result<std::optional<std::string>> OptionalString(const nlohmann::json& object,
                                                        const char* field);
core::Result<std::string> RequiredString(const nlohmann::json& object, const char* field);
core::Result<std::optional<bool>> OptionalBool(const nlohmann::json& object, const char* field);

// Serialises without ever throwing: invalid UTF-8 (which input validation should already have
// refused) is replaced rather than turned into a 500.
std::string Dump(const nlohmann::json& value);
http::Response JsonResponse(int status, const nlohmann::json& value);

}  // namespace keybridge::routes
