#include "services/contauth/model/template_fit.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "libs/base/check.h"
#include "services/contauth/model/linear_discriminant.h"

namespace shieldx::contauth::internal {
namespace {

// Spreads below this share of the template's median spread are raised to it: a feature the
// user typed with (near) zero spread, e.g. from timer rounding, would otherwise dominate
// every distance. Relative, so it holds in any time unit.
constexpr double kSpreadFloorOfMedian = 0.1;
constexpr double kAbsoluteSpreadFloor = 1e-6;
constexpr std::size_t kNormalisationFolds = 5;

double Median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

// Floors the spreads of each group of features separately: log-scaled features (spreads in
// log units) and linear ones (spreads in time units) are not comparable, and mixing them
// would make the floor depend on the time unit. `log_scaled` empty: one group.
void FloorSpreads(const std::vector<uint8_t>& log_scaled, std::vector<double>* spread) {
  for (uint8_t group : {0, 1}) {
    std::vector<double> members;
    for (std::size_t j = 0; j < spread->size(); ++j) {
      const uint8_t g = log_scaled.empty() ? 0 : log_scaled[j];
      if (g == group) members.push_back((*spread)[j]);
    }
    if (members.empty()) continue;
    const double floor = std::max(kAbsoluteSpreadFloor, kSpreadFloorOfMedian * Median(members));
    for (std::size_t j = 0; j < spread->size(); ++j) {
      const uint8_t g = log_scaled.empty() ? 0 : log_scaled[j];
      if (g == group) (*spread)[j] = std::max((*spread)[j], floor);
    }
  }
}

}  // namespace

void ChooseLogScaling(std::vector<float>* data, std::size_t n, std::size_t dims,
                      CompiledTemplate* t) {
  t->log_scaled.assign(dims, 0);
  t->log_floor.assign(dims, 0.0f);
  std::vector<float> column(n);
  for (std::size_t j = 0; j < dims; ++j) {
    std::size_t non_positive = 0;
    for (std::size_t r = 0; r < n; ++r) {
      column[r] = (*data)[r * dims + j];
      if (!(column[r] > 0)) ++non_positive;
    }
    std::nth_element(column.begin(), column.begin() + n / 2, column.end());
    const float median = column[n / 2];
    if (!(median > 0) || static_cast<double>(non_positive) > kMaxNonPositiveShare * n) continue;
    t->log_scaled[j] = 1;
    t->log_floor[j] = static_cast<float>(kLogFloorOfMedian * median);
    for (std::size_t r = 0; r < n; ++r) {
      float& v = (*data)[r * dims + j];
      v = std::log(std::max(v, t->log_floor[j]));
    }
  }
}

void ToTemplateSpace(const CompiledTemplate& t, const float* x, float* out) {
  if (t.log_scaled.empty()) {
    std::copy(x, x + t.dims, out);
    return;
  }
  for (std::size_t j = 0; j < t.dims; ++j) {
    out[j] = t.log_scaled[j] ? std::log(std::max(x[j], t.log_floor[j])) : x[j];
  }
}

void TemplateVector(const CompiledTemplate& t, std::size_t i, float* out) {
  for (std::size_t j = 0; j < t.dims; ++j) {
    const float v = t.scaled_samples[i * t.dims + j] / t.inv_mad[j];
    out[j] = !t.log_scaled.empty() && t.log_scaled[j] ? std::exp(v) : v;
  }
}

bool InvertSpd(std::vector<double>* a, std::size_t n) {
  std::vector<double>& m = *a;
  // Cholesky: m = L L^T, L stored in the lower triangle.
  for (std::size_t j = 0; j < n; ++j) {
    double d = m[j * n + j];
    for (std::size_t k = 0; k < j; ++k) d -= m[j * n + k] * m[j * n + k];
    if (!(d > 0)) return false;
    const double l = std::sqrt(d);
    m[j * n + j] = l;
    for (std::size_t i = j + 1; i < n; ++i) {
      double s = m[i * n + j];
      for (std::size_t k = 0; k < j; ++k) s -= m[i * n + k] * m[j * n + k];
      m[i * n + j] = s / l;
    }
  }
  // Inverse of L (lower triangular), then A^-1 = L^-T L^-1.
  std::vector<double> inv_l(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    inv_l[i * n + i] = 1.0 / m[i * n + i];
    for (std::size_t j = 0; j < i; ++j) {
      double s = 0;
      for (std::size_t k = j; k < i; ++k) s -= m[i * n + k] * inv_l[k * n + j];
      inv_l[i * n + j] = s / m[i * n + i];
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j <= i; ++j) {
      double s = 0;
      for (std::size_t k = i; k < n; ++k) s += inv_l[k * n + i] * inv_l[k * n + j];
      m[i * n + j] = s;
      m[j * n + i] = s;
    }
  }
  return true;
}

void FitTemplate(const float* data, std::size_t dims, const std::vector<std::size_t>& rows,
                 double min_shrinkage, CompiledTemplate* out) {
  const std::size_t n = rows.size();
  SHIELDX_CHECK(n >= 2 && dims >= 1);
  std::vector<double> mean(dims, 0.0), mad(dims, 0.0), sd(dims, 0.0);
  for (std::size_t r : rows) {
    for (std::size_t j = 0; j < dims; ++j) mean[j] += data[r * dims + j];
  }
  for (double& m : mean) m /= static_cast<double>(n);
  for (std::size_t r : rows) {
    for (std::size_t j = 0; j < dims; ++j) {
      const double dev = data[r * dims + j] - mean[j];
      mad[j] += std::fabs(dev);
      sd[j] += dev * dev;
    }
  }
  for (std::size_t j = 0; j < dims; ++j) {
    mad[j] /= static_cast<double>(n);
    sd[j] = std::sqrt(sd[j] / static_cast<double>(n - 1));
  }
  FloorSpreads(out->log_scaled, &mad);
  FloorSpreads(out->log_scaled, &sd);

  out->dims = static_cast<uint32_t>(dims);
  out->sample_count = static_cast<uint32_t>(n);
  out->mean.assign(mean.begin(), mean.end());
  out->inv_mad.resize(dims);
  out->inv_std.resize(dims);
  for (std::size_t j = 0; j < dims; ++j) {
    out->inv_mad[j] = static_cast<float>(1.0 / mad[j]);
    out->inv_std[j] = static_cast<float>(1.0 / sd[j]);
  }
  out->scaled_samples.resize(n * dims);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < dims; ++j) {
      out->scaled_samples[i * dims + j] = data[rows[i] * dims + j] * out->inv_mad[j];
    }
  }

  // Correlation of the standardised features.
  std::vector<double> z(n * dims);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < dims; ++j)
      z[i * dims + j] = (data[rows[i] * dims + j] - mean[j]) / sd[j];
  }
  std::vector<double> corr(dims * dims, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const double* zi = &z[i * dims];
    for (std::size_t a = 0; a < dims; ++a) {
      for (std::size_t b = 0; b <= a; ++b) corr[a * dims + b] += zi[a] * zi[b];
    }
  }
  double off_sq = 0, off_var = 0;
  for (std::size_t a = 0; a < dims; ++a) {
    for (std::size_t b = 0; b < a; ++b) {
      // Normalise by the diagonal so floored spreads still give |r| <= 1.
      const double r =
          corr[a * dims + b] / std::sqrt(corr[a * dims + a] * corr[b * dims + b] + 1e-300);
      corr[a * dims + b] = r;
      off_sq += r * r;
      off_var += (1 - r * r) * (1 - r * r) / static_cast<double>(n - 1);
    }
  }
  // Schafer-Strimmer style shrinkage weight toward the identity.
  double lambda = off_sq > 0 ? off_var / off_sq : 1.0;
  lambda = std::clamp(lambda, min_shrinkage, 1.0);
  for (std::size_t a = 0; a < dims; ++a) {
    corr[a * dims + a] = 1.0;
    for (std::size_t b = 0; b < a; ++b) {
      const double shrunk = (1 - lambda) * corr[a * dims + b];
      corr[a * dims + b] = shrunk;
      corr[b * dims + a] = shrunk;
    }
  }
  if (!InvertSpd(&corr, dims)) {
    // Cannot happen for lambda > 0 (unit diagonal plus shrunk |r| < 1 correlations), but a
    // degenerate fit must not crash: fall back to the diagonal (identity) model.
    std::fill(corr.begin(), corr.end(), 0.0);
    for (std::size_t a = 0; a < dims; ++a) corr[a * dims + a] = 1.0;
  }
  out->inv_corr.assign(corr.begin(), corr.end());
}

