#include "services/contauth/model/linear_discriminant.h"

#include <algorithm>
#include <cmath>

#include "libs/base/check.h"

namespace shieldx::contauth {
namespace {

// A log-scaled feature whose pooled sd (in log units, i.e. relative) is below this, or a
// linear feature whose sd is below this share of its mean magnitude, is constant across the
// tenant: it carries no information and is dropped (inv_sd 0) rather than blown up.
constexpr double kMinRelativeSd = 1e-4;
// Tiny ridge on the (unpenalised) bias so the Newton system stays positive definite.
constexpr double kBiasRidge = 1e-8;
// Newton stops when an iteration lowers the objective by less than this share of it.
constexpr double kConvergedGain = 1e-6;

double Sigmoid(double z) {
  return z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z));
}

// log(1 + exp(z)) without overflow.
double Softplus(double z) { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }

// Solves a x = b for symmetric positive-definite a (n x n, row-major; overwritten by its
// Cholesky factor). False when a is not positive definite.
bool CholeskySolve(std::vector<double>* a, std::vector<double>* b, std::size_t n) {
  std::vector<double>& m = *a;
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
  std::vector<double>& x = *b;
  for (std::size_t i = 0; i < n; ++i) {  // L y = b
    double s = x[i];
    for (std::size_t k = 0; k < i; ++k) s -= m[i * n + k] * x[k];
    x[i] = s / m[i * n + i];
  }
  for (std::size_t i = n; i-- > 0;) {  // L^T x = y
    double s = x[i];
    for (std::size_t k = i + 1; k < n; ++k) s -= m[k * n + i] * x[k];
    x[i] = s / m[i * n + i];
  }
  return true;
}

struct Problem {
  const std::vector<float>* rows[2];  // negatives, positives
  double weight[2];                   // per-row weight of each class
  std::size_t dims;
  double l2;
};

double Objective(const Problem& p, const std::vector<double>& theta) {
  const std::size_t d = p.dims;
  double loss = 0;
  for (int label = 0; label < 2; ++label) {
    const std::vector<float>& rows = *p.rows[label];
    for (std::size_t r = 0; r * d < rows.size(); ++r) {
      double z = theta[d];
      for (std::size_t j = 0; j < d; ++j) z += theta[j] * rows[r * d + j];
      loss += p.weight[label] * (Softplus(z) - (label == 1 ? z : 0.0));
    }
  }
  double norm = 0;
  for (std::size_t j = 0; j < d; ++j) norm += theta[j] * theta[j];
  return loss + 0.5 * p.l2 * norm;
}

}  // namespace

void FeatureSpace::Transform(const float* x, float* y) const {
  for (std::size_t j = 0; j < dims; ++j) {
    const double g = log_scaled[j] ? std::log(std::max(x[j], floor[j])) : x[j];
    y[j] = static_cast<float>((g - mean[j]) * inv_sd[j]);
  }
}

