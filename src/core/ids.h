// Typed ids: a provider id, a connection id and a user id are all strings, and a function taking
// two of them (ConnectionRepository, TokenService::FreshConnection, SessionScopePolicy) would
// accept them swapped. Id<Tag> makes each kind its own type: built from a string only explicitly
// (where an id enters the program: a path parameter, a database row, a verified credential), and
// never converted into another kind. Comparing with a plain string is allowed, since a plain
// string has no kind to confuse.
#pragma once

#include <compare>
#include <cstddef>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace keybridge::core {

template <typename Tag>
class Id {
 public:
  Id() = default;
  explicit Id(std::string value) : value_(std::move(value)) {}
  explicit Id(std::string_view value) : value_(value) {}
  explicit Id(const char* value) : value_(value) {}

  const std::string& value() const { return value_; }
  bool empty() const { return value_.empty(); }

  friend bool operator==(const Id& a, const Id& b) = default;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads the defaulted <=> (no pointer)
  friend std::strong_ordering operator<=>(const Id& a, const Id& b) = default;
  friend bool operator==(const Id& id, std::string_view text) { return id.value_ == text; }
  friend std::ostream& operator<<(std::ostream& out, const Id& id) { return out << id.value_; }

 private:
  std::string value_;
};

// An integration's slug (core::Provider::id, oauth2_clients.id, `provider_id` columns); not the
// OAuth client id the provider issued (Provider::client_id).
using ProviderId = Id<struct ProviderIdTag>;
// A connection's ULID (core::Connection::id).
using ConnectionId = Id<struct ConnectionIdTag>;
// Who a caller is (the `sub` of an OIDC token, the user of an API token) and who owns a
// connection, a flow or a session token.
using UserId = Id<struct UserIdTag>;

}  // namespace keybridge::core

template <typename Tag>
struct std::hash<keybridge::core::Id<Tag>> {
  std::size_t operator()(const keybridge::core::Id<Tag>& id) const noexcept {
    return std::hash<std::string>()(id.value());
  }
};