std::array<double, kDetectorCount> DetectorDistances(const CompiledTemplate& t, const float* x,
                                                     double outlier_z, bool nearest) {
  const std::size_t d = t.dims;
  std::array<float, kMaxFixedTextDims> z;
  std::array<float, kMaxFixedTextDims> scaled;
  double manhattan = 0;
  std::size_t outliers = 0;
  for (std::size_t j = 0; j < d; ++j) {
    const float dev = x[j] - t.mean[j];
    manhattan += std::fabs(dev) * t.inv_mad[j];
    z[j] = dev * t.inv_std[j];
    if (std::fabs(z[j]) > outlier_z) ++outliers;
    scaled[j] = x[j] * t.inv_mad[j];
  }
  double quad = 0;
  for (std::size_t a = 0; a < d; ++a) {
    const float* row = &t.inv_corr[a * d];
    double s = 0;
    for (std::size_t b = 0; b < d; ++b) s += row[b] * z[b];
    quad += s * z[a];
  }
  double nn = 0;
  if (nearest) {
    nn = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < t.sample_count; ++i) {
      const float* s = &t.scaled_samples[i * d];
      float dist = 0;
      for (std::size_t j = 0; j < d; ++j) dist += std::fabs(scaled[j] - s[j]);
      nn = std::min(nn, static_cast<double>(dist));
    }
    nn /= static_cast<double>(d);
  }
  const double dd = static_cast<double>(d);
  return {manhattan / dd, std::sqrt(std::max(0.0, quad) / dd), nn,
          static_cast<double>(outliers) / dd};
}

