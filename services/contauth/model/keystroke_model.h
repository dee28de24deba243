// KeystrokeModel: enrollment, scoring and online update of per-user keystroke-dynamics
// profiles. This is the scoring code the contauth service and shieldx-contauth-eval share.
//
// Fixed text (the probe's key sequence matches an enrolled one): four detectors compare the
// probe's timing vector (features.h) with the user's template —
//   scaled Manhattan   mean |x_j - mean_j| / mad_j
//   Mahalanobis        sqrt(z' R^-1 z / d) on standardised features, R the correlation matrix
//                      shrunk toward I (Schafer-Strimmer estimate of the shrinkage weight)
//   nearest neighbour  scaled Manhattan to the closest enrolled vector
//   outlier count      share of features with |z_j| > outlier_z
// Each detector's raw distance is normalised by the distribution of the same detector's
// distances of the user's own held-out enrollment vectors (k-fold, computed at Compile), so
// 0 means "as typical as the user's own samples" and 1 is one spread above; the normalised
// scores are averaged with the configured weights. With a tenant background (the other
// users' compiled profiles, for the same text), two terms use the population:
//   population (UBM) term   - ubm_weight * Manhattan distance to the tenant population model
//                           (pooled mean and spread of all users' vectors): a likelihood-ratio
//                           style normalisation, "far from the user AND typical of people in
//                           general" scores higher than "far from everyone" (erratic typing);
//   cohort term             - cohort_weight * d_nearest_other, the template-level distance
//                           to the closest other user of the tenant: a probe far from the
//                           claimed user but close to someone else scores high, while a probe
//                           far from everyone (an off day of the genuine user) is discounted.
//                           Template level (mean/spread/correlation), never a stored vector,
//                           so a probe is never matched to a copy of itself.
//   discriminative detector a per-user weighted scaled Manhattan whose feature weights come
//                           from how far the tenant's other users lie from this user's mean
//                           (DiscriminativeWeights), fused with the four detectors.
// The result is mapped to [0, 1] by a logistic calibration.
//
// Free text (no ready template for this key sequence): per-key hold and per-digraph latency
// z-scores against the user's running statistics; the mean clipped |z| over the matched
// keys/digraphs, standardised for the number of matches, is calibrated the same way.
//
// Thread-safety: KeystrokeModel is immutable after construction and safe to share. Enroll /
// MaybeUpdate mutate the profile passed in (callers serialise per profile). CompiledProfile
// and TenantBackground are immutable once built and safe to read concurrently.
// Score allocates nothing on the fixed-text path (free text uses thread-local scratch).
#ifndef SHIELDX_SERVICES_CONTAUTH_MODEL_KEYSTROKE_MODEL_H_
#define SHIELDX_SERVICES_CONTAUTH_MODEL_KEYSTROKE_MODEL_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/contauth/model/features.h"
#include "services/contauth/model/keystroke_profile.h"
#include "services/contauth/model/keystroke_sample.h"
#include "services/contauth/model/linear_discriminant.h"

