#include "service/ulid.h"

#include <gtest/gtest.h>

#include <set>

#include "crypto/system_random.h"
#include "support/fake_clock.h"

namespace keybridge::service {
namespace {

TEST(Ulid, HasRenkuShapeAndSortsByTime) {
  testing::FakeClock clock;
  crypto::SystemRandom random;

  const std::string first = NewUlid(clock, random);
  clock.Advance(core::Seconds(1));
  const std::string second = NewUlid(clock, random);

  EXPECT_TRUE(IsUlid(first)) << first;
  EXPECT_TRUE(IsUlid(second)) << second;
  EXPECT_LT(first, second);
  EXPECT_FALSE(IsUlid("01ARZ3NDEKTSV4RRFFQ69G5FA"));   // 25 chars
  EXPECT_FALSE(IsUlid("01ARZ3NDEKTSV4RRFFQ69G5FAU"));  // U is not Crockford
}

TEST(Ulid, IsUniqueAtTheSameMillisecond) {
  testing::FakeClock clock;
  crypto::SystemRandom random;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    seen.insert(NewUlid(clock, random));
  }
  EXPECT_EQ(seen.size(), 1000U);
}

TEST(Ulid, EncodesTheTimestampInTheFirstTenCharacters) {
  testing::FakeClock clock(core::FromUnixSeconds(0));
  crypto::SystemRandom random;
  EXPECT_EQ(NewUlid(clock, random).substr(0, 10), "0000000000");
}

}  // namespace
}  // namespace keybridge::service
