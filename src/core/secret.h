// Secret: a string that must never be logged or serialised by accident (tokens, client secrets,
// authorization codes, PKCE verifiers). It has no operator<< and no implicit conversion; the only
// way out is Reveal(), which is easy to grep for in review. Its memory is wiped when it is
// destroyed (so a cache evicting a token set leaves no plaintext behind in freed memory).
#pragma once

#include <cstring>  // explicit_bzero (glibc, in the global namespace)
#include <string>
#include <string_view>
#include <utility>

namespace keybridge::core {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret(Secret&&) noexcept = default;
  Secret& operator=(const Secret& other) {
    if (this != &other) {
      Wipe();
      value_ = other.value_;
    }
    return *this;
  }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      Wipe();
      value_ = std::move(other.value_);
    }
    return *this;
  }
  // A moved-from string may keep its short-string bytes: those are wiped here too.
  ~Secret() { Wipe(); }

  const std::string& Reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  // For log lines and debug output.
  static constexpr std::string_view kRedacted = "****";

  friend bool operator==(const Secret&, const Secret&) = default;

 private:
  // The whole buffer (capacity, not just size), which explicit_bzero guarantees is not optimised
  // away.
  void Wipe() noexcept { explicit_bzero(value_.data(), value_.capacity()); }

  std::string value_;
};

}  // namespace keybridge::core