FeatureSpace FitFeatureSpace(uint64_t text_id, std::size_t dims, const std::vector<float>& rows,
                             const std::vector<double>& row_weights) {
  SHIELDX_CHECK(dims >= 1 && rows.size() % dims == 0);
  const std::size_t n = rows.size() / dims;
  SHIELDX_CHECK(n >= 2 && row_weights.size() == n);
  FeatureSpace s;
  s.text_id = text_id;
  s.dims = static_cast<uint32_t>(dims);
  s.log_scaled.assign(dims, 0);
  s.floor.assign(dims, 0.0f);
  s.mean.assign(dims, 0.0f);
  s.inv_sd.assign(dims, 0.0f);
  double total_weight = 0;
  for (double w : row_weights) total_weight += w;
  std::vector<double> column(n), g(n);
  for (std::size_t j = 0; j < dims; ++j) {
    std::size_t non_positive = 0;
    for (std::size_t r = 0; r < n; ++r) {
      column[r] = rows[r * dims + j];
      if (!(column[r] > 0)) ++non_positive;
    }
    std::vector<double> sorted = column;
    std::nth_element(sorted.begin(), sorted.begin() + n / 2, sorted.end());
    const double median = sorted[n / 2];
    const bool log_scaled =
        median > 0 && static_cast<double>(non_positive) <= kMaxNonPositiveShare * n;
    s.log_scaled[j] = log_scaled ? 1 : 0;
    s.floor[j] = static_cast<float>(log_scaled ? kLogFloorOfMedian * median : 0.0);
    double mean = 0, magnitude = 0;
    for (std::size_t r = 0; r < n; ++r) {
      g[r] =
          log_scaled ? std::log(std::max(column[r], static_cast<double>(s.floor[j]))) : column[r];
      mean += row_weights[r] * g[r];
      magnitude += row_weights[r] * std::fabs(g[r]);
    }
    mean /= total_weight;
    magnitude /= total_weight;
    double var = 0;
    for (std::size_t r = 0; r < n; ++r) var += row_weights[r] * (g[r] - mean) * (g[r] - mean);
    const double sd = std::sqrt(var / total_weight);
    const double min_sd = log_scaled ? kMinRelativeSd : kMinRelativeSd * magnitude;
    s.mean[j] = static_cast<float>(mean);
    s.inv_sd[j] = sd > min_sd && sd > 0 ? static_cast<float>(1.0 / sd) : 0.0f;
  }
  return s;
}

double LinearDiscriminant::Logit(const float* y) const {
  double z = bias;
  for (std::size_t j = 0; j < dims; ++j) z += weights[j] * y[j];
  if (!center.empty()) {
    for (std::size_t j = 0; j < dims; ++j) z += weights[dims + j] * std::fabs(y[j] - center[j]);
  }
  return z;
}

double LinearDiscriminant::Distance(const float* y) const {
  return (genuine_center - Logit(y)) / (genuine_center - impostor_center);
}

namespace {

// Rows of width 2 * dims: y, then |y - center|.
std::vector<float> WithDeviations(const std::vector<float>& rows, std::size_t dims,
                                  const std::vector<float>& center) {
  std::vector<float> out;
  out.reserve(rows.size() * 2);
  for (std::size_t r = 0; r * dims < rows.size(); ++r) {
    const float* y = &rows[r * dims];
    out.insert(out.end(), y, y + dims);
    for (std::size_t j = 0; j < dims; ++j) out.push_back(std::fabs(y[j] - center[j]));
  }
  return out;
}

}  // namespace

