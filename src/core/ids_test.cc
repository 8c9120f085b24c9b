#include "core/ids.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <type_traits>
#include <unordered_set>

namespace keybridge::core {
namespace {

// The point of the types: one kind of id is never accepted where another is expected, and a bare
// string becomes an id only by naming the kind.
static_assert(!std::is_convertible_v<ProviderId, ConnectionId>);
static_assert(!std::is_constructible_v<ConnectionId, ProviderId>);
static_assert(!std::is_constructible_v<UserId, ConnectionId>);
static_assert(!std::is_convertible_v<std::string, UserId>);
static_assert(!std::is_convertible_v<const char*, ProviderId>);
static_assert(!std::is_convertible_v<ProviderId, std::string>);
static_assert(std::is_constructible_v<ProviderId, std::string>);

TEST(Id, ComparesOrdersHashesAndPrintsByItsText) {
  const ConnectionId a("01HAAAAAAAAAAAAAAAAAAAAAAA");
  const ConnectionId b("01HBBBBBBBBBBBBBBBBBBBBBBB");

  EXPECT_EQ(a, ConnectionId(std::string("01HAAAAAAAAAAAAAAAAAAAAAAA")));
  EXPECT_NE(a, b);
  EXPECT_LT(a, b);
  EXPECT_EQ(a, "01HAAAAAAAAAAAAAAAAAAAAAAA");
  EXPECT_EQ(std::unordered_set<ConnectionId>({a, b, a}).size(), 2U);
  std::ostringstream out;
  out << a;
  EXPECT_EQ(out.str(), a.value());
  EXPECT_TRUE(UserId().empty());
  EXPECT_FALSE(UserId("alice").empty());
}

}  // namespace
}  // namespace keybridge::core
