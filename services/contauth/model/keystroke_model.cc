#include "services/contauth/model/keystroke_model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/base/check.h"
#include "services/contauth/model/template_fit.h"

namespace shieldx::contauth {
namespace {

// Expected |z| of a standard normal variable, and its standard deviation: the free-text
// statistic is standardised against them.
constexpr double kMeanAbsNormal = 0.7978845608;
constexpr double kSdAbsNormal = 0.6028103066;

// Template-level fused distance (no nearest neighbour): used for both the claimed user and
// the cohort so the background term compares like with like and never matches a probe to an
// individual stored vector.
double TemplateLevelFused(const CompiledTemplate& t, const float* raw_x,
                          const KeystrokeModelConfig& config) {
  std::array<float, kMaxFixedTextDims> x;
  internal::ToTemplateSpace(t, raw_x, x.data());
  const auto raw = internal::DetectorDistances(t, x.data(), config.outlier_z, /*nearest=*/false);
  double sum = 0, weights = 0;
  for (std::size_t k = 0; k < kDetectorCount; ++k) {
    if (k == kNearestNeighbour) continue;
    const double w = config.detector_weights[k];
    sum += w * (raw[k] - t.norm_center[k]) / t.norm_scale[k];
    weights += w;
  }
  return weights > 0 ? sum / weights : 0.0;
}

void WelfordAdd(TimingStat* s, float value, uint32_t memory) {
  const double delta = value - s->mean_ms;
  if (s->count < memory) {
    ++s->count;
    s->mean_ms = static_cast<float>(s->mean_ms + delta / s->count);
    s->m2 = static_cast<float>(s->m2 + delta * (value - s->mean_ms));
    return;
  }
  // Saturated: exponentially weighted mean and sum of squares with weight 1/memory, so old
  // typing fades and one sample moves the statistics by a bounded amount (drift control).
  const double n = memory;
  s->mean_ms = static_cast<float>(s->mean_ms + delta / n);
  s->m2 = static_cast<float>(s->m2 * (n - 1) / n + delta * (value - s->mean_ms));
}

void AddObservations(const std::vector<TimingObservation>& obs, uint32_t memory,
                     std::vector<TimingStat>* stats) {
  for (const TimingObservation& o : obs) {
    auto it = std::lower_bound(stats->begin(), stats->end(), o.id,
                               [](const TimingStat& s, uint64_t id) { return s.id < id; });
    if (it == stats->end() || it->id != o.id) {
      if (stats->size() >= kMaxTimingStats) continue;  // bounded: new keys beyond the cap ignored
      it = stats->insert(it, TimingStat{o.id, 0, 0, 0});
    }
    WelfordAdd(&*it, o.value_ms, memory);
  }
}

const TimingStat* FindStat(const std::vector<TimingStat>& stats, uint64_t id) {
  auto it = std::lower_bound(stats.begin(), stats.end(), id,
                             [](const TimingStat& s, uint64_t v) { return s.id < v; });
  return it != stats.end() && it->id == id ? &*it : nullptr;
}

PopulationTemplate FitPopulation(const std::vector<TenantBackground::Member>& members,
                                 uint64_t text_id, uint32_t dims) {
  PopulationTemplate p;
  p.text_id = text_id;
  p.dims = dims;
  std::vector<double> mean(dims, 0.0), mad(dims, 0.0);
  std::vector<const CompiledTemplate*> templates;
  std::array<float, kMaxFixedTextDims> x;
  for (const auto& m : members) {
    const CompiledTemplate* t = m.profile->FindTemplate(text_id);
    if (t == nullptr || t->dims != dims) continue;
    templates.push_back(t);
    for (std::size_t i = 0; i < t->sample_count; ++i) {
      internal::TemplateVector(*t, i, x.data());
      for (std::size_t j = 0; j < dims; ++j) mean[j] += x[j] / t->sample_count;
    }
  }
  p.users = static_cast<uint32_t>(templates.size());
  if (p.users < 2) return p;
  for (double& m : mean) m /= p.users;
  for (const CompiledTemplate* t : templates) {
    for (std::size_t i = 0; i < t->sample_count; ++i) {
      internal::TemplateVector(*t, i, x.data());
      for (std::size_t j = 0; j < dims; ++j) mad[j] += std::fabs(x[j] - mean[j]) / t->sample_count;
    }
  }
  p.mean.assign(mean.begin(), mean.end());
  p.inv_mad.resize(dims);
  for (std::size_t j = 0; j < dims; ++j) {
    p.inv_mad[j] = static_cast<float>(1.0 / std::max(mad[j] / p.users, 1e-6));
  }
  return p;
}

constexpr double kMinFeatureWeight = 0.05;

double WeightedManhattan(const CompiledTemplate& t, const DiscriminativeWeights& w,
                         const float* raw_x) {
  std::array<float, kMaxFixedTextDims> x;
  internal::ToTemplateSpace(t, raw_x, x.data());
  double sum = 0, total = 0;
  for (std::size_t j = 0; j < t.dims; ++j) {
    sum += w.weights[j] * std::fabs(x[j] - t.mean[j]) * t.inv_mad[j];
    total += w.weights[j];
  }
  return sum / total;
}

using internal::TemplateVector;

std::vector<DiscriminativeWeights> FitWeights(const std::vector<TenantBackground::Member>& members,
                                              std::size_t self) {
  std::vector<DiscriminativeWeights> out;
  std::array<float, kMaxFixedTextDims> x, y;
  for (const CompiledTemplate& t : members[self].profile->templates) {
    std::vector<double> spread(t.dims, 0.0);
    std::size_t count = 0;
    for (std::size_t m = 0; m < members.size(); ++m) {
      if (m == self) continue;
      const CompiledTemplate* other = members[m].profile->FindTemplate(t.text_id);
      if (other == nullptr) continue;
      const std::size_t step =
          std::max<std::size_t>(1, other->sample_count / kMaxVectorsPerCohortMember);
      for (std::size_t i = 0; i < other->sample_count; i += step) {
        TemplateVector(*other, i, x.data());
        internal::ToTemplateSpace(t, x.data(), y.data());
        for (std::size_t j = 0; j < t.dims; ++j) spread[j] += std::fabs(y[j] - t.mean[j]);
        ++count;
      }
    }
    if (count == 0) continue;
    DiscriminativeWeights w;
    w.text_id = t.text_id;
    w.weights.resize(t.dims);
    for (std::size_t j = 0; j < t.dims; ++j) {
      const double mad = 1.0 / t.inv_mad[j];
      const double others = spread[j] / count;
      w.weights[j] = static_cast<float>(std::max(kMinFeatureWeight, 1.0 - mad / others));
    }
    double mean = 0, var = 0;
    std::vector<double> own(t.sample_count);
    for (std::size_t i = 0; i < t.sample_count; ++i) {
      TemplateVector(t, i, x.data());
      own[i] = WeightedManhattan(t, w, x.data());
      mean += own[i];
    }
    mean /= t.sample_count;
    for (double v : own) var += (v - mean) * (v - mean);
    w.center = static_cast<float>(mean);
    w.scale = static_cast<float>(std::max(
        {std::sqrt(var / std::max<std::size_t>(1, t.sample_count - 1)), 0.1 * mean, 1e-6}));
    out.push_back(std::move(w));
  }
  return out;
}

// Appends up to `cap` evenly spaced vectors of `t` (all when cap is 0) to `out`.
void AppendVectors(const CompiledTemplate& t, std::size_t cap, std::vector<float>* out) {
  const std::size_t n = t.sample_count;
  const std::size_t take = cap == 0 ? n : std::min(n, cap);
  std::array<float, kMaxFixedTextDims> x;
  for (std::size_t k = 0; k < take; ++k) {
    TemplateVector(t, k * n / take, x.data());  // spread over the whole enrollment
    out->insert(out->end(), x.begin(), x.begin() + t.dims);
  }
}

FeatureSpace FitSpace(const std::vector<TenantBackground::Member>& members, uint64_t text_id,
                      uint32_t dims) {
  std::vector<float> rows;
  std::vector<double> weights;
  for (const auto& m : members) {
    const CompiledTemplate* t = m.profile->FindTemplate(text_id);
    if (t == nullptr) continue;
    const std::size_t before = rows.size() / dims;
    AppendVectors(*t, kMaxVectorsPerCohortMember, &rows);
    const std::size_t added = rows.size() / dims - before;
    // Every user weighs the same, however many vectors they have.
    weights.insert(weights.end(), added, 1.0 / static_cast<double>(added));
  }
  return FitFeatureSpace(text_id, dims, rows, weights);
}

// Transforms every row of `raw` (dims each) in place into `space`.
void TransformRows(const FeatureSpace& space, std::vector<float>* raw) {
  std::array<float, kMaxFixedTextDims> y;
  for (std::size_t r = 0; r * space.dims < raw->size(); ++r) {
    space.Transform(&(*raw)[r * space.dims], y.data());
    std::copy(y.begin(), y.begin() + space.dims, raw->begin() + r * space.dims);
  }
}

std::vector<LinearDiscriminant> FitLinear(const std::vector<TenantBackground::Member>& members,
                                          std::size_t self, const std::vector<FeatureSpace>& spaces,
                                          const BackgroundOptions& options) {
  std::vector<LinearDiscriminant> out;
  std::vector<float> positives, negatives;
  for (const CompiledTemplate& t : members[self].profile->templates) {
    const FeatureSpace* space = nullptr;
    for (const FeatureSpace& s : spaces) {
      if (s.text_id == t.text_id) space = &s;
    }
    if (space == nullptr || space->dims != t.dims) continue;
    std::size_t others = 0;
    for (std::size_t m = 0; m < members.size(); ++m) {
      const CompiledTemplate* other = members[m].profile->FindTemplate(t.text_id);
      if (m != self && other != nullptr && other->dims == t.dims) ++others;
    }
    if (others < options.min_others) continue;
    // Each other user contributes the same share of at most kMaxLinearNegatives vectors.
    const std::size_t per_member =
        std::clamp<std::size_t>(kMaxLinearNegatives / others, 1, kMaxVectorsPerCohortMember);
    negatives.clear();
    for (std::size_t m = 0; m < members.size(); ++m) {
      if (m == self) continue;
      const CompiledTemplate* other = members[m].profile->FindTemplate(t.text_id);
      if (other == nullptr || other->dims != t.dims) continue;
      AppendVectors(*other, per_member, &negatives);
    }
    positives.clear();
    AppendVectors(t, 0, &positives);
    TransformRows(*space, &positives);
    TransformRows(*space, &negatives);
    LinearDiscriminant d;
    if (!FitLogistic(positives, negatives, t.dims, options.linear_l2, options.linear_deviations,
                     &d))
      continue;
    d.text_id = t.text_id;
    out.push_back(std::move(d));
  }
  return out;
}

double PopulationDistance(const PopulationTemplate& p, const float* x) {
  double sum = 0;
  for (std::size_t j = 0; j < p.dims; ++j) sum += std::fabs(x[j] - p.mean[j]) * p.inv_mad[j];
  return sum / p.dims;
}

}  // namespace

std::string_view BandName(Band band) {
  switch (band) {
    case Band::kAllow:
      return "allow";
    case Band::kMonitor:
      return "monitor";
    case Band::kChallenge:
      return "challenge";
    case Band::kDeny:
      return "deny";
  }
  return "deny";
}

absl::Status KeystrokeModelConfig::Validate() const {
  if (min_enroll_samples < 3 || min_enroll_samples > kMaxAnchorSamples) {
    return absl::InvalidArgumentError(absl::StrCat("keystroke model: min_enroll_samples ",
                                                   min_enroll_samples, " must be 3..",
                                                   kMaxAnchorSamples));
  }
  double weight_sum = 0;
  for (double w : detector_weights) {
    if (!(w >= 0) || !std::isfinite(w)) {
      return absl::InvalidArgumentError("keystroke model: detector weights must be finite >= 0");
    }
    weight_sum += w;
  }
  if (weight_sum <= 0) {
    return absl::InvalidArgumentError("keystroke model: all detector weights are 0");
  }
  if (!(outlier_z > 0) || !(min_shrinkage > 0 && min_shrinkage <= 1) || !(cohort_weight >= 0) ||
      !(calibration_slope > 0) || !(genuine_only_slope > 0) || !(free_text_slope > 0) ||
      !(confidence_half_samples > 0) || !(free_text_z_clip > 0) || !(ubm_weight >= 0) ||
      cohort_nearest < 1 || cohort_nearest > kMaxCohortNearest || !(discriminative_weight >= 0) ||
      free_text_memory < 2 || free_text_min_count < 2 || free_text_min_matches < 1) {
    return absl::InvalidArgumentError(
        "keystroke model: outlier_z, slopes, confidence_half_samples and free_text_z_clip must be "
        "> 0, min_shrinkage in (0, 1], cohort_weight >= 0, free_text_memory and "
        "free_text_min_count >= 2, free_text_min_matches >= 1");
  }
  if (!(linear_weight >= 0) || !std::isfinite(linear_weight) || !(linear_l2 > 0) ||
      !std::isfinite(linear_l2)) {
    return absl::InvalidArgumentError(
        absl::StrCat("keystroke model: linear_weight (", linear_weight,
                     ") must be finite >= 0 and linear_l2 (", linear_l2, ") finite > 0"));
  }
  if (!(0 < monitor_from && monitor_from <= challenge_from && challenge_from <= deny_from &&
        deny_from <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "keystroke model: bands must satisfy 0 < monitor_from (", monitor_from,
        ") <= challenge_from (", challenge_from, ") <= deny_from (", deny_from, ") <= 1"));
  }
  return absl::OkStatus();
}

