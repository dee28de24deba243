#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "libs/base/check.h"
#include "libs/base/clock.h"
#include "libs/base/status_macros.h"

namespace shieldx {
namespace {

absl::Status FailIf(bool fail) {
  return fail ? absl::NotFoundError("account acme") : absl::OkStatus();
}

absl::StatusOr<int> ValueOr(bool fail) {
  if (fail) return absl::InvalidArgumentError("bad amount");
  return 42;
}

absl::Status UsesReturnIfError(bool fail, int* reached) {
  SHIELDX_RETURN_IF_ERROR(FailIf(fail));
  *reached = 1;
  return absl::OkStatus();
}

absl::StatusOr<int> UsesAssignOrReturn(bool fail) {
  SHIELDX_ASSIGN_OR_RETURN(int v, ValueOr(fail));
  SHIELDX_ASSIGN_OR_RETURN(int w, ValueOr(false));  // two in one scope must not clash
  return v + w;
}

absl::Status UsesContext(bool fail) {
  SHIELDX_RETURN_IF_ERROR_CTX(FailIf(fail), "loading balance");
  return absl::OkStatus();
}

TEST(StatusMacros, ReturnIfErrorStopsAtTheFirstFailure) {
  int reached = 0;
  EXPECT_EQ(UsesReturnIfError(true, &reached).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(reached, 0);
  EXPECT_TRUE(UsesReturnIfError(false, &reached).ok());
  EXPECT_EQ(reached, 1);
}

TEST(StatusMacros, AssignOrReturnPropagatesTheErrorAndUnwrapsTheValue) {
  auto bad = UsesAssignOrReturn(true);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "bad amount");
  auto good = UsesAssignOrReturn(false);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 84);
}

TEST(StatusMacros, ContextIsPrefixedAndTheCodeKept) {
  absl::Status s = UsesContext(true);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "loading balance: account acme");
  EXPECT_TRUE(UsesContext(false).ok());
  EXPECT_TRUE(Annotate(absl::OkStatus(), "ctx").ok());
}

TEST(Check, PassingCheckDoesNothing) {
  SHIELDX_CHECK(1 + 1 == 2);
  SHIELDX_CHECK_OK(absl::OkStatus());
}

TEST(CheckDeathTest, FailingCheckAbortsWithTheCondition) {
  EXPECT_DEATH(SHIELDX_CHECK_MSG(2 < 1, "order"), "2 < 1: order");
  EXPECT_DEATH(SHIELDX_CHECK_OK(absl::InternalError("boom")), "boom");
}

TEST(FakeClock, MovesOnlyWhenTold) {
  FakeClock clock(absl::FromUnixSeconds(100));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(100));
  EXPECT_EQ(clock.MonotonicNanos(), 0);
  clock.Advance(absl::Seconds(2));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(102));
  EXPECT_EQ(clock.MonotonicNanos(), 2'000'000'000);
  clock.SleepFor(absl::Milliseconds(5));
  EXPECT_EQ(clock.MonotonicNanos(), 2'005'000'000);
  clock.SetNow(absl::FromUnixSeconds(200));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(200));
}

TEST(FakeClock, ConcurrentAdvancesAreAllCounted) {
  FakeClock clock(absl::FromUnixSeconds(0));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&clock] {
      for (int i = 0; i < 1000; ++i) clock.Advance(absl::Nanoseconds(1));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(clock.MonotonicNanos(), 4000);
}

TEST(FakeClockDeathTest, GoingBackwardsIsAProgrammerError) {
  FakeClock clock(absl::FromUnixSeconds(100));
  EXPECT_DEATH(clock.SetNow(absl::FromUnixSeconds(50)), "CHECK failed");
}

TEST(RealClock, MonotonicTimeNeverGoesBackwards) {
  Clock* c = Clock::Real();
  int64_t prev = c->MonotonicNanos();
  for (int i = 0; i < 1000; ++i) {
    int64_t now = c->MonotonicNanos();
    ASSERT_GE(now, prev);
    prev = now;
  }
  EXPECT_GT(absl::ToUnixSeconds(c->Now()), 1'600'000'000);
}

}  // namespace
}  // namespace shieldx
