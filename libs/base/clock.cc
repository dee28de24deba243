#include "libs/base/clock.h"

#include <chrono>
#include <thread>

#include "absl/time/clock.h"
#include "libs/base/check.h"

namespace shieldx {

Clock* Clock::Real() {
  static RealClock* clock = new RealClock();
  return clock;
}

absl::Time RealClock::Now() const { return absl::Now(); }

int64_t RealClock::MonotonicNanos() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void RealClock::SleepFor(absl::Duration d) { absl::SleepFor(d); }

FakeClock::FakeClock(absl::Time start) : now_nanos_(absl::ToUnixNanos(start)) {}

absl::Time FakeClock::Now() const { return absl::FromUnixNanos(now_nanos_.load()); }

int64_t FakeClock::MonotonicNanos() const { return mono_nanos_.load(); }

void FakeClock::Advance(absl::Duration d) {
  SHIELDX_CHECK(d >= absl::ZeroDuration());
  const int64_t n = absl::ToInt64Nanoseconds(d);
  now_nanos_.fetch_add(n);
  mono_nanos_.fetch_add(n);
}

void FakeClock::SetNow(absl::Time t) {
  const int64_t target = absl::ToUnixNanos(t);
  const int64_t current = now_nanos_.load();
  SHIELDX_CHECK(target >= current);
  Advance(absl::Nanoseconds(target - current));
}

}  // namespace shieldx
