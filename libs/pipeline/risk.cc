#include "libs/pipeline/risk.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/pipeline/balancer.h"
#include "libs/redis/redis_pool.h"

namespace shieldx::pipeline {

std::string RiskKey(std::string_view tenant_id, std::string_view session_id) {
  return absl::StrCat(
      "shieldx:contauth:risk:", absl::string_view(tenant_id.data(), tenant_id.size()), ":",
      absl::string_view(session_id.data(), session_id.size()));
}

RedisRiskSource::RedisRiskSource(redis::RedisPool* pool, Clock* clock, absl::Duration cache_ttl)
    : pool_(pool),
      clock_(clock != nullptr ? clock : Clock::Real()),
      ttl_ns_(absl::ToInt64Nanoseconds(cache_ttl)) {}

absl::StatusOr<std::optional<double>> RedisRiskSource::Risk(std::string_view tenant_id,
                                                            std::string_view session_id) {
  if (session_id.empty() || session_id.size() > kMaxSessionIdBytes) return std::nullopt;
  const std::string key = RiskKey(tenant_id, session_id);
  const int64_t now = clock_->MonotonicNanos();
  Shard& shard = shards_[StableHash64(key) % kShards];
  {
    absl::MutexLock lock(&shard.mu);
    auto it = shard.entries.find(key);
    if (it != shard.entries.end() && it->second.expires_ns > now) return it->second.risk;
  }
  absl::StatusOr<redis::RedisReply> reply = pool_->Command("GET", key);
  if (!reply.ok()) return reply.status();
  std::optional<double> risk;
  if (reply->is_string()) {
    double v = 0;
    if (absl::SimpleAtod(reply->str(), &v) && v >= 0 && v <= 1) risk = v;
  }
  absl::MutexLock lock(&shard.mu);
  if (shard.entries.size() >= kMaxRiskCacheEntries / kShards) shard.entries.clear();
  shard.entries[key] = Entry{risk, now + ttl_ns_};
  return risk;
}

}  // namespace shieldx::pipeline
