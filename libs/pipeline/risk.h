// Session risk from continuous authentication (contauth), read on the hot path.
//
// Contract with contauth: it writes the latest calibrated risk of a session as a decimal
// string in [0, 1] to the Redis key
//     shieldx:contauth:risk:<tenant_id>:<session_id>
// with a TTL (a session without a key has unknown risk). RedisRiskSource reads that key and
// keeps answers for `cache_ttl` in a small sharded in-process cache, so a busy session costs
// one Redis read per `cache_ttl` per replica, not one per request.
//
// Thread-safety: all methods are thread-safe.
#ifndef SHIELDX_LIBS_PIPELINE_RISK_H_
#define SHIELDX_LIBS_PIPELINE_RISK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/base/clock.h"

namespace shieldx::redis {
class RedisPool;
}

namespace shieldx::pipeline {

inline constexpr std::size_t kMaxSessionIdBytes = 256;
inline constexpr std::size_t kMaxRiskCacheEntries = 100000;

class RiskSource {
 public:
  virtual ~RiskSource() = default;
  // The session's risk; nullopt when contauth has none; Unavailable when it cannot be read
  // (the route's failure mode decides then).
  virtual absl::StatusOr<std::optional<double>> Risk(std::string_view tenant_id,
                                                     std::string_view session_id) = 0;
};

std::string RiskKey(std::string_view tenant_id, std::string_view session_id);

class RedisRiskSource : public RiskSource {
 public:
  RedisRiskSource(redis::RedisPool* pool, Clock* clock,
                  absl::Duration cache_ttl = absl::Seconds(1));
  absl::StatusOr<std::optional<double>> Risk(std::string_view tenant_id,
                                             std::string_view session_id) override;

 private:
  struct Entry {
    std::optional<double> risk;
    int64_t expires_ns = 0;
  };
  struct Shard {
    absl::Mutex mu;
    absl::flat_hash_map<std::string, Entry> entries ABSL_GUARDED_BY(mu);
  };
  static constexpr int kShards = 32;
  redis::RedisPool* const pool_;
  Clock* const clock_;
  const int64_t ttl_ns_;
  Shard shards_[kShards];
};

}  // namespace shieldx::pipeline

#endif  // SHIELDX_LIBS_PIPELINE_RISK_H_
