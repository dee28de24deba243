#include "libs/pipeline/pipeline_metrics.h"

#include "prometheus/histogram.h"

namespace shieldx::pipeline {

namespace {
const char* const kActionLabelNames[kActionLabels] = {"allow",  "block",      "challenge", "tarpit",
                                                      "divert", "rate_limit", "monitor"};
const char* const kSources[2] = {"route", "policy"};
const char* const kBackends[3] = {"redis", "local", "failure_mode"};
}  // namespace

const char* PipelineMetrics::ActionLabel(int action_label) {
  return action_label >= 0 && action_label < kActionLabels ? kActionLabelNames[action_label]
                                                           : "allow";
}

PipelineMetrics::PipelineMetrics(prometheus::Registry& registry) {
  attacks_ = &prometheus::BuildCounter()
                  .Name("shieldx_attacks_detected")
                  .Help(
                      "Requests in which the detection engine found an attack, by category and "
                      "the action taken")
                  .Register(registry);
  decisions_ = &prometheus::BuildCounter()
                    .Name("shieldx_decisions_total")
                    .Help("Decisions of the pipeline by action")
                    .Register(registry);
  rate_hits_ = &prometheus::BuildCounter()
                    .Name("shieldx_rate_limit_hits_total")
                    .Help(
                        "Requests over a rate limit, by where the limit came from and which "
                        "backend counted it")
                    .Register(registry);
  upstream_healthy_ = &prometheus::BuildGauge()
                           .Name("shieldx_upstream_healthy")
                           .Help("1 when the pool member can take traffic on this replica")
                           .Register(registry);
  auto& requests = prometheus::BuildCounter()
                       .Name("shieldx_pipeline_requests_total")
                       .Help("Requests decided, by front end")
                       .Register(registry);
  auto& duration = prometheus::BuildHistogram()
                       .Name("shieldx_pipeline_duration_seconds")
                       .Help("Time spent in the decision pipeline (steps 1-9), by front end")
                       .Register(registry);
  const prometheus::Histogram::BucketBoundaries buckets = {
      10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 50e-3, 0.25};
  for (int b = 0; b < kBuckets; ++b) bounds_[b] = buckets[b];
  for (int i = 0; i < kFrontEnds; ++i) {
    const std::string fe = FrontEndName(static_cast<FrontEnd>(i));
    requests_[i] = &requests.Add({{"front_end", fe}});
    duration_[i] = &duration.Add({{"front_end", fe}}, buckets);
  }
  config_version_ = &prometheus::BuildGauge()
                         .Name("shieldx_config_version")
                         .Help("Configuration version of the snapshot this replica decides with")
                         .Register(registry)
                         .Add({});
  config_stored_version_ = &prometheus::BuildGauge()
                                .Name("shieldx_config_stored_version")
                                .Help("Newest configuration version seen in PostgreSQL")
                                .Register(registry)
                                .Add({});
  auto& reloads = prometheus::BuildCounter()
                      .Name("shieldx_config_reloads_total")
                      .Help("Configuration reloads by result")
                      .Register(registry);
  reloads_ok_ = &reloads.Add({{"result", "ok"}});
  reloads_failed_ = &reloads.Add({{"result", "failed"}});
  tenant_errors_ = &prometheus::BuildGauge()
                        .Name("shieldx_config_tenant_errors")
                        .Help(
                            "Tenants whose newest configuration failed to compile (their "
                            "previous configuration keeps serving)")
                        .Register(registry)
                        .Add({});
  events_dropped_ = &prometheus::BuildCounter()
                         .Name("shieldx_decision_events_dropped_total")
                         .Help(
                             "Decision events dropped because the queue was full or the "
                             "stream was unavailable")
                         .Register(registry)
                         .Add({});
}

std::shared_ptr<TenantStats> PipelineMetrics::Tenant(const std::string& tenant_id) {
  absl::MutexLock lock(&mu_);
  std::shared_ptr<TenantStats>& t = tenants_[tenant_id];
  if (t == nullptr) {
    t = std::make_shared<TenantStats>();
    t->tenant_id = tenant_id;
  }
  return t;
}

prometheus::Counter* PipelineMetrics::Child(prometheus::Family<prometheus::Counter>& family,
                                            std::atomic<prometheus::Counter*>& slot,
                                            const std::map<std::string, std::string>& labels) {
  prometheus::Counter* c = slot.load(std::memory_order_acquire);
  if (c != nullptr) return c;
  absl::MutexLock lock(&mu_);
  c = slot.load(std::memory_order_acquire);
  if (c == nullptr) {
    c = &family.Add(labels);
    slot.store(c, std::memory_order_release);
  }
  return c;
}

void PipelineMetrics::Attack(TenantStats& t, detect::Category category, int action_label) {
  const int c = static_cast<int>(category);
  if (c < 0 || c >= detect::kCategoryCount || action_label < 0 || action_label >= kActionLabels) {
    return;
  }
  std::atomic<prometheus::Counter*>& slot = t.attacks[c][action_label];
  prometheus::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    counter = Child(*attacks_, slot,
                    {{"tenant_id", t.tenant_id},
                     {"category", detect::CategoryName(category)},
                     {"action", ActionLabel(action_label)}});
  }
  counter->Increment();
}