void CompileTemplate(const float* data, std::size_t n, std::size_t dims, double min_shrinkage,
                     double outlier_z, CompiledTemplate* out) {
  SHIELDX_CHECK(n >= 3);
  const std::size_t folds = std::min(n, kNormalisationFolds);
  std::array<std::vector<double>, kDetectorCount> held_out;
  CompiledTemplate fold_fit;
  fold_fit.log_scaled = out->log_scaled;
  fold_fit.log_floor = out->log_floor;
  std::vector<std::size_t> train;
  for (std::size_t f = 0; f < folds; ++f) {
    train.clear();
    for (std::size_t i = 0; i < n; ++i) {
      if (i % folds != f) train.push_back(i);
    }
    FitTemplate(data, dims, train, min_shrinkage, &fold_fit);
    for (std::size_t i = f; i < n; i += folds) {
      const auto d = DetectorDistances(fold_fit, &data[i * dims], outlier_z, true);
      for (std::size_t k = 0; k < kDetectorCount; ++k) held_out[k].push_back(d[k]);
    }
  }
  std::vector<std::size_t> all(n);
  for (std::size_t i = 0; i < n; ++i) all[i] = i;
  FitTemplate(data, dims, all, min_shrinkage, out);
  for (std::size_t k = 0; k < kDetectorCount; ++k) {
    const std::vector<double>& v = held_out[k];
    double mean = 0, var = 0;
    for (double x : v) mean += x;
    mean /= static_cast<double>(v.size());
    for (double x : v) var += (x - mean) * (x - mean);
    double sd = std::sqrt(var / static_cast<double>(v.size() - 1));
    // Floors: a spread of at least 10 % of the typical distance, and for the (discrete)
    // outlier count at least one feature's worth.
    sd = std::max({sd, 0.1 * std::fabs(mean), 1e-6});
    if (k == kOutlierCount) sd = std::max(sd, 1.0 / static_cast<double>(dims));
    out->norm_center[k] = static_cast<float>(mean);
    out->norm_scale[k] = static_cast<float>(sd);
  }
}

}  // namespace shieldx::contauth::internal
