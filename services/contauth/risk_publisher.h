// RiskPublisher: makes a session's latest risk readable by the orchestrator without a call to
// contauth (DESIGN.md: the hot path reads contauth's risk from Redis).
//
// Redis format (RedisRiskPublisher) — the contract libs/pipeline/risk.h (RedisRiskSource,
// the orchestrator's hot path) reads:
//   key    shieldx:contauth:risk:<tenant_id>:<session_id>       (ids as given, [A-Za-z0-9._:@+/=-])
//   value  the calibrated risk as a decimal string in [0, 1] with 4 decimals, e.g. "0.8123"
//   TTL    PX = expires_at - now (the tenant's decision TTL): an expired risk disappears, and a
//          session without a key has unknown risk.
// The action, confidence, reasons and decision id stay in contauth (GetDecision); the
// orchestrator's rules decide on the number (`auth.risk > 0.7`).
//
// Thread-safety: implementations are thread-safe.
#ifndef SHIELDX_SERVICES_CONTAUTH_RISK_PUBLISHER_H_
#define SHIELDX_SERVICES_CONTAUTH_RISK_PUBLISHER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/contauth/types.h"

namespace shieldx::redis {
class RedisPool;
}

namespace shieldx::contauth {

inline constexpr char kRiskKeyPrefix[] = "shieldx:contauth:risk:";

std::string RiskKey(const std::string& tenant, const std::string& session);
std::string RiskValue(const Decision& d);

class RiskPublisher {
 public:
  virtual ~RiskPublisher() = default;
  // Publishes the decision as the session's current risk until d.expires_at. A decision
  // already expired at `now` is not published (OK).
  virtual absl::Status Publish(const Decision& d, absl::Time now) = 0;
  // Removes the sessions' published risk (profile deletion).
  virtual absl::Status Remove(const std::string& tenant,
                              const std::vector<std::string>& sessions) = 0;
};

class RedisRiskPublisher final : public RiskPublisher {
 public:
  explicit RedisRiskPublisher(redis::RedisPool* pool) : pool_(pool) {}
  absl::Status Publish(const Decision& d, absl::Time now) override;
  absl::Status Remove(const std::string& tenant, const std::vector<std::string>& sessions) override;

 private:
  redis::RedisPool* pool_;
};

// Keeps published values in memory (tests, benchmarks); expiry is checked on read.
class InMemoryRiskPublisher final : public RiskPublisher {
 public:
  absl::Status Publish(const Decision& d, absl::Time now) override;
  absl::Status Remove(const std::string& tenant, const std::vector<std::string>& sessions) override;
  // The value under the key, or "" when absent.
  std::string Get(const std::string& key) const;
  void SetFailure(absl::Status s);

 private:
  mutable absl::Mutex mu_;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> values_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_RISK_PUBLISHER_H_