const CompiledTemplate* CompiledProfile::FindTemplate(uint64_t text_id) const {
  for (const CompiledTemplate& t : templates) {
    if (t.text_id == text_id) return &t;
  }
  return nullptr;
}

TenantBackground::TenantBackground(std::vector<Member> members, BackgroundOptions options)
    : members_(std::move(members)) {
  SHIELDX_CHECK(options.linear_l2 > 0);
  if (members_.size() > kMaxCohortMembers) members_.resize(kMaxCohortMembers);
  for (const Member& m : members_) {
    SHIELDX_CHECK(m.profile != nullptr);
    for (const CompiledTemplate& t : m.profile->templates) {
      if (FindPopulation(t.text_id) != nullptr) continue;
      populations_.push_back(FitPopulation(members_, t.text_id, t.dims));
      if (populations_.back().users < 2) {
        populations_.pop_back();
        continue;
      }
      if (options.fit_linear) spaces_.push_back(FitSpace(members_, t.text_id, t.dims));
    }
  }
  weights_.reserve(members_.size());
  for (std::size_t i = 0; i < members_.size(); ++i) {
    weights_.push_back(options.fit_weights ? FitWeights(members_, i)
                                           : std::vector<DiscriminativeWeights>{});
  }
  linear_.resize(members_.size());
  if (options.fit_linear) {
    for (std::size_t i = 0; i < members_.size(); ++i) {
      linear_[i] = FitLinear(members_, i, spaces_, options);
    }
  }
}

