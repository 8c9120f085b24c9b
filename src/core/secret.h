// Secret: a string that must never be logged or serialised by accident (tokens, client secrets,
// authorization codes, PKCE verifiers). It has no operator<< and no implicit conversion; the only
// way out is Reveal(), which is easy to grep for in review.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace keybridge::core {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}

  const std::string& Reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  // For log lines and debug output.
  static constexpr std::string_view kRedacted = "****";

  friend bool operator==(const Secret&, const Secret&) = default;

 private:
  std::string value_;
};

}  // namespace keybridge::core
