#include "libs/pipeline/rate_limiter.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "libs/pipeline/balancer.h"
#include "libs/redis/redis_pool.h"
#include "libs/redis/script.h"

namespace shieldx::pipeline {

namespace {

// KEYS[1] bucket; ARGV: limit, window_ms, burst. Time comes from the Redis server (one clock
// for every replica). Returns {allowed 0/1, tokens used, retry_after_ms}.
constexpr char kLua[] = R"lua(
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cap = limit + tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(v[1])
local ts = tonumber(v[2])
if tokens == nil or ts == nil then
  tokens = cap
  ts = now
end
if now > ts then
  tokens = math.min(cap, tokens + (now - ts) * limit / window)
end
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) * window / limit)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], window * 2 + 1000)
return {allowed, math.floor(cap - tokens), retry}
)lua";

int64_t NowMs(Clock* clock) { return clock->MonotonicNanos() / 1'000'000; }

// Token bucket arithmetic shared by the local limiter.
RateResult Take(double* tokens, int64_t* updated_ms, int64_t now_ms, const RateSpec& spec) {
  const double cap = static_cast<double>(spec.limit + spec.burst);
  if (now_ms > *updated_ms) {
    *tokens = std::min(cap, *tokens + static_cast<double>(now_ms - *updated_ms) * spec.limit /
                                          static_cast<double>(spec.window_ms));
    *updated_ms = now_ms;
  }
  RateResult r;
  if (*tokens >= 1) {
    *tokens -= 1;
  } else {
    r.allowed = false;
    r.retry_after_ms = static_cast<int64_t>(
        std::ceil((1 - *tokens) * static_cast<double>(spec.window_ms) / spec.limit));
  }
  r.used = static_cast<int64_t>(cap - *tokens);
  return r;
}

}  // namespace

LocalRateLimiter::LocalRateLimiter(Clock* clock, std::size_t max_buckets)
    : clock_(clock != nullptr ? clock : Clock::Real()),
      max_per_shard_(std::max<std::size_t>(1, max_buckets / kShards)) {}

RateResult LocalRateLimiter::Check(std::string_view key, const RateSpec& spec) {
  if (spec.limit <= 0 || spec.window_ms <= 0) return RateResult{};
  const int64_t now = NowMs(clock_);
  Shard& shard = shards_[StableHash64(key) % kShards];
  absl::MutexLock lock(&shard.mu);
  const absl::string_view akey(key.data(), key.size());
  auto it = shard.buckets.find(akey);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= max_per_shard_) {
      // Full: drop expired buckets once, then give up to the failure mode.
      for (auto e = shard.buckets.begin(); e != shard.buckets.end();) {
        if (e->second.expires_ms < now) {
          shard.buckets.erase(e++);
        } else {
          ++e;
        }
      }
      if (shard.buckets.size() >= max_per_shard_) {
        RateResult r;
        r.failed = true;
        r.local = true;
        r.allowed = !spec.fail_closed;
        r.retry_after_ms = spec.fail_closed ? spec.window_ms : 0;
        return r;
      }
    }
    Bucket b;
    b.tokens = static_cast<double>(spec.limit + spec.burst);
    b.updated_ms = now;
    it = shard.buckets.emplace(std::string(key), b).first;
  }
  Bucket& b = it->second;
  b.expires_ms = now + 2 * spec.window_ms + 1000;
  RateResult r = Take(&b.tokens, &b.updated_ms, now, spec);
  r.local = true;
  return r;
}

std::size_t LocalRateLimiter::size() const {
  std::size_t n = 0;
  for (const Shard& s : shards_) {
    absl::MutexLock lock(&s.mu);
    n += s.buckets.size();
  }
  return n;
}

const char* RedisRateLimiter::LuaSource() { return kLua; }

RedisRateLimiter::RedisRateLimiter(redis::RedisPool* pool, Clock* clock,
                                   RedisRateLimiterOptions options)
    : pool_(pool),
      clock_(clock != nullptr ? clock : Clock::Real()),
      options_(std::move(options)),
      script_(std::make_unique<redis::RedisScript>(kLua)),
      local_(clock_) {}

RedisRateLimiter::~RedisRateLimiter() = default;

RateResult RedisRateLimiter::Check(std::string_view key, const RateSpec& spec) {
  if (spec.limit <= 0 || spec.window_ms <= 0) return RateResult{};
  const int64_t now = clock_->MonotonicNanos();
  const int64_t down_until = down_until_ns_.load(std::memory_order_relaxed);
  bool try_redis = down_until == 0;
  if (!try_redis && now >= down_until) {
    // One request probes Redis; the others stay local until it answers.
    try_redis = !probing_.exchange(true, std::memory_order_acq_rel);
  }
  if (try_redis) {
    absl::StatusOr<redis::RedisReply> reply = script_->Run(
        *pool_, {absl::StrCat(options_.key_prefix, absl::string_view(key.data(), key.size()))},
        {absl::StrCat(spec.limit), absl::StrCat(spec.window_ms), absl::StrCat(spec.burst)});
    if (down_until != 0) probing_.store(false, std::memory_order_release);
    if (reply.ok() && reply->is_array() && reply->elements().size() == 3 &&
        reply->elements()[0].is_integer()) {
      down_until_ns_.store(0, std::memory_order_relaxed);
      RateResult r;
      r.allowed = reply->elements()[0].integer() == 1;
      r.used = reply->elements()[1].is_integer() ? reply->elements()[1].integer() : 0;
      r.retry_after_ms = reply->elements()[2].is_integer() ? reply->elements()[2].integer() : 0;
      return r;
    }
    down_until_ns_.store(now + absl::ToInt64Nanoseconds(options_.redis_retry),
                         std::memory_order_relaxed);
  }
  local_decisions_.fetch_add(1, std::memory_order_relaxed);
  return local_.Check(key, spec);
}

}  // namespace shieldx::pipeline
