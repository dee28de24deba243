#include "services/credits/credits_metrics.h"

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"

namespace shieldx::credits {

std::string UsageKindLabel(UsageKind kind) {
  switch (kind) {
    case UsageKind::kInspectedRequest:
      return "inspected_request";
    case UsageKind::kPluginExecution:
      return "plugin_execution";
    case UsageKind::kShadowEvaluation:
      return "shadow_evaluation";
    case UsageKind::kTwinSimulation:
      return "twin_simulation";
    default:
      return "unspecified";
  }
}

CreditsMetrics::CreditsMetrics(prometheus::Registry& registry, int max_tenants,
                               LowBalanceSink* sink)
    : max_tenants_(max_tenants),
      sink_(sink),
      balance_(prometheus::BuildGauge()
                   .Name("shieldx_credits_balance")
                   .Help("Available credits of a tenant (posted minus pending holds)")
                   .Register(registry)),
      below_(prometheus::BuildGauge()
                 .Name("shieldx_credits_below_alert_threshold")
                 .Help("1 when the tenant's available credits are below its alert threshold")
                 .Register(registry)),
      operations_(prometheus::BuildCounter()
                      .Name("shieldx_credits_operations_total")
                      .Help("Ledger mutations by operation and result")
                      .Register(registry)),
      consumed_(prometheus::BuildCounter()
                    .Name("shieldx_credits_consumed_credits_total")
                    .Help("Credits consumed, by usage kind")
                    .Register(registry)),
      refunded_(prometheus::BuildCounter()
                    .Name("shieldx_credits_refunded_credits_total")
                    .Help("Credits refunded, by usage kind")
                    .Register(registry)),
      low_events_(prometheus::BuildCounter()
                      .Name("shieldx_credits_low_balance_events_total")
                      .Help("Tenant balances that crossed below their alert threshold")
                      .Register(registry)
                      .Add({})),
      dropped_(prometheus::BuildCounter()
                   .Name("shieldx_credits_balance_series_dropped_total")
                   .Help("Balance updates not exported because the tenant series cap was hit")
                   .Register(registry)
                   .Add({})),
      group_calls_(prometheus::BuildHistogram()
                       .Name("shieldx_credits_group_commit_calls")
                       .Help("Calls coalesced into one group commit transaction")
                       .Register(registry)
                       .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128,
                                                                        256, 512, 1000})),
      groups_(prometheus::BuildCounter()
                  .Name("shieldx_credits_group_commits_total")
                  .Help("Group commit transactions by result (ok, split, or a status code)")
                  .Register(registry)) {}

void CreditsMetrics::OnGroupCommit(int calls, const std::string& result) {
  group_calls_.Observe(calls);
  prometheus::Counter* c = nullptr;
  {
    absl::MutexLock lock(&mu_);
    auto it = groups_by_result_.find(result);
    if (it == groups_by_result_.end()) {
      it = groups_by_result_.emplace(result, &groups_.Add({{"result", result}})).first;
    }
    c = it->second;
  }
  c->Increment();
}

void CreditsMetrics::OnOperation(const std::string& operation, const std::string& result) {
  const std::string key = operation + "\n" + result;
  prometheus::Counter* c = nullptr;
  {
    absl::MutexLock lock(&mu_);
    auto it = ops_.find(key);
    if (it == ops_.end()) {
      c = &operations_.Add({{"operation", operation}, {"result", result}});
      ops_[key] = c;
    } else {
      c = it->second;
    }
  }
  c->Increment();
}

void CreditsMetrics::OnBalance(const std::string& tenant_id, const Balance& balance) {
  absl::MutexLock lock(&mu_);
  auto it = tenants_.find(tenant_id);
  if (it == tenants_.end()) {
    if (static_cast<int>(tenants_.size()) >= max_tenants_) {
      dropped_.Increment();
      return;
    }
    TenantSeries s{&balance_.Add({{"tenant_id", tenant_id}}),
                   &below_.Add({{"tenant_id", tenant_id}})};
    it = tenants_.emplace(tenant_id, s).first;
  }
  it->second.balance->Set(static_cast<double>(balance.available_credits));
  it->second.below->Set(balance.below_alert_threshold ? 1 : 0);
}

void CreditsMetrics::OnConsumed(UsageKind usage_kind, int64_t credits) {
  consumed_.Add({{"usage_kind", UsageKindLabel(usage_kind)}})
      .Increment(static_cast<double>(credits));
}

void CreditsMetrics::OnRefunded(UsageKind usage_kind, int64_t credits) {
  refunded_.Add({{"usage_kind", UsageKindLabel(usage_kind)}})
      .Increment(static_cast<double>(credits));
}

void CreditsMetrics::OnLowBalance(const std::string& tenant_id, const Balance& balance) {
  low_events_.Increment();
  if (sink_ != nullptr) sink_->Publish(tenant_id, balance);
}

std::optional<double> CreditsMetrics::BalanceGauge(const std::string& tenant_id) {
  absl::MutexLock lock(&mu_);
  auto it = tenants_.find(tenant_id);
  if (it == tenants_.end()) return std::nullopt;
  return it->second.balance->Value();
}

}  // namespace shieldx::credits