void PipelineMetrics::Decided(TenantStats& t, int action_label) {
  if (action_label < 0 || action_label >= kActionLabels) return;
  std::atomic<prometheus::Counter*>& slot = t.decisions[action_label];
  prometheus::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    counter = Child(*decisions_, slot,
                    {{"tenant_id", t.tenant_id}, {"action", ActionLabel(action_label)}});
  }
  counter->Increment();
}

void PipelineMetrics::RateLimitHit(TenantStats& t, RateSource source, RateBackend backend) {
  const int s = static_cast<int>(source), b = static_cast<int>(backend);
  std::atomic<prometheus::Counter*>& slot = t.rate_hits[s][b];
  prometheus::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    counter =
        Child(*rate_hits_, slot,
              {{"tenant_id", t.tenant_id}, {"source", kSources[s]}, {"backend", kBackends[b]}});
  }
  counter->Increment();
}

void PipelineMetrics::Request(FrontEnd front_end, double seconds) {
  const int i = static_cast<int>(front_end);
  if (i < 0 || i >= kFrontEnds) return;
  requests_[i]->Increment();
  int b = 0;
  while (b < kBuckets && seconds > bounds_[b]) ++b;
  pending_[i][b].fetch_add(1, std::memory_order_relaxed);
  pending_sum_ns_[i].fetch_add(static_cast<uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

void PipelineMetrics::Fold() {
  absl::MutexLock lock(&fold_mu_);
  for (int i = 0; i < kFrontEnds; ++i) {
    std::vector<double> increments(kBuckets + 1, 0);
    bool any = false;
    for (int b = 0; b <= kBuckets; ++b) {
      const uint64_t n = pending_[i][b].exchange(0, std::memory_order_relaxed);
      increments[b] = static_cast<double>(n);
      any = any || n != 0;
    }
    const uint64_t sum_ns = pending_sum_ns_[i].exchange(0, std::memory_order_relaxed);
    if (any) duration_[i]->ObserveMultiple(increments, static_cast<double>(sum_ns) / 1e9);
  }
}

void PipelineMetrics::SetUpstreamHealthy(const std::string& tenant_id, const std::string& pool_id,
                                         const std::string& member_id, bool healthy) {
  absl::MutexLock lock(&mu_);
  upstream_healthy_->Add({{"tenant_id", tenant_id}, {"pool_id", pool_id}, {"member_id", member_id}})
      .Set(healthy ? 1 : 0);
}

}  // namespace shieldx::pipeline