const FeatureSpace* TenantBackground::FindSpace(uint64_t text_id) const {
  for (const FeatureSpace& s : spaces_) {
    if (s.text_id == text_id) return &s;
  }
  return nullptr;
}

const LinearDiscriminant* TenantBackground::FindLinear(std::string_view user,
                                                       uint64_t text_id) const {
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (members_[i].user != user) continue;
    for (const LinearDiscriminant& d : linear_[i]) {
      if (d.text_id == text_id) return &d;
    }
    return nullptr;
  }
  return nullptr;
}

const DiscriminativeWeights* TenantBackground::FindWeights(std::string_view user,
                                                           uint64_t text_id) const {
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (members_[i].user != user) continue;
    for (const DiscriminativeWeights& w : weights_[i]) {
      if (w.text_id == text_id) return &w;
    }
    return nullptr;
  }
  return nullptr;
}

const PopulationTemplate* TenantBackground::FindPopulation(uint64_t text_id) const {
  for (const PopulationTemplate& p : populations_) {
    if (p.text_id == text_id) return &p;
  }
  return nullptr;
}

KeystrokeModel::KeystrokeModel(KeystrokeModelConfig config) : config_(std::move(config)) {
  SHIELDX_CHECK_OK(config_.Validate());
}

BackgroundOptions KeystrokeModel::background_options() const {
  BackgroundOptions o;
  o.min_others = config_.min_cohort;
  o.fit_linear = config_.linear_weight > 0;
  o.fit_weights = config_.discriminative_weight > 0;
  o.linear_l2 = config_.linear_l2;
  o.linear_deviations = config_.linear_deviations;
  return o;
}

