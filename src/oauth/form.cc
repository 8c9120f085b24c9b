#include "oauth/form.h"

#include <algorithm>

#include "core/url.h"

namespace keybridge::oauth {
namespace {

constexpr std::string_view kHexDigits = "0123456789ABCDEF";

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
         || c == '.' || c == '_' || c == '~';
}

std::string Encode(std::string_view text, bool space_as_plus) {
  std::string out;
  out.reserve(text.size() * 3);
  for (char c : text) {
    if (IsUnreserved(c)) {
      out += c;
    } else if (c == ' ' && space_as_plus) {
      out += '+';
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kHexDigits[byte >> 4U];
      out += kHexDigits[byte & 0x0FU];
    }
  }
  return out;
}

}  // namespace

std::string PercentEncode(std::string_view text) {
  return Encode(text, false);
}

std::string FormEncodeComponent(std::string_view text) {
  return Encode(text, true);
}

std::string FormEncode(const FormFields& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) {
      out += '&';
    }
    out += FormEncodeComponent(name);
    out += '=';
    out += FormEncodeComponent(value);
  }
  return out;
}

std::optional<std::string> PercentDecode(std::string_view text, bool plus_as_space) {
  return core::PercentDecode(text, plus_as_space);
}

std::optional<FormFields> FormDecode(std::string_view body) {
  FormFields fields;
  std::size_t start = 0;
  while (start <= body.size()) {
    const std::size_t end = std::min(body.find('&', start), body.size());
    const std::string_view piece = body.substr(start, end - start);
    start = end + 1;
    if (piece.empty()) {
      continue;
    }
    const std::size_t eq = piece.find('=');
    auto name = PercentDecode(piece.substr(0, eq), true);
    auto value = eq == std::string_view::npos ? std::optional<std::string>(std::string())
                                              : PercentDecode(piece.substr(eq + 1), true);
    if (!name || !value) {
      return std::nullopt;
    }
    fields.emplace_back(std::move(*name), std::move(*value));
  }
  return fields;
}

const std::string* FindField(const FormFields& fields, std::string_view name) {
  for (const auto& [field_name, value] : fields) {
    if (field_name == name) {
      return &value;
    }
  }
  return nullptr;
}

}  // namespace keybridge::oauth