namespace shieldx::contauth {

inline constexpr std::size_t kDetectorCount = 4;
enum DetectorIndex : std::size_t {
  kScaledManhattan = 0,
  kMahalanobis = 1,
  kNearestNeighbour = 2,
  kOutlierCount = 3,
};
// Cohort members considered per score (bounds Score cost: O(members * dims^2)).
inline constexpr std::size_t kMaxCohortMembers = 128;
inline constexpr std::size_t kMaxCohortNearest = 8;
// Each cohort member contributes at most this many vectors (evenly spaced) to the models
// fitted on the background (bounds TenantBackground construction).
inline constexpr std::size_t kMaxVectorsPerCohortMember = 64;
// Negative (other users') vectors per linear discriminant fit: bounds its cost to
// O(kMaxLinearNegatives * (2d)^2) per Newton iteration.
inline constexpr std::size_t kMaxLinearNegatives = 512;

enum class Band { kAllow, kMonitor, kChallenge, kDeny };
std::string_view BandName(Band band);

struct KeystrokeModelConfig {
  // Enrollment vectors a fixed text needs before it is scored (at least 3: the k-fold
  // normalisation needs two training vectors per fold).
  std::size_t min_enroll_samples = 10;
  // Fusion weights of the normalised detectors (DetectorIndex order); >= 0, sum > 0.
  std::array<double, kDetectorCount> detector_weights = {1.0, 1.0, 1.0, 1.0};
  double outlier_z = 1.96;
  // Detectors on log-scaled timings (features that are positive durations for the user; see
  // CompiledTemplate::log_scaled): multiplicative timing noise becomes additive.
  bool log_timings = true;
  // Lower bound of the covariance shrinkage weight (0..1).
  double min_shrinkage = 0.05;
  // Tenant background (all three weights 0: genuine-only scoring).
  std::size_t min_cohort = 3;        // fewer users with this text: that term is skipped
  double discriminative_weight = 0;  // fusion weight of the per-user weighted Manhattan
  double ubm_weight = 0;  // population (UBM) term; measured, not better here (docs/contauth.md)
  double cohort_weight = 2.0;
  // Per-user linear discriminant (logistic regression "this user vs the tenant's other
  // users", linear_discriminant.h): fusion weight of its normalised distance, and its L2
  // penalty (relative to the mean loss; features are standardised, so unit-free).
  double linear_weight = 4.0;
  double linear_l2 = 0.01;
  bool linear_deviations = true;  // also learn weights of |y - user mean| (linear_discriminant.h)
  // d_nearest_other is the mean of this many smallest other-user distances (1..8).
  std::size_t cohort_nearest = 1;
  // Calibration: score = 1 / (1 + exp(-slope * (fused - center))), with one pair for scores
  // that used the cohort term and one for genuine-only scores (different distance scales).
  // Defaults: balanced logistic regression on the tuning half of MEU-Mobile KSD.
  double calibration_center = 3.86;
  double calibration_slope = 1.41;
  double genuine_only_center = 1.70;
  double genuine_only_slope = 1.23;
  double free_text_center = 2.0;
  double free_text_slope = 1.0;
  // Confidence = n / (n + confidence_half_samples) for n enrolled vectors (free text: times
  // matches / (matches + free_text_min_matches)).
  double confidence_half_samples = 10;
  // Free text.
  uint32_t free_text_min_count = 3;       // observations before a key/digraph is used
  std::size_t free_text_min_matches = 8;  // matched keys+digraphs to score at all
  uint32_t free_text_memory = 200;        // Welford count saturates here (EWMA beyond)
  double free_text_z_clip = 4.0;
  // Online update: only probes scored at or below this, with at least this confidence.
  double update_max_score = 0.2;
  double update_min_confidence = 0.6;
  // Bands: score < monitor_from allows; < challenge_from monitors; < deny_from challenges.
  double monitor_from = 0.5;
  double challenge_from = 0.7;
  double deny_from = 0.9;

  absl::Status Validate() const;
};

// A fixed-text template compiled for scoring (derived from FixedTextTemplate).
struct CompiledTemplate {
  uint64_t text_id = 0;
  uint32_t dims = 0;
  uint32_t sample_count = 0;
  std::vector<float> mean;            // dims
  std::vector<float> inv_mad;         // dims: 1 / mean absolute deviation
  std::vector<float> inv_std;         // dims: 1 / standard deviation
  std::vector<float> inv_corr;        // dims x dims: inverse shrunk correlation matrix
  std::vector<float> scaled_samples;  // sample_count x dims: vectors times inv_mad
  // Per-feature log scaling (config.log_timings; empty = none): a raw feature x_j is used as
  // log(max(x_j, log_floor[j])) where log_scaled[j]. Every statistic above is in that space.
  std::vector<uint8_t> log_scaled;
  std::vector<float> log_floor;
  std::array<float, kDetectorCount> norm_center{};  // per detector: held-out mean distance
  std::array<float, kDetectorCount> norm_scale{};   // per detector: held-out spread (> 0)
};

// The scoring form of one user's profile. Build with KeystrokeModel::Compile.
struct CompiledProfile {
  std::vector<CompiledTemplate> templates;  // only texts with >= min_enroll_samples vectors
  std::vector<uint32_t> pending_counts;     // vectors of the texts not yet ready
  std::vector<TimingStat> holds;
  std::vector<TimingStat> digraphs;
  uint64_t enrolled_samples = 0;

