// CreditsMetrics: the ledger's business metrics, fed by Ledger through LedgerObserver.
//
//   shieldx_credits_balance{tenant_id}                  gauge: available credits (posted minus
//                                                       pending), set after every committed
//                                                       change on this replica and refreshed
//                                                       from the database by the sweeper, so
//                                                       the runbook's LowCreditBalance alert
//                                                       (`shieldx_credits_balance < 1000`) fires
//   shieldx_credits_below_alert_threshold{tenant_id}    gauge: 1 when below the tenant's own
//                                                       alert threshold
//   shieldx_credits_operations_total{operation,result}  counter: every mutation by operation
//                                                       and result ("ok", "replayed", a reason
//                                                       or a status code name, lower case)
//   shieldx_credits_consumed_credits_total{usage_kind}  counter: credits consumed (CONSUME,
//                                                       CAPTURE), first application only
//   shieldx_credits_refunded_credits_total{usage_kind}  counter: credits refunded
//   shieldx_credits_low_balance_events_total            counter: threshold crossings signalled
//   shieldx_credits_group_commit_calls                  histogram: calls per group commit
//                                                       transaction
//   shieldx_credits_group_commits_total{result}         counter: group transactions by result
//                                                       ("ok", "split", a status code name)
//
// Label bounds: operation and usage_kind are fixed sets; tenant_id is capped at `max_tenants`
// series (further tenants are counted in shieldx_credits_balance_series_dropped_total).
//
// Thread-safety: thread-safe.
#ifndef SHIELDX_SERVICES_CREDITS_CREDITS_METRICS_H_
#define SHIELDX_SERVICES_CREDITS_CREDITS_METRICS_H_

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "services/credits/ledger.h"

namespace shieldx::credits {

// Receives low-balance crossings (e.g. a Redis stream for the gateway's live events).
class LowBalanceSink {
 public:
  virtual ~LowBalanceSink() = default;
  virtual void Publish(const std::string& tenant_id, const Balance& balance) = 0;
};

class CreditsMetrics final : public LedgerObserver {
 public:
  // `sink` may be null; both must outlive this object.
  CreditsMetrics(prometheus::Registry& registry, int max_tenants, LowBalanceSink* sink);

  void OnOperation(const std::string& operation, const std::string& result) override;
  void OnBalance(const std::string& tenant_id, const Balance& balance) override;
  void OnConsumed(UsageKind usage_kind, int64_t credits) override;
  void OnRefunded(UsageKind usage_kind, int64_t credits) override;
  void OnLowBalance(const std::string& tenant_id, const Balance& balance) override;
  void OnGroupCommit(int calls, const std::string& result) override;

  // The current gauge value (tests); nullopt when the tenant has no series.
  std::optional<double> BalanceGauge(const std::string& tenant_id);

 private:
  const int max_tenants_;
  LowBalanceSink* sink_;
  prometheus::Family<prometheus::Gauge>& balance_;
  prometheus::Family<prometheus::Gauge>& below_;
  prometheus::Family<prometheus::Counter>& operations_;
  prometheus::Family<prometheus::Counter>& consumed_;
  prometheus::Family<prometheus::Counter>& refunded_;
  prometheus::Counter& low_events_;
  prometheus::Counter& dropped_;
  prometheus::Histogram& group_calls_;
  prometheus::Family<prometheus::Counter>& groups_;

  absl::Mutex mu_;
  struct TenantSeries {
    prometheus::Gauge* balance;
    prometheus::Gauge* below;
  };
  std::map<std::string, TenantSeries> tenants_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, prometheus::Counter*> ops_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, prometheus::Counter*> groups_by_result_ ABSL_GUARDED_BY(mu_);
};

// The usage kind's label value ("inspected_request", ...).
std::string UsageKindLabel(UsageKind kind);

}  // namespace shieldx::credits

#endif  // SHIELDX_SERVICES_CREDITS_CREDITS_METRICS_H_
