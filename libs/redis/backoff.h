// Backoff: exponential reconnect delays with jitter, shared by RedisPool and RedisSubscriber.
//
// After the n-th consecutive failure (n >= 1) the nominal delay is
// min(initial * 2^(n-1), max); the returned delay is drawn uniformly from
// [nominal / 2, nominal] ("equal jitter"), so replicas that lost Redis together do not
// reconnect in lock-step, while the delay never collapses to zero.
//
// Thread-compatible: callers serialize access (RedisPool holds its mutex).
#ifndef SHIELDX_LIBS_REDIS_BACKOFF_H_
#define SHIELDX_LIBS_REDIS_BACKOFF_H_

#include <cstdint>
#include <random>

#include "absl/time/time.h"

namespace shieldx::redis {

struct BackoffOptions {
  absl::Duration initial = absl::Milliseconds(50);
  absl::Duration max = absl::Seconds(2);
  // Seed for the jitter; 0 draws one from std::random_device (tests pass a fixed seed).
  uint64_t seed = 0;
};

class Backoff {
 public:
  explicit Backoff(const BackoffOptions& options);

  // Records a failure and returns how long to wait before the next attempt.
  absl::Duration NextDelay();
  // Records a success: the next failure starts again from `initial`.
  void Reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  BackoffOptions options_;
  int failures_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace shieldx::redis

#endif  // SHIELDX_LIBS_REDIS_BACKOFF_H_
