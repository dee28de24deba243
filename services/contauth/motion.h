// Pointer and touch dynamics: per-batch feature extraction and a per-user distribution model.
//
// Pointer: the batch's MOVE events are cut into strokes (a pause over kStrokeGapMs or any
// button / wheel event ends one). A stroke with >= kMinStrokeMoves moves and >= kMinStrokePx of
// path yields one observation of: log mean speed, log peak speed, log mean |acceleration|,
// straightness (chord / path length), mean absolute turning angle (curvature, rad per
// segment). A DOWN followed by an UP of the same button yields a click observation: log hold
// time and log pause between the last move and the press.
// Touch: each finger's START..END trace is a swipe (path >= kMinSwipePx) or a tap; a swipe
// yields log speed, log length, log duration, straightness, mean pressure, mean radius; a tap
// yields log hold time, mean pressure, mean radius.
//
// The model (MotionProfile) keeps, per feature, a running mean and variance (Welford) whose
// count saturates at kMotionMemory, so the mean becomes exponentially weighted and the profile
// follows slow drift without being rewritten by one session. Scoring averages the clipped
// |z| of every observation against the user's statistics and maps it through a logistic
// calibration. These constants are set from first principles (|z| of a genuine observation
// averages ~0.8 for a normal feature), not fitted on data: no pointer or touch dataset ships
// with the project, so treat pointer / touch scores as supporting evidence (their fusion
// weights are lower than keystroke's).
//
// Thread-safety: pure functions; MotionProfile is a plain value.
#ifndef SHIELDX_SERVICES_CONTAUTH_MOTION_H_
#define SHIELDX_SERVICES_CONTAUTH_MOTION_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/contauth/telemetry.h"

namespace shieldx::contauth {

inline constexpr std::size_t kMotionFeatures = 7;
inline constexpr double kStrokeGapMs = 250;
inline constexpr std::size_t kMinStrokeMoves = 5;
inline constexpr double kMinStrokePx = 20;
inline constexpr double kMinSwipePx = 12;
inline constexpr uint32_t kMotionMemory = 500;  // Welford count saturates here
// Observations kept per batch per feature (bounds scoring cost; the rest are ignored).
inline constexpr std::size_t kMaxObservationsPerFeature = 512;

enum class MotionKind { kPointer, kTouch };

// Names of the features of a kind, in index order.
const std::array<absl::string_view, kMotionFeatures>& MotionFeatureNames(MotionKind kind);

// The observations extracted from one batch: per feature, the values seen.
struct MotionObservations {
  MotionKind kind = MotionKind::kPointer;
  std::array<std::vector<float>, kMotionFeatures> values;
  std::size_t total() const;
};

// REQUIRES: the events passed ValidateBatch.
MotionObservations ExtractPointer(const std::vector<PointerEvent>& events);
MotionObservations ExtractTouch(const std::vector<TouchEvent>& events);

struct MotionStat {
  uint32_t count = 0;
  float mean = 0;
  float m2 = 0;
};

struct MotionProfile {
  std::array<MotionStat, kMotionFeatures> stats{};
  uint64_t batches = 0;  // batches folded in
  // Observations in the least-observed feature that has any (enrollment progress).
  uint32_t MinCount() const;
};

struct MotionScore {
  double score = 0.5;
  double confidence = 0;
  uint32_t observations = 0;  // observations compared (0: nothing comparable)
  double mean_abs_z = 0;
};

// A feature is used once the profile holds kMinFeatureObservations of it.
inline constexpr uint32_t kMinFeatureObservations = 20;

// Scores the batch against the profile. observations == 0 when no feature is comparable.
MotionScore ScoreMotion(const MotionProfile& profile, const MotionObservations& obs);

// Folds the observations into the profile (enrollment or confident acceptance).
void LearnMotion(const MotionObservations& obs, MotionProfile* profile);

// True while the profile is still enrolling: fewer than `min_batches` batches folded in.
bool MotionEnrolling(const MotionProfile& profile, uint32_t min_batches);

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_MOTION_H_
