#include "oauth/token_response.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "core/text.h"
#include "oauth/form.h"
#include "oauth/json_fields.h"

namespace keybridge::oauth {
namespace {

using internal::Json;
// A scalar member of the response; numbers and booleans in decimal/text form.
struct Field {
  std::string text;
  bool is_string = true;  // false for JSON numbers and booleans
};
// Null, arrays and objects are left out.
using FieldMap = std::map<std::string, Field, std::less<>>;

// Lifetimes are clamped so that now + lifetime cannot overflow system_clock (nanoseconds, about
// +-292 years); no provider issues tokens for longer.
constexpr std::int64_t kMaxLifetimeSeconds = std::int64_t{50} * 365 * 24 * 3600;
constexpr std::string_view kInvalidNumber = "\x01invalid";

core::Error Upstream(std::string message, std::string detail = {}) {
  return core::MakeError(core::ErrorCode::kUpstreamFailed, std::move(message), std::move(detail));
}

// The member `name` if it is a string (every form value is one), else nullptr.
const std::string* Find(const FieldMap& fields, std::string_view name) {
  const auto it = fields.find(name);
  return it == fields.end() || !it->second.is_string ? nullptr : &it->second.text;
}

// The member `name` whatever its scalar type, for lifetimes sent as numbers or strings.
const std::string* FindScalar(const FieldMap& fields, std::string_view name) {
  const auto it = fields.find(name);
  return it == fields.end() ? nullptr : &it->second.text;
}

std::optional<FieldMap> FieldsFromJson(std::string_view body) {
  auto json = internal::ParseJsonObject(body);
  if (!json) {
    return std::nullopt;
  }
  FieldMap fields;
  for (const auto& [name, value] : json->items()) {
    if (value.is_string()) {
      fields[name] = Field{value.get<std::string>(), true};
    } else if (value.is_number_unsigned()) {
      fields[name] = Field{std::to_string(value.get<std::uint64_t>()), false};
    } else if (value.is_number_integer()) {
      fields[name] = Field{std::to_string(value.get<std::int64_t>()), false};
    } else if (value.is_number_float()) {
      // 7200.0 is a lifetime too; NaN, negative or absurd values are rejected later.
      const double number = value.get<double>();
      fields[name] = Field{std::isfinite(number) && number >= 0 && number < 1e15
                               ? std::to_string(static_cast<std::int64_t>(number))
                               : std::string(kInvalidNumber),
                           false};
    } else if (value.is_boolean()) {
      fields[name] = Field{value.get<bool>() ? "true" : "false", false};
    }
  }
  return fields;
}

std::optional<FieldMap> FieldsFromForm(std::string_view body) {
  auto decoded = FormDecode(body);
  if (!decoded) {
    return std::nullopt;
  }
  FieldMap fields;
  for (auto& [name, value] : *decoded) {
    fields.emplace(std::move(name), Field{std::move(value), true});  // the first one wins
  }
  return fields;
}

// A GitHub-style form body: name=value pairs of printable ASCII without spaces or markup. An HTML
// page or a plain-text error never looks like this.
bool LooksLikeForm(std::string_view body) {
  if (body.empty() || body.find('=') == std::string_view::npos) {
    return false;
  }
  return std::all_of(body.begin(), body.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != '<' && c != '>' && c != '"' && c != '{';
  });
}

// Content-Type decides; without a known one the body is sniffed (GitHub's default answer is
// form-encoded, everyone else sends JSON).
std::optional<FieldMap> ReadFields(const core::HttpResponse& response) {
  const std::string content_type = core::AsciiLower(response.Header("content-type"));
  if (content_type.find("json") != std::string::npos) {
    return FieldsFromJson(response.body);
  }
  if (content_type.find("application/x-www-form-urlencoded") != std::string::npos) {
    return FieldsFromForm(response.body);
  }
  if (content_type.find("html") != std::string::npos) {
    return std::nullopt;
  }
  const auto first = response.body.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && response.body[first] == '{') {
    return FieldsFromJson(response.body);
  }
  if (LooksLikeForm(response.body)) {
    return FieldsFromForm(response.body);
  }
  return std::nullopt;
}

// RFC 6749 §5.2 restricts `error` and `error_description` to %x20-21 / %x23-5B / %x5D-7E; anything
// else is dropped so a hostile provider cannot inject control characters into logs.
std::string Sanitize(std::string_view text, std::size_t max_length) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u <= 0x7e && c != '"' && c != '\\') {
      out += c;
    }
    if (out.size() >= max_length) {
      break;
    }
  }
  return out;
}

