// Internal to the keystroke model: fitting a fixed-text template's statistics and computing
// the raw detector distances. Exposed in a header for keystroke_model.cc and its tests only.
//
// Thread-safety: pure functions.
#ifndef SHIELDX_SERVICES_CONTAUTH_MODEL_TEMPLATE_FIT_H_
#define SHIELDX_SERVICES_CONTAUTH_MODEL_TEMPLATE_FIT_H_

#include <array>
#include <cstddef>
#include <vector>

#include "services/contauth/model/keystroke_model.h"

namespace shieldx::contauth::internal {

// Fits mean, scales, inverse shrunk correlation and the scaled sample matrix of `out` from
// the vectors data[r * dims .. r * dims + dims) for r in `rows` (already in out's feature
// space: out->log_scaled, when set, groups the spread floors). Leaves norm_* untouched.
// REQUIRES: rows.size() >= 2, dims >= 1.
void FitTemplate(const float* data, std::size_t dims, const std::vector<std::size_t>& rows,
                 double min_shrinkage, CompiledTemplate* out);

// Raw distances of `x` (t.dims floats) to `t`, in DetectorIndex order. When `nearest` is
// false the nearest-neighbour distance is skipped (reported as 0): it is O(samples * dims).
std::array<double, kDetectorCount> DetectorDistances(const CompiledTemplate& t, const float* x,
                                                     double outlier_z, bool nearest);

// Fits `out` on all `n` vectors of `data`, then sets norm_center / norm_scale from k-fold
// held-out distances (k = min(n, 5)). REQUIRES: n >= 3.
void CompileTemplate(const float* data, std::size_t n, std::size_t dims, double min_shrinkage,
                     double outlier_z, CompiledTemplate* out);

// Sets t->log_scaled / t->log_floor from the n raw vectors in `data` (a feature is log-scaled
// when at most kMaxNonPositiveShare of its values are <= 0 and its median is > 0; the floor
// is kLogFloorOfMedian times the median) and rewrites `data` in that space.
void ChooseLogScaling(std::vector<float>* data, std::size_t n, std::size_t dims,
                      CompiledTemplate* t);

// A raw vector in t's feature space (identity when t has no log scaling). out may not alias x.
void ToTemplateSpace(const CompiledTemplate& t, const float* x, float* out);

// Raw vector i of t (undoing the inv_mad scaling and the log scaling) into `out`.
void TemplateVector(const CompiledTemplate& t, std::size_t i, float* out);

// Inverts the symmetric positive-definite matrix `a` (n x n, row-major) in place by Cholesky.
// Returns false (leaving `a` unspecified) when it is not positive definite.
bool InvertSpd(std::vector<double>* a, std::size_t n);

}  // namespace shieldx::contauth::internal

#endif  // SHIELDX_SERVICES_CONTAUTH_MODEL_TEMPLATE_FIT_H_
