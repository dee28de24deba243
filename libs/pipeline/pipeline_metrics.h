// Prometheus families of the decision pipeline. Names are part of the runbook's contract:
//   shieldx_attacks_detected{tenant_id,category,action}    counter (exact name, no _total)
//   shieldx_decisions_total{tenant_id,action}               counter
//   shieldx_pipeline_requests_total{front_end}              counter
//   shieldx_pipeline_duration_seconds{front_end}            histogram (steps 1-9)
//   shieldx_rate_limit_hits_total{tenant_id,source,backend} counter (source route|policy,
//                                                           backend redis|local|failure_mode)
//   shieldx_config_version                                  gauge: applied snapshot version
//   shieldx_config_stored_version                           gauge: newest version in PostgreSQL
//   shieldx_config_reloads_total{result}                    counter (ok|failed)
//   shieldx_config_tenant_errors                            gauge: tenants whose newest config
//                                                           failed to compile (old one serving)
//   shieldx_upstream_healthy{tenant_id,pool_id,member_id}   gauge 1/0 (health checker)
//   shieldx_decision_events_dropped_total                   counter
//
// Hot-path cost: label children are created once per (tenant, label values) under a mutex and
// cached in TenantStats as atomics, so steady-state updates are one atomic load plus one
// atomic add. Label values are bounded: tenant ids, fixed enums, configured pools/members.
//
// Thread-safety: all methods are thread-safe.
#ifndef SHIELDX_LIBS_PIPELINE_PIPELINE_METRICS_H_
#define SHIELDX_LIBS_PIPELINE_PIPELINE_METRICS_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "libs/detect/finding.h"
#include "libs/pipeline/decision.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace shieldx::pipeline {

// Action label values: the six actions plus "monitor" (monitor-mode routes).
inline constexpr int kActionLabels = 7;
inline constexpr int kFrontEnds = 6;
enum class RateSource : uint8_t { kRoute = 0, kPolicy = 1 };
enum class RateBackend : uint8_t { kRedis = 0, kLocal = 1, kFailureMode = 2 };

struct TenantStats {
  std::string tenant_id;
  std::atomic<prometheus::Counter*> attacks[detect::kCategoryCount][kActionLabels] = {};
  std::atomic<prometheus::Counter*> decisions[kActionLabels] = {};
  std::atomic<prometheus::Counter*> rate_hits[2][3] = {};
};

class PipelineMetrics {
 public:
  explicit PipelineMetrics(prometheus::Registry& registry);

  std::shared_ptr<TenantStats> Tenant(const std::string& tenant_id);
  // `action_label`: 0..5 = Action, 6 = monitor.
  void Attack(TenantStats& t, detect::Category category, int action_label);
  void Decided(TenantStats& t, int action_label);
  void RateLimitHit(TenantStats& t, RateSource source, RateBackend backend);
  // Lock-free: counts into atomic buckets that Fold() moves into the Prometheus histogram
  // (prometheus-cpp's Histogram::Observe takes a mutex, which the hot path must not).
  void Request(FrontEnd front_end, double seconds);
  // Moves the pending observations into the histograms; call periodically (and before a
  // scrape matters). Cheap when nothing is pending.
  void Fold();

  prometheus::Gauge& config_version() { return *config_version_; }
  prometheus::Gauge& config_stored_version() { return *config_stored_version_; }
  prometheus::Counter& reloads_ok() { return *reloads_ok_; }
  prometheus::Counter& reloads_failed() { return *reloads_failed_; }
  prometheus::Gauge& tenant_errors() { return *tenant_errors_; }
  prometheus::Counter& events_dropped() { return *events_dropped_; }
  void SetUpstreamHealthy(const std::string& tenant_id, const std::string& pool_id,
                          const std::string& member_id, bool healthy);

  static const char* ActionLabel(int action_label);

 private:
  prometheus::Counter* Child(prometheus::Family<prometheus::Counter>& family,
                             std::atomic<prometheus::Counter*>& slot,
                             const std::map<std::string, std::string>& labels);

  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<TenantStats>> tenants_ ABSL_GUARDED_BY(mu_);
  prometheus::Family<prometheus::Counter>* attacks_;
  prometheus::Family<prometheus::Counter>* decisions_;
  prometheus::Family<prometheus::Counter>* rate_hits_;
  prometheus::Family<prometheus::Gauge>* upstream_healthy_;
  prometheus::Counter* requests_[kFrontEnds];
  prometheus::Histogram* duration_[kFrontEnds];
  static constexpr int kBuckets = 12;
  double bounds_[kBuckets];
  std::atomic<uint64_t> pending_[kFrontEnds][kBuckets + 1] = {};
  std::atomic<uint64_t> pending_sum_ns_[kFrontEnds] = {};
  absl::Mutex fold_mu_;
  prometheus::Gauge* config_version_;
  prometheus::Gauge* config_stored_version_;
  prometheus::Counter* reloads_ok_;
  prometheus::Counter* reloads_failed_;
  prometheus::Gauge* tenant_errors_;
  prometheus::Counter* events_dropped_;
};

}  // namespace shieldx::pipeline

#endif  // SHIELDX_LIBS_PIPELINE_PIPELINE_METRICS_H_