// Whether `text` quotes a credential of the same response, also once Sanitize has dropped the
// bytes between its parts (found by fuzzing: "tok<NUL>en" quoted "token"), before any truncation.
bool QuotesCredential(const FieldMap& fields, std::string_view text) {
  const std::string cleaned = Sanitize(text, std::string::npos);
  for (const char* secret_field : {"access_token", "refresh_token", "id_token", "code"}) {
    const std::string* secret = Find(fields, secret_field);
    if (secret != nullptr && !secret->empty()
        && (text.find(*secret) != std::string_view::npos
            || cleaned.find(Sanitize(*secret, std::string::npos)) != std::string::npos)) {
      return true;
    }
  }
  return false;
}

// Only `error`, `error_description` and a short token_type of a response may reach a message, and
// a description is dropped if it quotes any credential of the same response or looks like it
// carries a token.
std::string SafeDescription(const FieldMap& fields) {
  const std::string* description = Find(fields, "error_description");
  if (description == nullptr || QuotesCredential(fields, *description)) {
    return {};
  }
  // GitHub and GitLab token prefixes, Google's access ("ya29.") and refresh ("1//") tokens and
  // Dropbox's short-lived access tokens ("sl.").
  for (std::string_view prefix :
       {"ghu_", "ghr_", "gho_", "ghs_", "ghp_", "github_pat_", "glpat-", "ya29.", "1//", "sl."}) {
    if (description->find(prefix) != std::string::npos) {
      return {};
    }
  }
  return Sanitize(*description, 300);
}

std::string RetryDetail(const core::HttpResponse& response) {
  const std::string retry_after = response.Header("retry-after");
  const bool numeric = !retry_after.empty() && retry_after.size() <= 10
                       && std::all_of(retry_after.begin(), retry_after.end(),
                                      [](char c) { return c >= '0' && c <= '9'; });
  return numeric ? "retry_after=" + retry_after : "http_" + std::to_string(response.status);
}

// The provider's numeric Retry-After (RFC 9110 §10.2.3), carried on the error so the answer to
// our own caller can pass it on and the refresh back-off can honour it.
core::Error WithProviderRetryAfter(core::Error error, const core::HttpResponse& response) {
  const std::string retry_after = response.Header("retry-after");
  if (!retry_after.empty() && retry_after.size() <= 9
      && std::all_of(retry_after.begin(), retry_after.end(),
                     [](char c) { return c >= '0' && c <= '9'; })) {
    error.WithRetryAfter(std::chrono::seconds(std::stoll(retry_after)));
  }
  return error;
}

bool IsOneOf(std::string_view value, std::initializer_list<std::string_view> options) {
  return std::find(options.begin(), options.end(), value) != options.end();
}

core::Error MapOAuthError(const std::string& raw_error, const FieldMap& fields, GrantKind kind,
                          const core::HttpResponse& response) {
  // Found by fuzzing: an `error` (or token_type, below) that quotes the response's own token
  // carried it into the message and the logged detail.
  const std::string error =
      QuotesCredential(fields, raw_error) ? "unknown_error" : Sanitize(raw_error, 64);
  if (kind == GrantKind::kRefresh
      && IsOneOf(error, {"invalid_grant", "bad_refresh_token", "unauthorized_client"})) {
    // RFC 9700 §4.14: after rotation an invalid_grant may mean a lost response or theft. Never
    // retry with an older token; the user must reconnect.
    return core::MakeError(core::ErrorCode::kReauthorizationRequired,
                           "the provider no longer accepts the stored refresh token (revoked, "
                           "expired or already used); reconnect the integration",
                           error);
  }
  if (kind == GrantKind::kCode && IsOneOf(error, {"invalid_grant", "bad_verification_code"})) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           "the authorization code was rejected by the provider (expired, already "
                           "used, or issued for another redirect URI or PKCE verifier); start "
                           "the connection again",
                           error);
  }
  if (IsOneOf(error, {"invalid_client", "incorrect_client_credentials"})) {
    return Upstream(
        "the provider rejected keybridge's client credentials: an administrator must "
        "check the integration's client_id and client_secret",
        error);
  }
  if (error == "redirect_uri_mismatch") {
    return Upstream(
        "the provider says keybridge's callback URL is not registered for this "
        "application: an administrator must add it to the provider's app settings",
        error);
  }
  if (IsOneOf(error, {"temporarily_unavailable", "server_error"})) {
    std::string detail = error;
    if (!response.Header("retry-after").empty()) {
      detail = RetryDetail(response);
    }
    return WithProviderRetryAfter(
        core::MakeError(core::ErrorCode::kUnavailable,
                        "the provider's token endpoint is temporarily unavailable; try again "
                        "later",
                        std::move(detail)),
        response);
  }
  std::string message = "the provider's token endpoint refused the request (" + error + ")";
  if (const std::string description = SafeDescription(fields); !description.empty()) {
    message += ": " + description;
  }
  return Upstream(std::move(message), error);
}