Band KeystrokeModel::BandFor(double score) const {
  if (score >= config_.deny_from) return Band::kDeny;
  if (score >= config_.challenge_from) return Band::kChallenge;
  if (score >= config_.monitor_from) return Band::kMonitor;
  return Band::kAllow;
}

double KeystrokeModel::Calibrate(double fused, double center, double slope) const {
  return 1.0 / (1.0 + std::exp(-slope * (fused - center)));
}

void KeystrokeModel::UpdateTimingStats(const KeystrokeSample& sample,
                                       KeystrokeProfile* profile) const {
  std::vector<TimingObservation> holds, digraphs;
  ExtractFreeText(sample, &holds, &digraphs);
  AddObservations(holds, config_.free_text_memory, &profile->holds);
  AddObservations(digraphs, config_.free_text_memory, &profile->digraphs);
}

absl::Status KeystrokeModel::Enroll(const KeystrokeSample& sample,
                                    KeystrokeProfile* profile) const {
  if (auto s = ValidateSample(sample); !s.ok()) return s;
  UpdateTimingStats(sample, profile);
  ++profile->enrolled_samples;
  FixedTextFeatures f;
  if (!ExtractFixedText(sample, &f)) return absl::OkStatus();  // free text only
  FixedTextTemplate* t = profile->FindTemplate(f.text_id);
  if (t == nullptr) {
    if (profile->templates.size() >= kMaxTemplatesPerProfile) {
      return absl::ResourceExhaustedError(
          absl::StrCat("sample ", sample.sample_id, ": user ", sample.user, " already has ",
                       profile->templates.size(), " fixed texts (limit ", kMaxTemplatesPerProfile,
                       "); the sample only updated the free-text statistics"));
    }
    profile->templates.push_back({});
    t = &profile->templates.back();
    t->text_id = f.text_id;
    t->key_count = f.key_count;
    t->dims = f.dims;
  }
  SHIELDX_CHECK(t->dims == f.dims);
  if (t->anchor_count() >= kMaxAnchorSamples) {
    // Keep the most recent enrollment vectors.
    t->anchors.erase(t->anchors.begin(), t->anchors.begin() + t->dims);
  }
  t->anchors.insert(t->anchors.end(), f.values.begin(), f.values.begin() + f.dims);
  return absl::OkStatus();
}