  const CompiledTemplate* FindTemplate(uint64_t text_id) const;
};

// Population model of one fixed text over a tenant's users: the pooled mean and mean
// absolute deviation of all their vectors (each user weighted equally).
struct PopulationTemplate {
  uint64_t text_id = 0;
  uint32_t dims = 0;
  uint32_t users = 0;
  std::vector<float> mean;
  std::vector<float> inv_mad;
};

// Per-user feature weights for one text learned against the tenant's other users:
// w_j = max(kMinFeatureWeight, 1 - mad_j / spread_j), where spread_j is the mean |x_j - mean_j|
// of the other users' vectors around this user's mean — the Laplace log-likelihood ratio of
// "this user" vs "someone else" per feature. Features in which the user is not distinctive
// get little weight. center/scale: the weighted distance's mean and spread over the user's
// own vectors (in-sample), to normalise it like the other detectors.
struct DiscriminativeWeights {
  uint64_t text_id = 0;
  std::vector<float> weights;  // dims
  float center = 0;
  float scale = 1;
};

// What a TenantBackground fits besides the population templates and weights
// (KeystrokeModel::background_options() derives it from the model's config).
struct BackgroundOptions {
  // Per-user linear discriminants are fitted only when at least this many other members
  // have the text (below it a "user vs the others" model would learn the few others, not
  // the population).
  std::size_t min_others = 3;
  bool fit_linear = true;
  bool fit_weights = true;  // per-user DiscriminativeWeights (FindWeights)
  double linear_l2 = 0.01;  // > 0
  bool linear_deviations = true;
};

// The users of one tenant, used as background. Never mix tenants: the caller builds one
// background per tenant from that tenant's profiles only. Immutable after construction.
// Construction cost: O(members * (members * v * d^2 + d^3)) for the linear discriminants (v
// vectors per member, at most kMaxVectorsPerCohortMember of each other member).
class TenantBackground {
 public:
  struct Member {
    std::string user;
    std::shared_ptr<const CompiledProfile> profile;  // not null
  };
  // Keeps the first kMaxCohortMembers members (by the caller's order) and fits a population
  // template and a feature space for every text at least two of them have, discriminative
  // weights for every member, and (options.fit_linear) a linear discriminant for every member
  // with at least options.min_others other members having the text.
  explicit TenantBackground(std::vector<Member> members, BackgroundOptions options = {});

  const std::vector<Member>& members() const { return members_; }
  const PopulationTemplate* FindPopulation(uint64_t text_id) const;
  const FeatureSpace* FindSpace(uint64_t text_id) const;
  // Weights of `user` for `text_id`, or nullptr (user not a member, or too few others).
  const DiscriminativeWeights* FindWeights(std::string_view user, uint64_t text_id) const;
  // Linear discriminant of `user` for `text_id`, or nullptr (not a member, too few others,
  // or the fit failed).
  const LinearDiscriminant* FindLinear(std::string_view user, uint64_t text_id) const;

