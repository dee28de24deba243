#include "libs/pipeline/balancer.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace shieldx::pipeline {

namespace {

uint64_t Mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

}  // namespace

uint64_t StableHash64(std::string_view data) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return Mix64(h);
}

void MemberState::ObserveLatency(int64_t sample_us) {
  if (sample_us < 0) return;
  int64_t old = latency_ewma_us.load(std::memory_order_relaxed);
  int64_t next;
  do {
    next = old == 0 ? sample_us : old + (sample_us - old) / kEwmaDivisor;
    if (next <= 0) next = 1;
  } while (!latency_ewma_us.compare_exchange_weak(old, next, std::memory_order_relaxed));
}

std::shared_ptr<MemberState> MemberStateRegistry::Get(const std::string& tenant_id,
                                                      const std::string& pool_id,
                                                      const std::string& member_id,
                                                      const std::string& address) {
  std::string key = absl::StrCat(tenant_id, "\x1f", pool_id, "\x1f", member_id, "\x1f", address);
  absl::MutexLock lock(&mu_);
  std::shared_ptr<MemberState>& slot = states_[key];
  if (slot == nullptr) slot = std::make_shared<MemberState>();
  return slot;
}

void MemberStateRegistry::Collect() {
  absl::MutexLock lock(&mu_);
  for (auto it = states_.begin(); it != states_.end();) {
    if (it->second.use_count() == 1) {
      it = states_.erase(it);
    } else {
      ++it;
    }
  }
}

std::size_t MemberStateRegistry::size() const {
  absl::MutexLock lock(&mu_);
  return states_.size();
}

absl::StatusOr<std::shared_ptr<const CompiledPool>> CompiledPool::Build(
    const std::string& tenant_id, const v1::Pool& pool, MemberStateRegistry& registry) {
  auto p = std::shared_ptr<CompiledPool>(new CompiledPool());
  p->pool_id_ = pool.pool_id();
  p->name_ = pool.name();
  p->algorithm_ = pool.algorithm() == v1::BALANCING_ALGORITHM_UNSPECIFIED
                      ? v1::BALANCING_ALGORITHM_ROUND_ROBIN
                      : pool.algorithm();
  p->hash_key_expression_ = pool.hash_key_expression();
  if (p->algorithm_ == v1::BALANCING_ALGORITHM_CONSISTENT_HASH &&
      !p->hash_key_expression_.empty()) {
    policy::CompileOptions ko;
    ko.name = absl::StrCat("pool ", pool.name(), " hash_key_expression");
    auto key =
        policy::CompiledPolicy::Compile(absl::StrCat("rule \"hash\" { when true then rate_limit(",
                                                     p->hash_key_expression_, ", 1 per 1s) }\n"),
                                        ko);
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("pool ", pool.name(), ": hash_key_expression: ", key.status().message()));
    }
    if ((*key)->rules().size() != 1 || (*key)->rate_limits().size() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("pool ", pool.name(), ": hash_key_expression: must be one expression"));
    }
    p->hash_key_ = *key;
  }
  p->health_check_ = pool.health_check();
  const v1::CircuitBreaker& cb = pool.circuit_breaker();
  p->breaker_failures_ = cb.consecutive_failures();
  p->breaker_open_ns_ = (cb.open_ms() > 0 ? cb.open_ms() : 30'000) * 1'000'000;
  p->breaker_half_open_ = static_cast<int32_t>(std::max<uint32_t>(1, cb.half_open_requests()));
  p->max_ejection_percent_ = cb.max_ejection_percent() == 0 ? 100 : cb.max_ejection_percent();
  for (const v1::PoolMember& m : pool.members()) {
    CompiledMember cm;
    cm.member_id = m.member_id();
    cm.address = m.address();
    cm.weight = std::max<uint32_t>(1, m.weight());
    cm.drained = m.drained();
    cm.state = registry.Get(tenant_id, pool.pool_id(), m.member_id(), m.address());
    p->members_.push_back(std::move(cm));
  }
  // Smooth weighted round robin (nginx): spreads a heavy member's turns between the others.
  uint64_t total = 0;
  for (const CompiledMember& m : p->members_) total += m.weight;
  const double scale =
      total > kMaxScheduleSlots ? static_cast<double>(kMaxScheduleSlots) / total : 1.0;
  std::vector<int64_t> weights, current(p->members_.size(), 0);
  int64_t sum = 0;
  for (const CompiledMember& m : p->members_) {
    weights.push_back(std::max<int64_t>(1, static_cast<int64_t>(m.weight * scale)));
    sum += weights.back();
  }
  for (int64_t slot = 0; slot < sum; ++slot) {
    std::size_t best = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      current[i] += weights[i];
      if (current[i] > current[best]) best = i;
    }
    current[best] -= sum;
    p->schedule_.push_back(static_cast<uint16_t>(best));
  }
  // Hash ring: kRingPointsPerWeight points per unit of (scaled) weight.
  if (p->algorithm_ == v1::BALANCING_ALGORITHM_CONSISTENT_HASH) {
    uint64_t points = 0;
    for (int64_t w : weights) points += static_cast<uint64_t>(w) * kRingPointsPerWeight;
    const double ring_scale =
        points > kMaxRingPoints ? static_cast<double>(kMaxRingPoints) / points : 1.0;
    for (std::size_t i = 0; i < p->members_.size(); ++i) {
      const int n = std::max(1, static_cast<int>(weights[i] * kRingPointsPerWeight * ring_scale));
      for (int v = 0; v < n; ++v) {
        p->ring_.emplace_back(StableHash64(absl::StrCat(p->members_[i].member_id, "#", v)),
                              static_cast<uint16_t>(i));
      }
    }
    std::sort(p->ring_.begin(), p->ring_.end());
  }
  return std::shared_ptr<const CompiledPool>(std::move(p));
}