CompiledProfile KeystrokeModel::Compile(const KeystrokeProfile& profile) const {
  CompiledProfile out;
  out.holds = profile.holds;
  out.digraphs = profile.digraphs;
  out.enrolled_samples = profile.enrolled_samples;
  std::vector<float> data;
  for (const FixedTextTemplate& t : profile.templates) {
    const std::size_t n = t.sample_count();
    if (n < config_.min_enroll_samples) {
      out.pending_counts.push_back(static_cast<uint32_t>(n));
      continue;
    }
    data.assign(t.anchors.begin(), t.anchors.end());
    data.insert(data.end(), t.adaptive.begin(), t.adaptive.end());
    CompiledTemplate ct;
    ct.text_id = t.text_id;
    if (config_.log_timings) internal::ChooseLogScaling(&data, n, t.dims, &ct);
    internal::CompileTemplate(data.data(), n, t.dims, config_.min_shrinkage, config_.outlier_z,
                              &ct);
    out.templates.push_back(std::move(ct));
  }
  return out;
}

absl::StatusOr<KeystrokeScore> KeystrokeModel::Score(const CompiledProfile& profile,
                                                     const KeystrokeSample& sample,
                                                     const TenantBackground* background,
                                                     std::string_view claimed_user) const {
  if (auto s = ValidateSample(sample); !s.ok()) return s;
  FixedTextFeatures f;
  const CompiledTemplate* t = nullptr;
  if (ExtractFixedText(sample, &f)) t = profile.FindTemplate(f.text_id);
  if (t == nullptr) return ScoreFreeText(profile, sample);

  KeystrokeScore out;
  out.mode = ScoreMode::kFixedText;
  out.backing_samples = t->sample_count;
  std::array<float, kMaxFixedTextDims> x;
  internal::ToTemplateSpace(*t, f.values.data(), x.data());
  const auto raw = internal::DetectorDistances(*t, x.data(), config_.outlier_z, true);
  double sum = 0, weights = 0;
  for (std::size_t k = 0; k < kDetectorCount; ++k) {
    out.detectors[k] = (raw[k] - t->norm_center[k]) / t->norm_scale[k];
    sum += config_.detector_weights[k] * out.detectors[k];
    weights += config_.detector_weights[k];
  }
  out.fused = sum / weights;

  if (background != nullptr) ApplyBackground(*t, f, *background, claimed_user, &out);
  out.score = out.cohort_size > 0
                  ? Calibrate(out.fused, config_.calibration_center, config_.calibration_slope)
                  : Calibrate(out.fused, config_.genuine_only_center, config_.genuine_only_slope);
  out.confidence = t->sample_count / (t->sample_count + config_.confidence_half_samples);
  out.band = BandFor(out.score);
  return out;
}

