#include "crypto/system_random.h"

#include <gtest/gtest.h>

#include <set>

namespace keybridge::crypto {
namespace {

TEST(SystemRandom, ReturnsRequestedNumberOfBytes) {
  SystemRandom random;

  EXPECT_EQ(random.Bytes(0).size(), 0U);
  EXPECT_EQ(random.Bytes(1).size(), 1U);
  EXPECT_EQ(random.Bytes(4096).size(), 4096U);
}

TEST(SystemRandom, DoesNotRepeat) {
  SystemRandom random;
  std::set<std::string> seen;

  for (int i = 0; i < 100; ++i) {
    seen.insert(random.Bytes(16));
  }

  EXPECT_EQ(seen.size(), 100U);
}

}  // namespace
}  // namespace keybridge::crypto
