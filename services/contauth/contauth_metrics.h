// ContAuthMetrics: contauth's business metrics on the process registry.
//
//   shieldx_contauth_risk_score                    histogram of every decision's risk (0..1)
//   shieldx_contauth_decisions_total{action}       allow | monitor | challenge | deny
//   shieldx_contauth_challenges_total{outcome}     passed | failed | abandoned | expired
//   shieldx_contauth_telemetry_events_total{kind}  accepted events: keystroke_sample | pointer |
//                                                  touch | device | context | access
//   shieldx_contauth_telemetry_rejected_total      batches rejected as invalid
//   shieldx_contauth_risk_publish_failures_total   Redis publishes that failed (decision stored)
//   shieldx_contauth_profile_updates_total{kind}   enroll | adaptive | challenge_fold
//   shieldx_contauth_background_rebuilds_total{result}
//                                                  tenant background rebuilds by the worker:
//                                                  built | failed | skipped (queue full; a
//                                                  later call schedules it again)
//
// Labels are bounded enums. Thread-safety: thread-safe. A default-constructed instance (no
// registry) records nothing (tests that do not look at metrics).
#ifndef SHIELDX_SERVICES_CONTAUTH_CONTAUTH_METRICS_H_
#define SHIELDX_SERVICES_CONTAUTH_CONTAUTH_METRICS_H_

#include <array>
#include <cstdint>
#include <string_view>

#include "services/contauth/types.h"

namespace prometheus {
class Registry;
class Counter;
class Histogram;
}  // namespace prometheus

namespace shieldx::contauth {

enum class EventKind { kKeystrokeSample, kPointer, kTouch, kDevice, kContext, kAccess, kCount };
enum class ProfileUpdateKind { kEnroll, kAdaptive, kChallengeFold, kCount };
enum class BackgroundRebuildResult { kBuilt, kFailed, kSkipped, kCount };

class ContAuthMetrics {
 public:
  ContAuthMetrics() = default;
  explicit ContAuthMetrics(prometheus::Registry& registry);

  void ObserveDecision(Action action, double risk);
  void ObserveChallenge(ChallengeOutcome outcome);
  void AddEvents(EventKind kind, uint64_t n);
  void IncRejected();
  void IncPublishFailure();
  void AddProfileUpdates(ProfileUpdateKind kind, uint64_t n);
  void IncBackgroundRebuild(BackgroundRebuildResult result);

 private:
  prometheus::Histogram* risk_ = nullptr;
  std::array<prometheus::Counter*, 5> decisions_{};
  std::array<prometheus::Counter*, 5> challenges_{};
  std::array<prometheus::Counter*, static_cast<int>(EventKind::kCount)> events_{};
  std::array<prometheus::Counter*, static_cast<int>(ProfileUpdateKind::kCount)> updates_{};
  std::array<prometheus::Counter*, static_cast<int>(BackgroundRebuildResult::kCount)>
      background_rebuilds_{};
  prometheus::Counter* rejected_ = nullptr;
  prometheus::Counter* publish_failures_ = nullptr;
};

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_CONTAUTH_METRICS_H_