bool FitLogistic(const std::vector<float>& positives_in, const std::vector<float>& negatives_in,
                 std::size_t dims_in, double l2, bool deviations, LinearDiscriminant* out) {
  SHIELDX_CHECK(dims_in >= 1 && l2 > 0);
  SHIELDX_CHECK(positives_in.size() % dims_in == 0 && negatives_in.size() % dims_in == 0);
  if (positives_in.empty() || negatives_in.empty()) return false;
  out->dims = static_cast<uint32_t>(dims_in);
  out->center.clear();
  std::vector<float> augmented_pos, augmented_neg;
  const std::vector<float>* pos_rows = &positives_in;
  const std::vector<float>* neg_rows = &negatives_in;
  std::size_t dims = dims_in;
  if (deviations) {
    const std::size_t n = positives_in.size() / dims_in;
    std::vector<double> mean(dims_in, 0.0);
    for (std::size_t r = 0; r < n; ++r) {
      for (std::size_t j = 0; j < dims_in; ++j) mean[j] += positives_in[r * dims_in + j];
    }
    out->center.resize(dims_in);
    for (std::size_t j = 0; j < dims_in; ++j) out->center[j] = static_cast<float>(mean[j] / n);
    augmented_pos = WithDeviations(positives_in, dims_in, out->center);
    augmented_neg = WithDeviations(negatives_in, dims_in, out->center);
    pos_rows = &augmented_pos;
    neg_rows = &augmented_neg;
    dims = 2 * dims_in;
  }
  const std::vector<float>& positives = *pos_rows;
  const std::vector<float>& negatives = *neg_rows;
  const std::size_t np = positives.size() / dims, nn = negatives.size() / dims;
  Problem p{{&negatives, &positives}, {0.5 / nn, 0.5 / np}, dims, l2};
  const std::size_t m = dims + 1;
  std::vector<double> theta(m, 0.0), grad(m), hess(m * m), step(m), xd(m, 1.0);
  double objective = Objective(p, theta);
  for (int it = 0; it < kMaxLogisticIterations; ++it) {
    std::fill(grad.begin(), grad.end(), 0.0);
    std::fill(hess.begin(), hess.end(), 0.0);
    for (int label = 0; label < 2; ++label) {
      const std::vector<float>& rows = *p.rows[label];
      for (std::size_t r = 0; r * dims < rows.size(); ++r) {
        for (std::size_t j = 0; j < dims; ++j) xd[j] = rows[r * dims + j];
        double z = 0;
        for (std::size_t j = 0; j < m; ++j) z += theta[j] * xd[j];
        const double prob = Sigmoid(z);
        const double residual = p.weight[label] * (prob - label);
        const double curvature = p.weight[label] * prob * (1 - prob);
        // Lower triangle of the Hessian (mirrored below); the hot loop of the fit.
        for (std::size_t a = 0; a < m; ++a) {
          grad[a] += residual * xd[a];
          double* row = &hess[a * m];
          const double cx = curvature * xd[a];
          for (std::size_t b = 0; b <= a; ++b) row[b] += cx * xd[b];
        }
      }
    }
    for (std::size_t a = 0; a < m; ++a) {
      for (std::size_t b = 0; b < a; ++b) hess[b * m + a] = hess[a * m + b];
    }
    for (std::size_t j = 0; j < dims; ++j) {
      grad[j] += l2 * theta[j];
      hess[j * m + j] += l2;
    }
    hess[dims * m + dims] += kBiasRidge;
    step = grad;
    if (!CholeskySolve(&hess, &step, m)) return false;
    // Damped Newton: halve the step until the objective does not increase.
    std::vector<double> next(m);
    double t = 1.0, next_objective = objective;
    for (int halvings = 0; halvings < 20; ++halvings, t *= 0.5) {
      for (std::size_t a = 0; a < m; ++a) next[a] = theta[a] - t * step[a];
      next_objective = Objective(p, next);
      if (next_objective <= objective) break;
    }
    if (!(next_objective <= objective)) break;  // no descent left: converged (or stuck)
    double change = 0, size = 0;
    for (std::size_t a = 0; a < m; ++a) {
      change = std::max(change, std::fabs(next[a] - theta[a]));
      size = std::max(size, std::fabs(next[a]));
    }
    theta.swap(next);
    const double gain = objective - next_objective;
    objective = next_objective;
    if (change <= 1e-7 * (1 + size) || gain <= kConvergedGain * objective) break;
  }
  for (double v : theta) {
    if (!std::isfinite(v)) return false;
  }
  out->weights.assign(theta.begin(), theta.begin() + dims);
  out->bias = static_cast<float>(theta[dims]);
  double genuine = 0, impostor = 0;
  for (std::size_t r = 0; r < np; ++r) genuine += out->Logit(&positives_in[r * dims_in]);
  for (std::size_t r = 0; r < nn; ++r) impostor += out->Logit(&negatives_in[r * dims_in]);
  out->genuine_center = static_cast<float>(genuine / np);
  out->impostor_center = static_cast<float>(impostor / nn);
  // With separable-looking but penalised data the centres always differ; guard anyway so
  // Distance never divides by zero.
  if (!(out->genuine_center - out->impostor_center > 1e-6)) return false;
  return true;
}

}  // namespace shieldx::contauth
