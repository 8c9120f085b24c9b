// Result<T>: a value or a core::Error, the return type of everything in the request path that can
// fail at run time. Modelled on std::expected (C++23), which g++ 12 does not ship in C++20 mode.
#pragma once

#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/error.h"

namespace keybridge::core {

template <typename T>
class [[nodiscard]] Result {
 public:
  // Implicit, so that a function returns its value or its error directly.
  Result(T value)  // NOLINT(google-explicit-constructor): see above
      : storage_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error)  // NOLINT(google-explicit-constructor): see above
      : storage_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return storage_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Accessing the wrong alternative is a bug, not an input error: it aborts in every build.
  T& value() & { return Get<0>(); }
  const T& value() const& { return Get<0>(); }
  T&& value() && { return std::move(Get<0>()); }
  const Error& error() const { return Get<1>(); }
  Error&& TakeError() && { return std::move(Get<1>()); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  template <std::size_t I>
  auto& Get() {
    if (storage_.index() != I) {
      std::abort();
    }
    return *std::get_if<I>(&storage_);
  }
  template <std::size_t I>
  const auto& Get() const {
    if (storage_.index() != I) {
      std::abort();
    }
    return *std::get_if<I>(&storage_);
  }

  std::variant<T, Error> storage_;
};

// Result<void>: success carries no value.
struct Ok {};
using Status = Result<Ok>;
inline Status OkStatus() {
  return Ok{};
}

}  // namespace keybridge::core

#define KEYBRIDGE_CONCAT_INNER(a, b) a##b
#define KEYBRIDGE_CONCAT(a, b) KEYBRIDGE_CONCAT_INNER(a, b)

// NOLINTBEGIN(bugprone-macro-parentheses): `tmp` and `lhs` are declarators ("auto x"), which
// parentheses would break; `expr` is parenthesised.

// KEYBRIDGE_ASSIGN_OR_RETURN(auto x, Expr()): returns the error of Expr() from the enclosing
// function, else binds its value.
#define KEYBRIDGE_ASSIGN_OR_RETURN(lhs, expr) \
  KEYBRIDGE_ASSIGN_OR_RETURN_IMPL(KEYBRIDGE_CONCAT(kb_result_, __COUNTER__), lhs, expr)
#define KEYBRIDGE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) {                                      \
    return std::move(tmp).TakeError();                  \
  }                                                     \
  lhs = std::move(tmp).value()

// KEYBRIDGE_RETURN_IF_ERROR(Expr()): returns the error of a Status/Result from the function.
#define KEYBRIDGE_RETURN_IF_ERROR(expr) \
  KEYBRIDGE_RETURN_IF_ERROR_IMPL(KEYBRIDGE_CONCAT(kb_status_, __COUNTER__), expr)
#define KEYBRIDGE_RETURN_IF_ERROR_IMPL(tmp, expr) \
  do {                                            \
    auto tmp = (expr);                            \
    if (!tmp.ok()) {                              \
      return std::move(tmp).TakeError();          \
    }                                             \
  } while (false)

// NOLINTEND(bugprone-macro-parentheses)
