// RedisAlertSink: publishes low-balance crossings to the Redis stream
// `shieldx:credits:alerts` (XADD, capped with MAXLEN ~ kAlertStreamMaxLen) for the gateway's
// live event stream and the console. Fields: tenant_id, available_credits, threshold_credits,
// at_unix_ms. Best effort: the ledger change is already committed; a Redis failure is logged
// once per failure and counted, never propagated.
//
// Thread-safety: thread-safe (RedisPool is).
#ifndef SHIELDX_SERVICES_CREDITS_REDIS_ALERT_SINK_H_
#define SHIELDX_SERVICES_CREDITS_REDIS_ALERT_SINK_H_

#include <atomic>
#include <string>

#include "libs/redis/redis_pool.h"
#include "services/credits/credits_metrics.h"

namespace shieldx::credits {

inline constexpr char kAlertStream[] = "shieldx:credits:alerts";
inline constexpr int kAlertStreamMaxLen = 10'000;

class RedisAlertSink final : public LowBalanceSink {
 public:
  explicit RedisAlertSink(redis::RedisPool* redis) : redis_(redis) {}
  void Publish(const std::string& tenant_id, const Balance& balance) override;
  int64_t failures() const { return failures_.load(); }

 private:
  redis::RedisPool* redis_;
  std::atomic<int64_t> failures_{0};
};

}  // namespace shieldx::credits

#endif  // SHIELDX_SERVICES_CREDITS_REDIS_ALERT_SINK_H_