// RFC 6749 Appendix A.12/A.17: tokens are VSCHAR (%x20-7E). Anything else (CR, LF, NUL,
// non-ASCII) would let a hostile provider inject headers where the token is used.
bool IsTokenText(std::string_view token) {
  return !token.empty() && std::all_of(token.begin(), token.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) <= 0x7e;
  });
}

// Whether `text` is well-formed UTF-8 (RFC 3629 §4: no overlong forms, no surrogates, nothing past
// U+10FFFF).
bool IsUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead < 0x80) {
      ++i;
      continue;
    }
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      low = lead == 0xE0 ? 0xA0 : 0x80;
      high = lead == 0xED ? 0x9F : 0xBF;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      low = lead == 0xF0 ? 0x90 : 0x80;
      high = lead == 0xF4 ? 0x8F : 0xBF;
    } else {
      return false;
    }
    if (text.size() - i < length) {
      return false;
    }
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if (next < (k == 1 ? low : 0x80) || next > (k == 1 ? high : 0xBF)) {
        return false;
      }
    }
    i += length;
  }
  return true;
}

// expires_in and refresh_token_expires_in: absent -> nullopt; a non-negative integer (number or
// numeric string, RFC 6749 §5.1 allows either in practice) -> clamped seconds; else an error.
core::Result<std::optional<std::int64_t>> Lifetime(const FieldMap& fields, const char* name) {
  const std::string* text = FindScalar(fields, name);
  if (text == nullptr || text->empty()) {
    return std::optional<std::int64_t>();
  }
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec == std::errc::result_out_of_range && end == text->data() + text->size()
      && text->front() != '-') {
    value = kMaxLifetimeSeconds;
  } else if (ec != std::errc() || end != text->data() + text->size() || value < 0) {
    return Upstream("the provider's token response has a malformed " + std::string(name),
                    std::string("malformed_") + name);
  }
  return std::optional<std::int64_t>(std::min(value, kMaxLifetimeSeconds));
}

