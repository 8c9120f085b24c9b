#include "service/readiness_monitor.h"

#include <gtest/gtest.h>

#include "support/fake_clock.h"

namespace keybridge::service {
namespace {

class ReadinessMonitorTest : public ::testing::Test {
 protected:
  core::Status Ping() {
    if (database_up_) {
      return core::OkStatus();
    }
    return core::MakeError(core::ErrorCode::kUnavailable, "could not connect", "port 5432");
  }

  testing::FakeClock clock_;
  bool database_up_ = true;
  ReadinessMonitor monitor_{[this] { return Ping(); }, clock_,
                            ReadinessMonitorOptions{core::Seconds(1), core::Seconds(5)}};
};

TEST_F(ReadinessMonitorTest, NotReadyBeforeTheFirstCheck) {
  const DatabaseReadiness readiness = monitor_.Database();

  EXPECT_FALSE(readiness.reachable);
  EXPECT_NE(readiness.problem.find("not been checked"), std::string::npos);
}

TEST_F(ReadinessMonitorTest, ReportsTheLastCheckFromMemory) {
  monitor_.CheckNow();
  EXPECT_TRUE(monitor_.Database().reachable);

  database_up_ = false;
  EXPECT_TRUE(monitor_.Database().reachable) << "answers from the last check, without pinging";
  monitor_.CheckNow();
  EXPECT_FALSE(monitor_.Database().reachable);
  EXPECT_EQ(monitor_.Database().problem, "could not connect");

  database_up_ = true;
  monitor_.CheckNow();
  EXPECT_TRUE(monitor_.Database().reachable) << "recovers by itself";
}

TEST_F(ReadinessMonitorTest, AStaleResultMeansTheDatabaseIsNotAnswering) {
  monitor_.CheckNow();
  clock_.Advance(core::Seconds(5));
  EXPECT_TRUE(monitor_.Database().reachable);

  clock_.Advance(core::Seconds(1));
  const DatabaseReadiness readiness = monitor_.Database();

  EXPECT_FALSE(readiness.reachable) << "a ping stuck past stale_after";
  EXPECT_NE(readiness.problem.find("over 5 s"), std::string::npos) << readiness.problem;
}

}  // namespace
}  // namespace keybridge::service