int CompiledPool::FindMember(std::string_view member_id) const {
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (members_[i].member_id == member_id) return static_cast<int>(i);
  }
  return -1;
}

bool CompiledPool::Eligible(int member, int64_t now_ns) const {
  const CompiledMember& m = members_[member];
  if (m.drained) return false;
  if (m.state->health.load(std::memory_order_relaxed) == static_cast<uint8_t>(Health::kUnhealthy)) {
    return false;
  }
  const int64_t until = m.state->ejected_until_ns.load(std::memory_order_relaxed);
  if (until == 0) return true;
  if (now_ns < until) return false;
  return m.state->half_open_left.load(std::memory_order_relaxed) > 0;
}

v1::MemberHealth CompiledPool::HealthOf(int member, int64_t now_ns) const {
  const CompiledMember& m = members_[member];
  if (m.drained) return v1::MEMBER_HEALTH_DRAINED;
  const int64_t until = m.state->ejected_until_ns.load(std::memory_order_relaxed);
  if (until != 0 && now_ns < until) return v1::MEMBER_HEALTH_EJECTED;
  switch (static_cast<Health>(m.state->health.load(std::memory_order_relaxed))) {
    case Health::kUnhealthy:
      return v1::MEMBER_HEALTH_UNHEALTHY;
    case Health::kHealthy:
      return v1::MEMBER_HEALTH_HEALTHY;
    case Health::kUnknown:
      break;
  }
  return health_check_.kind() == v1::HEALTH_CHECK_KIND_UNSPECIFIED ? v1::MEMBER_HEALTH_HEALTHY
                                                                   : v1::MEMBER_HEALTH_UNSPECIFIED;
}

bool CompiledPool::Admit(int member, int64_t now_ns) const {
  MemberState& s = *members_[member].state;
  const int64_t until = s.ejected_until_ns.load(std::memory_order_relaxed);
  if (until == 0) return true;
  if (now_ns < until) return false;
  // Half open: each probe takes a slot; the outcome closes or re-opens the breaker.
  return s.half_open_left.fetch_sub(1, std::memory_order_relaxed) > 0;
}

int CompiledPool::ChooseRoundRobin(int64_t now_ns) const {
  const std::size_t n = schedule_.size();
  const uint64_t start = cursor_.fetch_add(1, std::memory_order_relaxed);
  for (std::size_t i = 0; i < n; ++i) {
    const int m = schedule_[(start + i) % n];
    if (Eligible(m, now_ns)) return m;
  }
  return -1;
}

int CompiledPool::ChooseLeastOutstanding(uint64_t random, int64_t now_ns) const {
  const std::size_t n = members_.size();
  int best = -1;
  double best_load = std::numeric_limits<double>::max();
  for (std::size_t k = 0; k < n; ++k) {
    const int m = static_cast<int>((random + k) % n);
    if (!Eligible(m, now_ns)) continue;
    const double load =
        static_cast<double>(members_[m].state->outstanding.load(std::memory_order_relaxed)) /
        members_[m].weight;
    if (load < best_load) {
      best_load = load;
      best = m;
    }
  }
  return best;
}

int CompiledPool::ChooseP2C(uint64_t random, int64_t now_ns) const {
  const std::size_t n = members_.size();
  int a = -1, b = -1;
  // Two random eligible members (falls back to a scan when random probes miss).
  for (int attempt = 0; attempt < 4 && (a < 0 || b < 0); ++attempt) {
    random = Mix64(random + attempt + 1);
    const int m = static_cast<int>(random % n);
    if (!Eligible(m, now_ns)) continue;
    if (a < 0) {
      a = m;
    } else if (m != a) {
      b = m;
    }
  }
  if (a < 0) return ChooseLeastOutstanding(random, now_ns);
  if (b < 0) return a;
  auto cost = [&](int m) {
    const MemberState& s = *members_[m].state;
    const double latency = static_cast<double>(
        std::max<int64_t>(1, s.latency_ewma_us.load(std::memory_order_relaxed)));
    return latency * (1 + s.outstanding.load(std::memory_order_relaxed)) / members_[m].weight;
  };
  return cost(a) <= cost(b) ? a : b;
}