void KeystrokeModel::ApplyBackground(const CompiledTemplate& t, const FixedTextFeatures& f,
                                     const TenantBackground& background,
                                     std::string_view claimed_user, KeystrokeScore* out) const {
  const DiscriminativeWeights* weights = background.FindWeights(claimed_user, f.text_id);
  if (config_.discriminative_weight > 0 && weights != nullptr) {
    out->discriminative =
        (WeightedManhattan(t, *weights, f.values.data()) - weights->center) / weights->scale;
    double sum = 0, total = config_.discriminative_weight;
    for (std::size_t k = 0; k < kDetectorCount; ++k) {
      sum += config_.detector_weights[k] * out->detectors[k];
      total += config_.detector_weights[k];
    }
    out->fused = (sum + config_.discriminative_weight * out->discriminative) / total;
  }
  const LinearDiscriminant* linear = background.FindLinear(claimed_user, f.text_id);
  const FeatureSpace* space = background.FindSpace(f.text_id);
  if (config_.linear_weight > 0 && linear != nullptr && space != nullptr) {
    std::array<float, kMaxFixedTextDims> y;
    space->Transform(f.values.data(), y.data());
    out->linear = linear->Distance(y.data());
    out->fused += config_.linear_weight * out->linear;
  }
  const PopulationTemplate* population = background.FindPopulation(f.text_id);
  if (config_.ubm_weight > 0 && population != nullptr && population->users >= config_.min_cohort) {
    // In the units of the claimed user's Manhattan detector, so the weight is comparable
    // across users.
    out->ubm_distance =
        PopulationDistance(*population, f.values.data()) / t.norm_scale[kScaledManhattan];
    out->fused -= config_.ubm_weight * out->ubm_distance;
  }
  if (config_.cohort_weight <= 0) return;
  // The cohort_nearest smallest distances, kept sorted in a fixed array (no allocation).
  std::array<double, kMaxCohortNearest> best;
  best.fill(std::numeric_limits<double>::infinity());
  const std::size_t k = config_.cohort_nearest;
  uint32_t count = 0;
  for (const TenantBackground::Member& m : background.members()) {
    if (m.user == claimed_user) continue;
    const CompiledTemplate* ct = m.profile->FindTemplate(f.text_id);
    if (ct == nullptr) continue;
    double d = TemplateLevelFused(*ct, f.values.data(), config_);
    for (std::size_t i = 0; i < k; ++i) {
      if (d < best[i]) std::swap(d, best[i]);
    }
    ++count;
  }
  if (count < config_.min_cohort || count < k) return;
  double nearest = 0;
  for (std::size_t i = 0; i < k; ++i) nearest += best[i];
  nearest /= static_cast<double>(k);
  out->cohort_size = count;
  out->cohort_distance = nearest;
  out->fused -= config_.cohort_weight * out->cohort_distance;
}

