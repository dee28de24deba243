#include "services/contauth/contauth_metrics.h"

#include <string>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace shieldx::contauth {

ContAuthMetrics::ContAuthMetrics(prometheus::Registry& registry) {
  auto& risk = prometheus::BuildHistogram()
                   .Name("shieldx_contauth_risk_score")
                   .Help("Session risk of every contauth decision (0 = the user, 1 = an impostor)")
                   .Register(registry);
  risk_ = &risk.Add({}, prometheus::Histogram::BucketBoundaries{0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6,
                                                                0.7, 0.8, 0.9, 0.95, 1.0});
  auto& decisions = prometheus::BuildCounter()
                        .Name("shieldx_contauth_decisions_total")
                        .Help("contauth decisions by action")
                        .Register(registry);
  for (int a = 0; a < 5; ++a) {
    decisions_[a] = &decisions.Add({{"action", std::string(ActionName(static_cast<Action>(a)))}});
  }
  auto& challenges = prometheus::BuildCounter()
                         .Name("shieldx_contauth_challenges_total")
                         .Help("step-up challenge outcomes reported to contauth")
                         .Register(registry);
  for (int o = 0; o < 5; ++o) {
    challenges_[o] = &challenges.Add(
        {{"outcome", std::string(ChallengeOutcomeName(static_cast<ChallengeOutcome>(o)))}});
  }
  auto& events = prometheus::BuildCounter()
                     .Name("shieldx_contauth_telemetry_events_total")
                     .Help("telemetry events accepted, by kind")
                     .Register(registry);
  const char* kinds[] = {"keystroke_sample", "pointer", "touch", "device", "context", "access"};
  for (int k = 0; k < static_cast<int>(EventKind::kCount); ++k) {
    events_[k] = &events.Add({{"kind", kinds[k]}});
  }
  auto& updates = prometheus::BuildCounter()
                      .Name("shieldx_contauth_profile_updates_total")
                      .Help(
                          "keystroke profile changes: enrollments, adaptive updates, folds "
                          "after passed challenges")
                      .Register(registry);
  const char* update_kinds[] = {"enroll", "adaptive", "challenge_fold"};
  for (int k = 0; k < static_cast<int>(ProfileUpdateKind::kCount); ++k) {
    updates_[k] = &updates.Add({{"kind", update_kinds[k]}});
  }
  auto& rebuilds = prometheus::BuildCounter()
                       .Name("shieldx_contauth_background_rebuilds_total")
                       .Help(
                           "tenant background rebuilds by the background worker: built, failed "
                           "(store error), skipped (rebuild queue full)")
                       .Register(registry);
  const char* rebuild_results[] = {"built", "failed", "skipped"};
  for (int r = 0; r < static_cast<int>(BackgroundRebuildResult::kCount); ++r) {
    background_rebuilds_[r] = &rebuilds.Add({{"result", rebuild_results[r]}});
  }
  rejected_ = &prometheus::BuildCounter()
                   .Name("shieldx_contauth_telemetry_rejected_total")
                   .Help("telemetry batches rejected as invalid")
                   .Register(registry)
                   .Add({});
  publish_failures_ = &prometheus::BuildCounter()
                           .Name("shieldx_contauth_risk_publish_failures_total")
                           .Help("session risks that could not be published to Redis")
                           .Register(registry)
                           .Add({});
}

void ContAuthMetrics::ObserveDecision(Action action, double risk) {
  if (risk_ == nullptr) return;
  risk_->Observe(risk);
  decisions_[static_cast<int>(action)]->Increment();
}

void ContAuthMetrics::ObserveChallenge(ChallengeOutcome outcome) {
  if (risk_ == nullptr) return;
  challenges_[static_cast<int>(outcome)]->Increment();
}

void ContAuthMetrics::AddEvents(EventKind kind, uint64_t n) {
  if (risk_ == nullptr || n == 0) return;
  events_[static_cast<int>(kind)]->Increment(static_cast<double>(n));
}

void ContAuthMetrics::IncRejected() {
  if (rejected_ != nullptr) rejected_->Increment();
}

void ContAuthMetrics::IncPublishFailure() {
  if (publish_failures_ != nullptr) publish_failures_->Increment();
}

void ContAuthMetrics::AddProfileUpdates(ProfileUpdateKind kind, uint64_t n) {
  if (risk_ == nullptr || n == 0) return;
  updates_[static_cast<int>(kind)]->Increment(static_cast<double>(n));
}

void ContAuthMetrics::IncBackgroundRebuild(BackgroundRebuildResult result) {
  prometheus::Counter* c = background_rebuilds_[static_cast<int>(result)];
  if (c != nullptr) c->Increment();
}

}  // namespace shieldx::contauth
