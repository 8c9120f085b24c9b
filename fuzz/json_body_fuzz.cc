// routes::ParseJsonObject (every JSON request body) and routes::Dump. First byte: Content-Type
// choice; the rest: the body. Properties of an accepted body: it is an object nested at most
// kMaxJsonDepth levels (measured on the parsed value, not on the text), its required/optional
// field readers never throw, and Dump's output parses back to the same value.
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_check.h"
#include "routes/json_body.h"

namespace {

std::size_t Depth(const nlohmann::json& value) {
  if (!value.is_object() && !value.is_array()) {
    return 0;
  }
  std::size_t deepest = 0;
  for (const auto& item : value) {
    deepest = std::max(deepest, Depth(item));
  }
  return deepest + 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  static constexpr std::string_view kTypes[] = {"application/json", "",
                                                "application/json; charset=utf-8", "text/plain"};
  keybridge::http::Request request;
  request.method = "POST";
  if (const std::string_view type = kTypes[data[0] % 4]; !type.empty()) {
    request.headers.push_back({"content-type", std::string(type)});
  }
  request.body = std::string(keybridge::fuzz::AsText(data + 1, size - 1));
  auto parsed = keybridge::routes::ParseJsonObject(request);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.error().code == keybridge::core::ErrorCode::kBadRequest);
    return 0;
  }
  FUZZ_CHECK(parsed->is_object());
  FUZZ_CHECK(Depth(*parsed) <= keybridge::routes::kMaxJsonDepth);
  for (const char* field : {"id", "url", "name", "enabled"}) {
    (void)keybridge::routes::OptionalString(*parsed, field);
    (void)keybridge::routes::RequiredString(*parsed, field);
    (void)keybridge::routes::OptionalBool(*parsed, field);
  }
  (void)keybridge::routes::RejectUnknownFields(*parsed, {"id", "url"});
  const std::string dumped = keybridge::routes::Dump(*parsed);
  const auto again = nlohmann::json::parse(dumped, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(!again.is_discarded());
  FUZZ_CHECK(again == *parsed);
  return 0;
}
