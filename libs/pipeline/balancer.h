// Upstream pools: picking a member (weighted round robin, least outstanding, power of two
// choices over an EWMA of latency, consistent hashing), passive failure detection (circuit
// breaker) and the live member state active health checks write (health_checker.h).
//
// Split in two:
// - MemberState: the mutable, live state of one member (in-flight count, latency EWMA, health,
//   breaker). Plain atomics: the hot path never locks. It outlives configuration snapshots:
//   MemberStateRegistry hands out the same object for the same (tenant, pool, member, address)
//   across snapshots, so a config change does not forget that a member is down.
// - CompiledPool: the immutable part, built once per snapshot (member list, weights, the
//   round-robin schedule, the hash ring).
//
// Thread-safety: CompiledPool::Pick and Report are thread-safe and lock-free;
// MemberStateRegistry is thread-safe (a mutex, used only while building snapshots).
#ifndef SHIELDX_LIBS_PIPELINE_BALANCER_H_
#define SHIELDX_LIBS_PIPELINE_BALANCER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/pipeline/tenant_config.h"
#include "libs/policy/policy.h"

namespace shieldx::pipeline {

// Virtual nodes per unit of weight on the consistent-hash ring, and the ring's size bound.
inline constexpr int kRingPointsPerWeight = 16;
inline constexpr std::size_t kMaxRingPoints = 64 * 1024;
// Weighted round-robin schedule length bound (weights are scaled down to fit).
inline constexpr std::size_t kMaxScheduleSlots = 16 * 1024;
// EWMA smoothing of latency samples: new = old + (sample - old) / kEwmaDivisor.
inline constexpr int64_t kEwmaDivisor = 8;

enum class Health : uint8_t { kUnknown = 0, kHealthy = 1, kUnhealthy = 2 };

struct MemberState {
  std::atomic<int32_t> outstanding{0};      // picks not yet reported back
  std::atomic<int64_t> latency_ewma_us{0};  // 0: no sample yet
  std::atomic<uint8_t> health{static_cast<uint8_t>(Health::kUnknown)};  // active checks
  std::atomic<int32_t> consecutive_failures{0};  // passive, from outcome reports
  std::atomic<int64_t> ejected_until_ns{0};      // breaker open until (monotonic ns)
  std::atomic<int32_t> ejections{0};             // consecutive ejections (open time doubles)
  std::atomic<int32_t> half_open_left{0};        // probes allowed after the open period
  std::atomic<int64_t> last_report_ns{0};
  // Written by the health checker thread; read for GetPool. Guarded by `mu`.
  absl::Mutex mu;
  std::string last_check_result ABSL_GUARDED_BY(mu);
  int check_successes ABSL_GUARDED_BY(mu) = 0;
  int check_failures ABSL_GUARDED_BY(mu) = 0;
  int64_t next_check_ns ABSL_GUARDED_BY(mu) = 0;

  void ObserveLatency(int64_t sample_us);
};

class MemberStateRegistry {
 public:
  // The state for this member, created on first use. Same key → same object.
  std::shared_ptr<MemberState> Get(const std::string& tenant_id, const std::string& pool_id,
                                   const std::string& member_id, const std::string& address);
  // Forgets states no snapshot references any more.
  void Collect();
  std::size_t size() const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<MemberState>> states_ ABSL_GUARDED_BY(mu_);
};

struct CompiledMember {
  std::string member_id;
  std::string address;  // "host:port"
  uint32_t weight = 1;
  bool drained = false;
  std::shared_ptr<MemberState> state;
};

// The result of a pick.
struct Pick {
  int member = -1;     // index into members(); -1 when the pool has no member to offer
  bool panic = false;  // no member was eligible: picked among every undrained member
};

class CompiledPool {
 public:
  // Builds from a pool. `registry` supplies the live member states. InvalidArgument when the
  // hash key expression does not compile.
  static absl::StatusOr<std::shared_ptr<const CompiledPool>> Build(const std::string& tenant_id,
                                                                   const v1::Pool& pool,
                                                                   MemberStateRegistry& registry);

  // Picks a member for one request. `hash_key` is used by CONSISTENT_HASH (any 64-bit hash of
  // the key; pass `random` when the key is absent), `random` by P2C and tie breaks.
  // Counts the pick as outstanding on the member. `now_ns`: monotonic clock.
  Pick Choose(uint64_t hash_key, uint64_t random, int64_t now_ns) const;

  // Feedback for a member after the request completed (see UpstreamOutcome).
  void Report(int member, bool failed, int64_t latency_us, int64_t now_ns) const;

  // True when the member can take traffic now (not drained, not unhealthy, breaker closed or
  // a half-open probe available).
  bool Eligible(int member, int64_t now_ns) const;
  v1::MemberHealth HealthOf(int member, int64_t now_ns) const;

  const std::string& pool_id() const { return pool_id_; }
  const std::string& name() const { return name_; }
  const std::vector<CompiledMember>& members() const { return members_; }
  v1::BalancingAlgorithm algorithm() const { return algorithm_; }
  const v1::HealthCheck& health_check() const { return health_check_; }
  const std::string& hash_key_expression() const { return hash_key_expression_; }
  // CONSISTENT_HASH with an expression: a policy whose rate_limits()[0] key is the hash key.
  const policy::CompiledPolicy* hash_key() const { return hash_key_.get(); }
  int FindMember(std::string_view member_id) const;

 private:
  int ChooseRoundRobin(int64_t now_ns) const;
  int ChooseLeastOutstanding(uint64_t random, int64_t now_ns) const;
  int ChooseP2C(uint64_t random, int64_t now_ns) const;
  int ChooseHash(uint64_t hash_key, int64_t now_ns) const;
  // Takes a half-open probe slot when the breaker's open period is over.
  bool Admit(int member, int64_t now_ns) const;
  void Eject(int member, int64_t now_ns) const;

  std::string pool_id_;
  std::string name_;
  v1::BalancingAlgorithm algorithm_ = v1::BALANCING_ALGORITHM_ROUND_ROBIN;
  std::string hash_key_expression_;
  std::shared_ptr<const policy::CompiledPolicy> hash_key_;
  v1::HealthCheck health_check_;
  uint32_t breaker_failures_ = 0;  // 0: breaker off
  int64_t breaker_open_ns_ = 0;
  int32_t breaker_half_open_ = 1;
  uint32_t max_ejection_percent_ = 100;
  std::vector<CompiledMember> members_;
  std::vector<uint16_t> schedule_;                   // smooth weighted round robin
  std::vector<std::pair<uint64_t, uint16_t>> ring_;  // sorted by hash
  mutable std::atomic<uint64_t> cursor_{0};
};

// Stable 64-bit hash (FNV-1a + a 64-bit finaliser): the same on every replica and build, so
// consistent hashing sends a key to the same member from every orchestrator.
uint64_t StableHash64(std::string_view data);

}  // namespace shieldx::pipeline

#endif  // SHIELDX_LIBS_PIPELINE_BALANCER_H_
