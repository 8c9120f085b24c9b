#include "oauth/form.h"

#include <algorithm>

#include "core/url.h"

namespace keybridge::oauth {

std::string FormEncodeComponent(std::string_view text) {
  // core::PercentEncode writes a space, and only a space, as "%20" ('%' itself becomes "%25").
  std::string out = core::PercentEncode(text);
  for (std::size_t at = out.find("%20"); at != std::string::npos; at = out.find("%20", at + 1)) {
    out.replace(at, 3, "+");
  }
  return out;
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
    auto name = core::PercentDecode(piece.substr(0, eq), true);
    auto value = eq == std::string_view::npos ? std::optional<std::string>(std::string())
                                              : core::PercentDecode(piece.substr(eq + 1), true);
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
