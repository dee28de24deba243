// Clock: the seam through which all code reads time, so tests can control it.
//
// RealClock reads the system clocks. FakeClock starts at a fixed instant and moves only when
// told (Advance / SetNow); SleepFor on a FakeClock advances it instead of blocking.
// Both are thread-safe.
#ifndef SHIELDX_LIBS_BASE_CLOCK_H_
#define SHIELDX_LIBS_BASE_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/time/time.h"

namespace shieldx {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (may jump). Use for timestamps stored or shown to people.
  virtual absl::Time Now() const = 0;
  // Monotonic nanoseconds since an arbitrary origin. Use for durations and deadlines.
  virtual int64_t MonotonicNanos() const = 0;
  virtual void SleepFor(absl::Duration d) = 0;

  // The process-wide real clock. Never deleted.
  static Clock* Real();
};

class RealClock final : public Clock {
 public:
  absl::Time Now() const override;
  int64_t MonotonicNanos() const override;
  void SleepFor(absl::Duration d) override;
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000));
  absl::Time Now() const override;
  int64_t MonotonicNanos() const override;
  // Advances the clock by `d` (no blocking).
  void SleepFor(absl::Duration d) override { Advance(d); }

  // REQUIRES: d >= 0.
  void Advance(absl::Duration d);
  // Sets wall time; monotonic time moves by the same amount. REQUIRES: t >= Now().
  void SetNow(absl::Time t);

 private:
  std::atomic<int64_t> now_nanos_;
  std::atomic<int64_t> mono_nanos_{0};
};

}  // namespace shieldx

#endif  // SHIELDX_LIBS_BASE_CLOCK_H_
