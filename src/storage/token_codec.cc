#include "storage/token_codec.h"

#include <nlohmann/json.hpp>

namespace keybridge::storage {
namespace {

using nlohmann::json;

void PutTime(json& out, const char* key, const std::optional<core::TimePoint>& t) {
  if (t) {
    out[key] = core::ToUnixSeconds(*t);
  }
}

std::optional<core::TimePoint> GetTime(const json& in, const char* key) {
  auto it = in.find(key);
  if (it == in.end() || !it->is_number_integer()) {
    return std::nullopt;
  }
  return core::FromUnixSeconds(it->get<std::int64_t>());
}

std::optional<core::Secret> GetSecret(const json& in, const char* key) {
  auto it = in.find(key);
  if (it == in.end() || !it->is_string()) {
    return std::nullopt;
  }
  return core::Secret(it->get<std::string>());
}

}  // namespace

std::string EncodeTokenSet(const core::TokenSet& token) {
  json out = {{"v", 1},
              {"access_token", token.access_token.Reveal()},
              {"token_type", token.token_type},
              {"scope", token.scope},
              {"obtained_at", core::ToUnixSeconds(token.obtained_at)}};
  if (token.refresh_token) {
    out["refresh_token"] = token.refresh_token->Reveal();
  }
  if (token.id_token) {
    out["id_token"] = token.id_token->Reveal();
  }
  if (token.expires_in) {
    out["expires_in"] = *token.expires_in;
  }
  PutTime(out, "expires_at", token.expires_at);
  PutTime(out, "refresh_token_expires_at", token.refresh_token_expires_at);
  if (!token.extra_fields_json.empty()) {
    json extras = json::parse(token.extra_fields_json, nullptr, false);
    if (extras.is_object()) {
      out["extra"] = std::move(extras);
    }
  }
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

core::Result<core::TokenSet> DecodeTokenSet(std::string_view text) {
  json in = json::parse(text, nullptr, false);
  if (in.is_discarded() || !in.is_object() || !in.contains("access_token")
      || !in["access_token"].is_string()) {
    return core::MakeError(core::ErrorCode::kInternal, "stored token set is malformed");
  }
  core::TokenSet token;
  token.access_token = core::Secret(in["access_token"].get<std::string>());
  token.token_type = in.value("token_type", std::string("bearer"));
  token.scope = in.value("scope", std::string());
  token.refresh_token = GetSecret(in, "refresh_token");
  token.id_token = GetSecret(in, "id_token");
  if (auto it = in.find("expires_in"); it != in.end() && it->is_number_integer()) {
    token.expires_in = it->get<std::int64_t>();
  }
  token.expires_at = GetTime(in, "expires_at");
  token.refresh_token_expires_at = GetTime(in, "refresh_token_expires_at");
  token.obtained_at = GetTime(in, "obtained_at").value_or(core::TimePoint{});
  if (auto it = in.find("extra"); it != in.end() && it->is_object()) {
    token.extra_fields_json = it->dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return token;
}

}  // namespace keybridge::storage
