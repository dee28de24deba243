// Rate limiting: token buckets keyed by tenant, rule and key value.
//
// A bucket holds up to `limit + burst` tokens and refills at `limit` tokens per `window_ms`;
// a request takes one. So `limit` requests per window are sustained, and a burst of
// `limit + burst` passes from a full bucket.
//
// RedisRateLimiter keeps the buckets in Redis (shared by every replica): one EVALSHA of an
// atomic Lua script per check, the key expiring two windows after its last use. While Redis
// is unavailable it decides from a local bucket per key (LocalRateLimiter: per replica, so N
// replicas admit up to N times the limit) and probes Redis again after `redis_retry`. When the
// local table is full (kMaxLocalBuckets keys), the caller's FailureMode decides: fail open
// admits, fail closed refuses.
//
// Thread-safety: all methods are thread-safe. The local table is sharded (64 mutexes) and is
// only touched while Redis is down or by LocalRateLimiter itself.
#ifndef SHIELDX_LIBS_PIPELINE_RATE_LIMITER_H_
#define SHIELDX_LIBS_PIPELINE_RATE_LIMITER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/base/clock.h"

namespace shieldx::redis {
class RedisPool;
class RedisScript;
}  // namespace shieldx::redis

namespace shieldx::pipeline {

inline constexpr std::size_t kMaxLocalBuckets = 100000;
inline constexpr std::size_t kMaxRateKeyBytes = 512;

struct RateSpec {
  int64_t limit = 0;  // tokens per window (> 0)
  int64_t window_ms = 1000;
  int64_t burst = 0;
  bool fail_closed = false;  // what to do when no bucket can be consulted
};

struct RateResult {
  bool allowed = true;
  int64_t used = 0;  // tokens in use after this request (the `rate["name"]` counter)
  int64_t retry_after_ms = 0;
  bool local = false;   // decided by the local fallback (Redis unavailable)
  bool failed = false;  // no bucket could be consulted: the failure mode decided
};

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // Takes one token from bucket `key` (already scoped by tenant and rule by the caller).
  virtual RateResult Check(std::string_view key, const RateSpec& spec) = 0;
};

// In-process token buckets.
class LocalRateLimiter : public RateLimiter {
 public:
  explicit LocalRateLimiter(Clock* clock = nullptr, std::size_t max_buckets = kMaxLocalBuckets);
  RateResult Check(std::string_view key, const RateSpec& spec) override;
  std::size_t size() const;

 private:
  struct Bucket {
    double tokens = 0;
    int64_t updated_ms = 0;
    int64_t expires_ms = 0;
  };
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, Bucket> buckets ABSL_GUARDED_BY(mu);
  };
  static constexpr int kShards = 64;
  Clock* const clock_;
  const std::size_t max_per_shard_;
  Shard shards_[kShards];
};

struct RedisRateLimiterOptions {
  absl::Duration redis_retry = absl::Seconds(1);  // how long to stay local after a failure
  std::string key_prefix = "shieldx:rl:";
};

class RedisRateLimiter : public RateLimiter {
 public:
  // `pool` must outlive the limiter.
  RedisRateLimiter(redis::RedisPool* pool, Clock* clock, RedisRateLimiterOptions options = {});
  ~RedisRateLimiter() override;
  RateResult Check(std::string_view key, const RateSpec& spec) override;

  bool redis_healthy() const { return down_until_ns_.load(std::memory_order_relaxed) == 0; }
  int64_t local_decisions() const { return local_decisions_.load(std::memory_order_relaxed); }

  // The Lua source (exposed for tests and docs).
  static const char* LuaSource();

 private:
  redis::RedisPool* const pool_;
  Clock* const clock_;
  const RedisRateLimiterOptions options_;
  std::unique_ptr<redis::RedisScript> script_;
  LocalRateLimiter local_;
  std::atomic<int64_t> down_until_ns_{0};
  std::atomic<bool> probing_{false};
  std::atomic<int64_t> local_decisions_{0};
};

}  // namespace shieldx::pipeline

#endif  // SHIELDX_LIBS_PIPELINE_RATE_LIMITER_H_
