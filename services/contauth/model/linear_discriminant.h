// Per-user linear discriminant of one fixed text against the tenant's other users: an
// L2-regularised logistic regression of "this user" (the user's enrollment vectors) versus
// "someone else in the tenant" (the other users' enrollment vectors), in a tenant-level
// feature space where every timing is log-scaled (when it is a positive duration) and
// standardised. Everything is relative: a log turns a change of time unit into a constant
// shift, which the standardisation removes, so the model is the same in ms, s or ticks.
//
// Used by TenantBackground (keystroke_model.h); the functions here are pure and exposed for
// that class and its tests.
//
// Thread-safety: FeatureSpace and LinearDiscriminant are immutable values once fitted; the
// functions are pure.
#ifndef SHIELDX_SERVICES_CONTAUTH_MODEL_LINEAR_DISCRIMINANT_H_
#define SHIELDX_SERVICES_CONTAUTH_MODEL_LINEAR_DISCRIMINANT_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace shieldx::contauth {

// Newton iterations of the logistic fit (each O(rows * dims^2 + dims^3)); the L2 penalty
// makes the problem strongly convex, so it converges in 5-10 in practice.
inline constexpr int kMaxLogisticIterations = 30;

// Tenant-level transform of one text's timing vectors:
//   y_j = (g_j(x_j) - mean_j) * inv_sd_j,   g_j(x) = log(max(x, floor_j)) if log_scaled[j]
//                                                    x                      otherwise.
// A feature is log-scaled when at most kMaxNonPositiveShare of the pooled values are <= 0
// (holds and key-down latencies; up-down latencies only where rollover is rare); floor_j is
// kLogFloorOfMedian times its pooled median, so a stray 0 cannot produce -inf.
struct FeatureSpace {
  uint64_t text_id = 0;
  uint32_t dims = 0;
  std::vector<uint8_t> log_scaled;  // dims
  std::vector<float> floor;         // dims (meaningful where log_scaled)
  std::vector<float> mean;          // dims, of g(x)
  std::vector<float> inv_sd;        // dims, 1 / sd of g(x) (sd floored, see .cc)

  // Writes dims values into `y`. REQUIRES: x and y hold dims floats.
  void Transform(const float* x, float* y) const;
};

inline constexpr double kMaxNonPositiveShare = 0.01;
inline constexpr double kLogFloorOfMedian = 0.05;

// Fits the feature space from `rows` (rows.size() / dims vectors, row-major) where row r has
// weight row_weights[r] > 0 (the caller weights each user equally). REQUIRES: at least two
// rows, dims >= 1, row_weights.size() == rows.size() / dims.
FeatureSpace FitFeatureSpace(uint64_t text_id, std::size_t dims, const std::vector<float>& rows,
                             const std::vector<double>& row_weights);

// "Is this the user?" as a linear function of the transformed vector y and, when `center`
// is set, of its absolute deviations from the user's mean (a learned per-feature weighting of
// a Manhattan distance):
//   logit = bias + sum_j weights[j] * y_j + sum_j weights[dims + j] * |y_j - center_j|
// (> 0 leans to the user). genuine_center / impostor_center are the mean logits of the
// user's own training vectors and of the other users' (in-sample), used to normalise it:
//   Distance(x) = (genuine_center - logit(x)) / (genuine_center - impostor_center)
// is 0 for a typical own vector and 1 for a typical other user's.
struct LinearDiscriminant {
  uint64_t text_id = 0;
  uint32_t dims = 0;
  std::vector<float> weights;  // dims, or 2 * dims with center
  std::vector<float> center;   // empty, or dims: the user's mean transformed vector
  float bias = 0;
  float genuine_center = 0;
  float impostor_center = 0;

  double Logit(const float* y) const;     // y: transformed vector (FeatureSpace::Transform)
  double Distance(const float* y) const;  // normalised as above
};

// Balanced, L2-regularised logistic regression by Newton's method: positives and negatives
// each carry half of the total weight (whatever their counts), the penalty is
// (l2 / 2) * |w|^2 (the bias is not penalised). `positives` / `negatives` are transformed
// vectors, row-major, dims each. With `deviations`, the model also gets |y - mean of the
// positives| as features. Returns false (leaving `out` unspecified) when either set is
// empty or the fit does not produce finite numbers; otherwise fills every field of `out`
// except text_id. REQUIRES: l2 > 0.
bool FitLogistic(const std::vector<float>& positives, const std::vector<float>& negatives,
                 std::size_t dims, double l2, bool deviations, LinearDiscriminant* out);

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_MODEL_LINEAR_DISCRIMINANT_H_
