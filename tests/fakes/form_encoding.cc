#include "fakes/form_encoding.h"

#include "http/message.h"

namespace keybridge::fakes {

std::string FormEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                      || c == '*' || c == '-' || c == '.' || c == '_';
    if (keep) {
      out.push_back(c);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[byte >> 4U]);
      out.push_back(kHex[byte & 0x0FU]);
    }
  }
  return out;
}

std::string EncodeFormFields(const FormFields& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) {
      out.push_back('&');
    }
    out += FormEncode(name) + "=" + FormEncode(value);
  }
  return out;
}

FormFields ParseFormFields(std::string_view text) {
  http::Request carrier;  // reuses the server's query-string decoder
  carrier.raw_query = std::string(text);
  return carrier.QueryParams();
}

std::optional<std::string> FindField(const FormFields& fields, std::string_view name) {
  for (const auto& [key, value] : fields) {
    if (key == name) {
      return value;
    }
  }
  return std::nullopt;
}

std::string AppendQuery(std::string uri, const FormFields& fields) {
  if (fields.empty()) {
    return uri;
  }
  const char separator = uri.find('?') == std::string::npos ? '?' : '&';
  uri.push_back(separator);
  return uri + EncodeFormFields(fields);
}

}  // namespace keybridge::fakes
