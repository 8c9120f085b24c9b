#include "routes/json_body.h"

#include <algorithm>
#include <string_view>

#include "core/text.h"

namespace keybridge::routes {
namespace {

core::Error Invalid(std::string message) {
  return core::MakeError(core::ErrorCode::kInvalidArgument, std::move(message));
}

// The deepest nesting of arrays and objects in `text`, counting brackets outside strings. It runs
// before parsing, so a deeply nested body is refused after one linear scan, before any tree is
// built. Malformed text that passes it still fails parsing.
std::size_t NestingDepth(std::string_view text) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

bool IsJsonMediaType(std::string_view content_type) {
  // RFC 9110 §8.3.1: type "/" subtype *( OWS ";" OWS parameter ), case-insensitive; the
  // parameters (charset) do not matter for JSON.
  std::string_view media_type = content_type.substr(0, content_type.find(';'));
  while (!media_type.empty() && (media_type.back() == ' ' || media_type.back() == '\t')) {
    media_type.remove_suffix(1);
  }
  while (!media_type.empty() && (media_type.front() == ' ' || media_type.front() == '\t')) {
    media_type.remove_prefix(1);
  }
  return core::EqualsIgnoreAsciiCase(media_type, "application/json");
}

core::Result<nlohmann::json> ParseJsonObject(const http::Request& request) {
  const std::string content_type = request.Header("content-type");
  if (!content_type.empty() && !IsJsonMediaType(content_type)) {
    return core::MakeError(
        core::ErrorCode::kBadRequest,
        "Content-Type must be application/json (got \"" + content_type.substr(0, 60) + "\")");
  }
  if (NestingDepth(request.body) > kMaxJsonDepth) {
    return core::MakeError(core::ErrorCode::kBadRequest,
                           "The request body nests arrays and objects deeper than "
                               + std::to_string(kMaxJsonDepth) + " levels.");
  }
  // The non-throwing overload: parse errors, invalid UTF-8 and trailing garbage all discard.
  nlohmann::json body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return core::MakeError(core::ErrorCode::kBadRequest,
                           "The request body is not valid JSON (check quotes, commas and that the "
                           "text is UTF-8).");
  }
  if (!body.is_object()) {
    return core::MakeError(core::ErrorCode::kBadRequest, "The request body must be a JSON object.");
  }
  return body;
}

core::Status RejectUnknownFields(const nlohmann::json& object,
                                 std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (auto name : allowed) {
        list += list.empty() ? "" : ", ";
        list += name;
      }
      return Invalid("unknown field '" + key.substr(0, 60) + "'; allowed fields are " + list);
    }
  }
  return core::OkStatus();
}

core::Result<std::optional<std::string>> OptionalString(const nlohmann::json& object,
                                                        const char* field) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) {
    return std::optional<std::string>();
  }
  if (!it->is_string()) {
    return Invalid(std::string("field '") + field + "' must be a string");
  }
  return std::optional<std::string>(it->get<std::string>());
}

core::Result<std::string> RequiredString(const nlohmann::json& object, const char* field) {
  KEYBRIDGE_ASSIGN_OR_RETURN(auto value, OptionalString(object, field));
  if (!value) {
    return Invalid(std::string("field '") + field + "' is required");
  }
  return *value;
}

core::Result<std::optional<bool>> OptionalBool(const nlohmann::json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) {
    return std::optional<bool>();
  }
  if (!it->is_boolean()) {
    return Invalid(std::string("field '") + field + "' must be true or false");
  }
  return std::optional<bool>(it->get<bool>());
}

std::string Dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

http::Response JsonResponse(int status, const nlohmann::json& value) {
  return http::Response::Json(status, Dump(value));
}

}  // namespace keybridge::routes