absl::StatusOr<KeystrokeScore> KeystrokeModel::ScoreFreeText(const CompiledProfile& profile,
                                                             const KeystrokeSample& sample) const {
  if (profile.enrolled_samples < config_.min_enroll_samples) {
    return absl::FailedPreconditionError(absl::StrCat(
        "sample ", sample.sample_id, ": user ", sample.user, " has ", profile.enrolled_samples,
        " enrollment samples, need ", config_.min_enroll_samples));
  }
  thread_local std::vector<TimingObservation> holds, digraphs;
  ExtractFreeText(sample, &holds, &digraphs);
  double sum_abs_z = 0;
  std::size_t matches = 0;
  auto accumulate = [&](const std::vector<TimingObservation>& obs,
                        const std::vector<TimingStat>& stats) {
    for (const TimingObservation& o : obs) {
      const TimingStat* s = FindStat(stats, o.id);
      if (s == nullptr || s->count < config_.free_text_min_count) continue;
      const double sd = std::sqrt(s->m2 / (s->count - 1));
      // Relative floor: a spread below 5 % of the mean latency is timer rounding, not skill.
      const double floor = std::max(0.05 * std::fabs(s->mean_ms), 1e-6);
      const double z = std::fabs(o.value_ms - s->mean_ms) / std::max(sd, floor);
      sum_abs_z += std::min(z, config_.free_text_z_clip);
      ++matches;
    }
  };
  accumulate(holds, profile.holds);
  accumulate(digraphs, profile.digraphs);
  if (matches < config_.free_text_min_matches) {
    std::string pending;
    for (uint32_t n : profile.pending_counts)
      absl::StrAppend(&pending, pending.empty() ? "" : ",", n);
    return absl::FailedPreconditionError(absl::StrCat(
        "sample ", sample.sample_id, ": user ", sample.user,
        " has no ready template for this text (need ", config_.min_enroll_samples,
        " enrollment samples; texts pending: [", pending, "]) and only ", matches,
        " keys/digraphs match the free-text profile (need ", config_.free_text_min_matches, ")"));
  }
  KeystrokeScore out;
  out.mode = ScoreMode::kFreeText;
  out.backing_samples = static_cast<uint32_t>(matches);
  const double mean_abs_z = sum_abs_z / matches;
  out.fused = (mean_abs_z - kMeanAbsNormal) / (kSdAbsNormal / std::sqrt(double(matches)));
  out.score = Calibrate(out.fused, config_.free_text_center, config_.free_text_slope);
  const double n = static_cast<double>(profile.enrolled_samples);
  out.confidence = n / (n + config_.confidence_half_samples) *
                   (matches / (matches + static_cast<double>(config_.free_text_min_matches)));
  out.band = BandFor(out.score);
  return out;
}

absl::StatusOr<bool> KeystrokeModel::MaybeUpdate(const KeystrokeSample& sample,
                                                 const KeystrokeScore& score,
                                                 KeystrokeProfile* profile) const {
  if (auto s = ValidateSample(sample); !s.ok()) return s;
  if (score.mode != ScoreMode::kFixedText || score.score > config_.update_max_score ||
      score.confidence < config_.update_min_confidence) {
    return false;
  }
  FixedTextFeatures f;
  if (!ExtractFixedText(sample, &f)) return false;
  if (profile->FindTemplate(f.text_id) == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("sample ", sample.sample_id, ": scored as fixed text but user ", sample.user,
                     "'s profile has no template for it (profile changed since compiling?)"));
  }
  if (!FoldAccepted(f, profile)) return false;
  UpdateTimingStats(sample, profile);
  return true;
}

bool KeystrokeModel::FoldAccepted(const FixedTextFeatures& f, KeystrokeProfile* profile) const {
  FixedTextTemplate* t = profile->FindTemplate(f.text_id);
  if (t == nullptr || t->dims != f.dims) return false;
  const std::size_t capacity = std::min(kMaxAdaptiveSamples, t->anchor_count());
  if (capacity == 0) return false;
  if (t->adaptive_count() < capacity) {
    t->adaptive.insert(t->adaptive.end(), f.values.begin(), f.values.begin() + f.dims);
  } else {
    const std::size_t slot = t->adaptive_next % t->adaptive_count();
    std::copy(f.values.begin(), f.values.begin() + f.dims, t->adaptive.begin() + slot * f.dims);
    t->adaptive_next = static_cast<uint32_t>((slot + 1) % t->adaptive_count());
  }
  ++profile->adaptive_updates;
  return true;
}

absl::Status KeystrokeModel::EnrollFreeText(const KeystrokeSample& sample,
                                            KeystrokeProfile* profile) const {
  if (auto s = ValidateSample(sample); !s.ok()) return s;
  UpdateTimingStats(sample, profile);
  ++profile->enrolled_samples;
  return absl::OkStatus();
}

}  // namespace shieldx::contauth