 private:
  std::vector<Member> members_;
  std::vector<std::vector<DiscriminativeWeights>> weights_;  // parallel to members_
  std::vector<std::vector<LinearDiscriminant>> linear_;      // parallel to members_
  std::vector<PopulationTemplate> populations_;
  std::vector<FeatureSpace> spaces_;
};

enum class ScoreMode { kFixedText, kFreeText };

struct KeystrokeScore {
  double score = 0;       // calibrated, [0, 1]; higher = less likely the claimed user
  double confidence = 0;  // [0, 1]: how much enrolled data backs the score
  double fused = 0;       // normalised distance before calibration (0 = typical genuine)
  ScoreMode mode = ScoreMode::kFixedText;
  std::array<double, kDetectorCount> detectors{};  // normalised per-detector distances
  double discriminative = 0;     // normalised per-user weighted Manhattan (background only)
  double linear = 0;             // linear discriminant distance (0 genuine-like, 1 other-like)
  double ubm_distance = 0;       // population term before weighting (0 without background)
  double cohort_distance = 0;    // d_nearest_other before weighting (0 without background)
  uint32_t cohort_size = 0;      // other users the cohort term compared against
  uint32_t backing_samples = 0;  // enrolled vectors (fixed) or matched stats (free text)
  Band band = Band::kAllow;
};

class KeystrokeModel {
 public:
  // REQUIRES: config.Validate().ok().
  explicit KeystrokeModel(KeystrokeModelConfig config);
  const KeystrokeModelConfig& config() const { return config_; }

  // Validates the sample and adds its features to `profile` (anchor vector of its fixed text
  // plus free-text statistics). ResourceExhausted when the user already has
  // kMaxTemplatesPerProfile other texts (the free-text statistics are still updated).
  absl::Status Enroll(const KeystrokeSample& sample, KeystrokeProfile* profile) const;

  // Derives the scoring form. Cost O(texts * (n^2 * d + k * d^3)); call after changes, not
  // per score. Never fails on a profile that DeserializeProfile accepted.
  CompiledProfile Compile(const KeystrokeProfile& profile) const;

  // Scores `sample` against `profile` (the claimed user's) with an optional tenant
  // background from which `claimed_user` is excluded. InvalidArgument for an invalid
  // sample; FailedPrecondition naming the sample when the profile cannot score it (text
  // not enrolled enough and too little free-text overlap).
  absl::StatusOr<KeystrokeScore> Score(const CompiledProfile& profile,
                                       const KeystrokeSample& sample,
                                       const TenantBackground* background,
                                       std::string_view claimed_user) const;

  // Online template update: folds `sample` into `profile` iff `score` (its score against
  // this profile) accepts it confidently (score <= update_max_score, confidence >=
  // update_min_confidence, fixed-text mode). The vector goes to the adaptive ring, whose
  // capacity is min(kMaxAdaptiveSamples, anchor count): anchors are never displaced, so the
  // template can drift at most halfway from the enrollment. Returns whether it was folded in.
  absl::StatusOr<bool> MaybeUpdate(const KeystrokeSample& sample, const KeystrokeScore& score,
                                   KeystrokeProfile* profile) const;

  // Enrolls a free-text sample: updates only the per-key / per-digraph statistics, never a
  // fixed-text template (free texts differ every time; a template would waste a slot).
  absl::Status EnrollFreeText(const KeystrokeSample& sample, KeystrokeProfile* profile) const;

  // Folds an already-extracted fixed-text vector into its template's adaptive ring, as
  // MaybeUpdate does for a confident accept (same capacity rule: anchors are never displaced).
  // Used by the service when a step-up challenge proves the samples behind a decision were the
  // user's. False when the profile has no template for the vector's text (or dims differ).
  bool FoldAccepted(const FixedTextFeatures& features, KeystrokeProfile* profile) const;

  Band BandFor(double score) const;

  // The options a TenantBackground for this model should be built with.
  BackgroundOptions background_options() const;

 private:
  void UpdateTimingStats(const KeystrokeSample& sample, KeystrokeProfile* profile) const;
  void ApplyBackground(const CompiledTemplate& t, const FixedTextFeatures& f,
                       const TenantBackground& background, std::string_view claimed_user,
                       KeystrokeScore* out) const;
  absl::StatusOr<KeystrokeScore> ScoreFreeText(const CompiledProfile& profile,
                                               const KeystrokeSample& sample) const;
  double Calibrate(double fused, double center, double slope) const;

  KeystrokeModelConfig config_;
};

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_MODEL_KEYSTROKE_MODEL_H_
