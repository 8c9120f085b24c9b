// oauth::ParseTokenResponse (token-endpoint answers of every provider kind: GitLab and OIDC JSON,
// GitHub's form-encoded answers and HTTP-200 errors). First byte: grant kind, Content-Type and
// status; the rest: the body. Properties:
// - success: access, refresh and ID tokens are non-empty VSCHAR text (RFC 6749 Appendix A), the
//   scope is UTF-8 text without control bytes, expiries are not before obtained_at;
// - failure: one of the documented codes, and a message and detail without control bytes (they
//   reach logs and, for admins, answers) that never quote the response's access or refresh token.
#include <nlohmann/json.hpp>
#include <string>

#include "core/clock.h"
#include "fuzz_check.h"
#include "oauth/form.h"
#include "oauth/token_response.h"

namespace {

using keybridge::core::ErrorCode;

bool IsVsText(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) {
      return false;
    }
  }
  return true;
}

bool IsUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = lead < 0x80                    ? 1
                         : lead >= 0xC2 && lead <= 0xDF ? 2
                         : lead >= 0xE0 && lead <= 0xEF ? 3
                         : lead >= 0xF0 && lead <= 0xF4 ? 4
                                                        : 0;
    if (length == 0 || text.size() - i < length) {
      return false;
    }
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0U) != 0x80U) {
        return false;
      }
    }
    i += length;
  }
  return true;
}

// The credential `name` of the response as keybridge reads it: a member of a JSON object body,
// else a field of a form body; "" when there is none.
std::string SecretIn(std::string_view body, std::string_view name) {
  const auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_discarded()) {
    const auto it = json.is_object() ? json.find(name) : json.end();
    return json.is_object() && it != json.end() && it->is_string() ? it->get<std::string>() : "";
  }
  if (const auto fields = keybridge::oauth::FormDecode(body)) {
    if (const std::string* value = keybridge::oauth::FindField(*fields, name)) {
      return *value;
    }
  }
  return {};
}

// At least 12 characters of a token alphabet (RFC 6750 §2.1 b64token), one of them a digit.
bool LooksLikeAToken(std::string_view value) {
  bool digit = false;
  for (const char c : value) {
    digit = digit || (c >= '0' && c <= '9');
    const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                         || std::string_view("-._~+/=").find(c) != std::string_view::npos;
    if (!allowed) {
      return false;
    }
  }
  return digit && value.size() >= 12;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  static constexpr std::string_view kTypes[] = {
      "application/json", "", "application/x-www-form-urlencoded", "text/html; charset=utf-8"};
  static constexpr int kStatuses[] = {200, 400, 401, 503};
  const auto kind = (data[0] & 1U) == 0 ? keybridge::oauth::GrantKind::kCode
                                        : keybridge::oauth::GrantKind::kRefresh;
  keybridge::core::HttpResponse response;
  response.status = kStatuses[(data[0] >> 1U) % 4];
  if (const std::string_view type = kTypes[(data[0] >> 3U) % 4]; !type.empty()) {
    response.headers.push_back({"content-type", std::string(type)});
  }
  if ((data[0] & 0x20U) != 0) {
    response.headers.push_back({"retry-after", "30"});
  }
  response.body = std::string(keybridge::fuzz::AsText(data + 1, size - 1));
  const auto now = keybridge::core::FromUnixSeconds(1'700'000'000);
  auto tokens = keybridge::oauth::ParseTokenResponse(response, now, kind);
  if (tokens.ok()) {
    FUZZ_CHECK(IsVsText(tokens->access_token.Reveal()));
    FUZZ_CHECK(!tokens->refresh_token || IsVsText(tokens->refresh_token->Reveal()));
    FUZZ_CHECK(!tokens->id_token || IsVsText(tokens->id_token->Reveal()));
    FUZZ_CHECK(IsUtf8(tokens->scope) && !keybridge::fuzz::HasControlBytes(tokens->scope));
    FUZZ_CHECK(!tokens->expires_at || *tokens->expires_at >= tokens->obtained_at);
    return 0;
  }
  const auto& error = tokens.error();
  FUZZ_CHECK(
      error.code == ErrorCode::kUnavailable || error.code == ErrorCode::kReauthorizationRequired
      || error.code == ErrorCode::kInvalidArgument || error.code == ErrorCode::kUpstreamFailed);
  FUZZ_CHECK(!keybridge::fuzz::HasControlBytes(error.message));
  FUZZ_CHECK(!keybridge::fuzz::HasControlBytes(error.detail));
  for (const char* secret_field : {"access_token", "refresh_token"}) {
    const std::string secret = SecretIn(response.body, secret_field);
    // Only token-like values count: short ones or plain words also occur in keybridge's own
    // sentences ("authorization", "; keybridge supports..."), which are no leak.
    if (LooksLikeAToken(secret)) {
      FUZZ_CHECK(error.message.find(secret) == std::string::npos);
      FUZZ_CHECK(error.detail.find(secret) == std::string::npos);
    }
  }
  return 0;
}
