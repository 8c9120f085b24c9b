#include "core/result.h"

#include <gtest/gtest.h>

#include <string>

namespace keybridge::core {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) {
    return MakeError(ErrorCode::kInvalidArgument, "odd");
  }
  return x / 2;
}

Result<int> Quarter(int x) {
  KEYBRIDGE_ASSIGN_OR_RETURN(int half, Half(x));
  return Half(half);
}

TEST(Result, CarriesValueOrError) {
  EXPECT_EQ(Quarter(8).value(), 2);
  auto failed = Quarter(6);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kInvalidArgument);
}

TEST(Result, ReturnIfErrorPropagates) {
  auto f = [](bool fail) -> Status {
    KEYBRIDGE_RETURN_IF_ERROR(fail ? Status(MakeError(ErrorCode::kNotFound, "x")) : OkStatus());
    return OkStatus();
  };
  EXPECT_TRUE(f(false).ok());
  EXPECT_EQ(f(true).error().code, ErrorCode::kNotFound);
}

TEST(ResultDeathTest, AccessingTheWrongAlternativeAborts) {
  Result<int> r = MakeError(ErrorCode::kInternal, "x");
  EXPECT_DEATH({ (void)r.value(); }, "");
}

}  // namespace
}  // namespace keybridge::core