core::Result<core::TokenSet> TokenSetFromFields(const FieldMap& fields, core::TimePoint now) {
  const std::string* access_token = Find(fields, "access_token");
  if (access_token == nullptr || !IsTokenText(*access_token)) {
    return Upstream("the provider's token response has no usable access_token",
                    "missing_access_token");
  }
  const std::string* token_type = Find(fields, "token_type");
  if (token_type == nullptr || token_type->empty()) {
    return Upstream("the provider's token response has no token_type", "missing_token_type");
  }
  // RFC 6749 §7.1: a client must not use a token type it does not understand; everything here
  // sends "Authorization: Bearer".
  if (core::AsciiLower(*token_type) != "bearer") {
    const std::string named = QuotesCredential(fields, *token_type)
                                  ? "an unsupported type"
                                  : "type \"" + Sanitize(*token_type, 30) + "\"";
    return Upstream(
        "the provider issued a token of " + named + "; keybridge supports only bearer tokens",
        "unsupported_token_type");
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(const auto expires_in, Lifetime(fields, "expires_in"));
  KEYBRIDGE_ASSIGN_OR_RETURN(const auto refresh_expires_in,
                             Lifetime(fields, "refresh_token_expires_in"));

  core::TokenSet tokens;
  tokens.access_token = core::Secret(*access_token);
  tokens.token_type = "bearer";
  tokens.obtained_at = now;
  if (const std::string* refresh = Find(fields, "refresh_token"); refresh && !refresh->empty()) {
    if (!IsTokenText(*refresh)) {
      return Upstream("the provider's token response has a malformed refresh_token",
                      "malformed_refresh_token");
    }
    tokens.refresh_token = core::Secret(*refresh);
  }
  if (const std::string* scope = Find(fields, "scope"); scope != nullptr) {
    // The scope is stored and shown as it came; broken UTF-8 or control bytes could only be kept
    // by rewriting it (JSON output replaces them), so such a response is refused instead. RFC 6749
    // §3.3 allows printable ASCII only.
    if (!IsUtf8(*scope) || std::any_of(scope->begin(), scope->end(), [](char c) {
          return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
        })) {
      return Upstream(
          "the provider's token response has a scope that is not valid UTF-8 text; keybridge "
          "refuses it rather than store a rewritten scope",
          "malformed_scope");
    }
    tokens.scope = *scope;
  }
  if (expires_in) {
    tokens.expires_in = *expires_in;
    tokens.expires_at = now + core::Seconds(*expires_in);
  }
  if (refresh_expires_in && tokens.refresh_token) {
    tokens.refresh_token_expires_at = now + core::Seconds(*refresh_expires_in);
  }
  if (const std::string* id_token = Find(fields, "id_token"); id_token && !id_token->empty()) {
    if (!IsTokenText(*id_token)) {
      return Upstream("the provider's token response has a malformed id_token",
                      "malformed_id_token");
    }
    tokens.id_token = core::Secret(*id_token);
  }
  // created_at (GitLab) is not used for expiry (computed from our own clock at receipt); it is
  // kept among the extras.
  return tokens;
}

// Members keybridge reads itself (or computes, like expires_at); everything else is an extra.
bool IsInterpretedMember(std::string_view name) {
  for (std::string_view known :
       {"access_token", "refresh_token", "token_type", "scope", "expires_in", "expires_at",
        "id_token", "error", "error_description", "error_uri"}) {
    if (name == known) {
      return true;
    }
  }
  return false;
}

// Extras larger than this are dropped whole: they are informational, and a provider (or a
// man-in-the-middle of a misconfigured one) must not grow every stored token set without bound.
constexpr std::size_t kMaxExtraFieldsBytes = 4096;

// The response's extra members as one JSON object's text ("" if none): JSON members whatever their
// type (Zenodo's `user` is an object), form members as strings.
std::string ExtraFields(const core::HttpResponse& response) {
  Json extras = Json::object();
  if (auto json = internal::ParseJsonObject(response.body)) {
    for (auto& [name, value] : json->items()) {
      if (!IsInterpretedMember(name)) {
        extras[name] = std::move(value);
      }
    }
  } else if (auto form = FieldsFromForm(response.body)) {
    for (auto& [name, field] : *form) {
      if (!IsInterpretedMember(name)) {
        extras[name] = std::move(field.text);
      }
    }
  }
  if (extras.empty()) {
    return {};
  }
  std::string text = extras.dump(-1, ' ', false, Json::error_handler_t::replace);
  return text.size() > kMaxExtraFieldsBytes ? std::string() : text;
}

}  // namespace

core::Result<core::TokenSet> ParseTokenResponse(const core::HttpResponse& response,
                                                core::TimePoint now, GrantKind kind) {
  if (response.status == 429 || response.status >= 500) {
    return WithProviderRetryAfter(
        core::MakeError(core::ErrorCode::kUnavailable,
                        "the provider's token endpoint is temporarily unavailable (HTTP "
                            + std::to_string(response.status) + "); try again later",
                        RetryDetail(response)),
        response);
  }
  const auto fields = ReadFields(response);
  // GitHub reports errors with HTTP 200, so `error` is checked before the status and before
  // access_token (GitHub docs: "Troubleshooting OAuth App access token request errors").
  if (fields) {
    if (const std::string* error = Find(*fields, "error"); error != nullptr && !error->empty()) {
      return MapOAuthError(*error, *fields, kind, response);
    }
  }
  if (response.status == 401) {
    // RFC 6749 §5.2: 401 is reserved for failed client authentication (e.g. a Basic header the
    // server rejected without a JSON body).
    return Upstream(
        "the provider rejected keybridge's client credentials (HTTP 401): an "
        "administrator must check the integration's client_id and client_secret",
        "http_401");
  }
  if (response.status < 200 || response.status > 299) {
    return Upstream("the provider's token endpoint answered HTTP " + std::to_string(response.status)
                        + " without an OAuth error",
                    "http_" + std::to_string(response.status));
  }
  if (!fields) {
    return Upstream(
        "the provider's token endpoint answered with something that is neither JSON "
        "nor form-encoded (an HTML page?)",
        "unreadable_body");
  }
  KEYBRIDGE_ASSIGN_OR_RETURN(core::TokenSet tokens,
                             TokenSetFromFields(*fields, std::chrono::floor<core::Seconds>(now)));
  tokens.extra_fields_json = ExtraFields(response);
  return tokens;
}

}  // namespace keybridge::oauth