int CompiledPool::ChooseHash(uint64_t hash_key, int64_t now_ns) const {
  if (ring_.empty()) return -1;
  auto it = std::lower_bound(ring_.begin(), ring_.end(),
                             std::make_pair(hash_key, static_cast<uint16_t>(0)));
  const std::size_t start = static_cast<std::size_t>(it - ring_.begin());
  // Walk clockwise past ineligible members (bounded by the ring size).
  for (std::size_t i = 0; i < ring_.size(); ++i) {
    const int m = ring_[(start + i) % ring_.size()].second;
    if (Eligible(m, now_ns)) return m;
  }
  return -1;
}

Pick CompiledPool::Choose(uint64_t hash_key, uint64_t random, int64_t now_ns) const {
  Pick pick;
  if (members_.empty()) return pick;
  int m = -1;
  switch (algorithm_) {
    case v1::BALANCING_ALGORITHM_LEAST_OUTSTANDING:
      m = ChooseLeastOutstanding(random, now_ns);
      break;
    case v1::BALANCING_ALGORITHM_P2C_EWMA:
      m = ChooseP2C(random, now_ns);
      break;
    case v1::BALANCING_ALGORITHM_CONSISTENT_HASH:
      m = ChooseHash(hash_key, now_ns);
      break;
    default:
      m = ChooseRoundRobin(now_ns);
      break;
  }
  if (m >= 0 && !Admit(m, now_ns)) m = -1;
  if (m < 0) {
    // Panic: nothing eligible. Sending to an undrained member beats refusing everything when
    // health checks are wrong; the decision is tagged so operators see it.
    const std::size_t n = members_.size();
    for (std::size_t k = 0; k < n; ++k) {
      const int c = static_cast<int>((random + k) % n);
      if (!members_[c].drained) {
        m = c;
        pick.panic = true;
        break;
      }
    }
  }
  if (m >= 0) members_[m].state->outstanding.fetch_add(1, std::memory_order_relaxed);
  pick.member = m;
  return pick;
}

void CompiledPool::Eject(int member, int64_t now_ns) const {
  // Respect max_ejection_percent: never eject beyond that share of the pool.
  int ejected = 0;
  for (const CompiledMember& m : members_) {
    if (m.state->ejected_until_ns.load(std::memory_order_relaxed) > now_ns) ++ejected;
  }
  if ((ejected + 1) * 100 > static_cast<int>(max_ejection_percent_ * members_.size())) return;
  MemberState& s = *members_[member].state;
  const int32_t n = std::min(s.ejections.fetch_add(1, std::memory_order_relaxed), 10);
  const int64_t open_ns = breaker_open_ns_ << n;
  s.half_open_left.store(breaker_half_open_, std::memory_order_relaxed);
  s.ejected_until_ns.store(now_ns + open_ns, std::memory_order_relaxed);
  s.consecutive_failures.store(0, std::memory_order_relaxed);
}

void CompiledPool::Report(int member, bool failed, int64_t latency_us, int64_t now_ns) const {
  if (member < 0 || member >= static_cast<int>(members_.size())) return;
  MemberState& s = *members_[member].state;
  if (s.outstanding.fetch_sub(1, std::memory_order_relaxed) <= 0) {
    s.outstanding.store(0, std::memory_order_relaxed);
  }
  s.last_report_ns.store(now_ns, std::memory_order_relaxed);
  if (!failed) {
    s.ObserveLatency(latency_us);
    s.consecutive_failures.store(0, std::memory_order_relaxed);
    if (s.ejected_until_ns.load(std::memory_order_relaxed) != 0 &&
        now_ns >= s.ejected_until_ns.load(std::memory_order_relaxed)) {
      // A half-open probe succeeded: close the breaker.
      s.ejected_until_ns.store(0, std::memory_order_relaxed);
      s.ejections.store(0, std::memory_order_relaxed);
    }
    return;
  }
  if (breaker_failures_ == 0) return;
  const int64_t until = s.ejected_until_ns.load(std::memory_order_relaxed);
  if (until != 0 && now_ns >= until) {
    Eject(member, now_ns);  // the half-open probe failed: open again, longer
    return;
  }
  if (s.consecutive_failures.fetch_add(1, std::memory_order_relaxed) + 1 >=
      static_cast<int32_t>(breaker_failures_)) {
    Eject(member, now_ns);
  }
}

}  // namespace shieldx::pipeline
