// Pipeline: the per-request decision (DESIGN.md §3 steps 2-10) behind every front end.
//
//   auto p = Pipeline::Create(options, deps);     // once
//   p->SetSnapshot(snapshot);                     // whenever the configuration changes
//   Decision d = p->Decide(request, context);     // per request, any thread
//
// Steps: resolve tenant and site (host, or RequestContext::tenant_id/site_id), match the
// route; IP deny/allow lists; route rate limits; detection (libs/detect, the route's
// sensitivity and body limit); contauth session risk (Redis cache); the route's active rule
// set (libs/policy) and its rate limits; contauth thresholds; credits usage and the tenant's
// out-of-credits behaviour; routing (the route's pool or the divert pool); the decision event,
// metrics and the shadow comparison.
//
// How detection and policy combine: a rule whose condition holds decides (so a rule can both
// tighten and relax). When no rule decides (the rule set's default, or no rule set on the
// route), the detection verdict decides if it says block or challenge, otherwise the rule
// set's default action. Detection is the baseline protection a tenant gets without rules.
//
// Failure behaviour (Decide never fails):
// - no snapshot yet: block with `no_config_status` (503) unless `fail_open_without_config`;
// - unknown host: block with `unknown_host_status` (421 Misdirected Request);
// - Redis down: rate limits use the local fallback (rate_limiter.h), contauth risk follows the
//   route's failure mode (fail closed → challenge);
// - a pool with no eligible member: the balancer's panic pick, tagged `pool_panic`; a route
//   without any pool forwards with `upstream` "" (the proxy's own backend).
//
// Cost: no locks and no I/O on the common path; I/O only for a Redis rate-limit check when a
// limit applies and for a contauth risk cache miss. Per-thread buffers are reused.
//
// Thread-safety: Decide, ReportOutcome and SetSnapshot are thread-safe.
#ifndef SHIELDX_LIBS_PIPELINE_PIPELINE_H_
#define SHIELDX_LIBS_PIPELINE_PIPELINE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "libs/base/clock.h"
#include "libs/detect/inspector.h"
#include "libs/pipeline/decision.h"
#include "libs/pipeline/events.h"
#include "libs/pipeline/pipeline_metrics.h"
#include "libs/pipeline/rate_limiter.h"
#include "libs/pipeline/risk.h"
#include "libs/pipeline/snapshot.h"

namespace shieldx::pipeline {

struct PipelineOptions {
  std::string replica_id = "local";  // prefix of generated request ids
  int unknown_host_status = 421;
  int no_config_status = 503;
  bool fail_open_without_config = false;
  int challenge_status = 401;
  // Share of ALLOW decisions recorded as events (every other action is always recorded).
  double allow_event_sample_rate = 1.0;
  // The detection profile each route sensitivity starts from (Profile::Default() otherwise).
  detect::Profile base_profile = detect::Profile::Default();
};

// What the pipeline uses; every pointer may be null except where noted, and must outlive it.
struct PipelineDeps {
  Clock* clock = nullptr;               // null: Clock::Real()
  RateLimiter* rate_limiter = nullptr;  // null: rate limits are not enforced
  RiskSource* risk = nullptr;           // null: contauth risk is unknown
  EventSink* events = nullptr;          // null: no decision events
  PipelineMetrics* metrics = nullptr;   // null: no metrics
};

class Pipeline : public Decider {
 public:
  // Builds the detection engines (one per sensitivity). InvalidArgument when the base profile
  // does not compile.
  static absl::StatusOr<std::unique_ptr<Pipeline>> Create(PipelineOptions options,
                                                          PipelineDeps deps);
  ~Pipeline() override;

  Decision Decide(const detect::HttpRequest& request, const RequestContext& context) override;
  void ReportOutcome(const UpstreamOutcome& outcome) override;

  // Swaps the configuration atomically; decisions already running finish on the old one.
  void SetSnapshot(std::shared_ptr<const Snapshot> snapshot);
  std::shared_ptr<const Snapshot> snapshot() const;

  const detect::Inspector& inspector(detect::Sensitivity s) const;
  const PipelineOptions& options() const { return options_; }

 private:
  struct Work;
  Pipeline(PipelineOptions options, PipelineDeps deps);
  void Resolve(Work& w);
  bool CheckLists(Work& w);
  bool CheckRouteRateLimits(Work& w);
  void Detect(Work& w);
  void ReadRisk(Work& w);
  void EvaluatePolicy(Work& w);
  void ApplyRisk(Work& w);
  void ApplyCredits(Work& w);
  void Route(Work& w);
  void Finish(Work& w);
  RateResult CheckRate(Work& w, std::string_view key, const RateSpec& spec, RateSource source);
  void SetAction(Work& w, Action action, int status, std::string_view rule_id,
                 std::string explanation);

  const PipelineOptions options_;
  Clock* const clock_;
  RateLimiter* const rate_limiter_;
  RiskSource* const risk_;
  EventSink* const events_;
  PipelineMetrics* const metrics_;
  std::array<std::unique_ptr<detect::Inspector>, 4> inspectors_;  // by Sensitivity - 1
  std::array<uint64_t, 4> inspector_ids_{};
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
  std::atomic<uint64_t> request_counter_{0};
};

}  // namespace shieldx::pipeline

#endif  // SHIELDX_LIBS_PIPELINE_PIPELINE_H_
