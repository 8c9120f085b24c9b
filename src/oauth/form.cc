#include "oauth/form.h"

#include <algorithm>

namespace keybridge::oauth {
namespace {

constexpr std::string_view kHexDigits = "0123456789ABCDEF";

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
         || c == '.' || c == '_' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
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
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && plus_as_space) {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) {  // fewer than two characters follow
        return std::nullopt;
      }
      const int high = HexValue(text[i + 1]);
      const int low = HexValue(text[i + 2]);
      if (high < 0 || low < 0) {
        return std::nullopt;
      }
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
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
