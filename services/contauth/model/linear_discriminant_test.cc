#include "services/contauth/model/linear_discriminant.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace shieldx::contauth {
namespace {

// Rows of `dims` values around `center` with Gaussian noise of sd `sd`.
std::vector<float> Cloud(std::mt19937* rng, std::size_t rows, const std::vector<double>& center,
                         double sd) {
  std::normal_distribution<double> n(0, sd);
  std::vector<float> out;
  for (std::size_t r = 0; r < rows; ++r) {
    for (double c : center) out.push_back(static_cast<float>(c + n(*rng)));
  }
  return out;
}

std::vector<float> Transformed(const FeatureSpace& s, const std::vector<float>& raw) {
  std::vector<float> out(raw.size());
  for (std::size_t r = 0; r * s.dims < raw.size(); ++r)
    s.Transform(&raw[r * s.dims], &out[r * s.dims]);
  return out;
}

TEST(FeatureSpace, LogScalesPositiveDurationsAndKeepsSignedFeaturesLinear) {
  // Feature 0: a hold (always > 0); feature 1: an up-down latency that is often negative.
  std::vector<float> rows = {100, -20, 120, 15, 90, -5, 110, 30};
  FeatureSpace s = FitFeatureSpace(7, 2, rows, std::vector<double>(4, 1.0));
  EXPECT_EQ(s.text_id, 7u);
  EXPECT_EQ(s.log_scaled[0], 1);
  EXPECT_EQ(s.log_scaled[1], 0);
  EXPECT_GT(s.floor[0], 0);
  // A zero hold (possible with a coarse timer) is floored, never log(0).
  float y[2];
  const float probe[2] = {0, 0};
  s.Transform(probe, y);
  EXPECT_TRUE(std::isfinite(y[0]) && std::isfinite(y[1]));
}

TEST(FeatureSpace, IsTheSameInAnyTimeUnit) {
  std::mt19937 rng(3);
  std::vector<float> ms = Cloud(&rng, 40, {120, 250, 40}, 15);
  for (std::size_t i = 2; i < ms.size(); i += 3) ms[i] -= 40;  // signed third feature
  std::vector<float> seconds = ms;
  for (float& v : seconds) v /= 1000;
  const std::vector<double> w(40, 1.0);
  const FeatureSpace a = FitFeatureSpace(1, 3, ms, w);
  const FeatureSpace b = FitFeatureSpace(1, 3, seconds, w);
  const std::vector<float> ya = Transformed(a, ms), yb = Transformed(b, seconds);
  for (std::size_t i = 0; i < ya.size(); ++i) EXPECT_NEAR(ya[i], yb[i], 1e-3) << i;
}

TEST(FeatureSpace, DropsAFeatureThatIsConstantAcrossTheTenant) {
  std::vector<float> rows = {100, 5, 120, 5, 90, 5, 110, 5};
  FeatureSpace s = FitFeatureSpace(1, 2, rows, std::vector<double>(4, 1.0));
  EXPECT_GT(s.inv_sd[0], 0);
  EXPECT_EQ(s.inv_sd[1], 0);  // no information: contributes 0, never a huge z
  float y[2];
  const float probe[2] = {100, 500};
  s.Transform(probe, y);
  EXPECT_EQ(y[1], 0);
}

TEST(FitLogistic, SeparatesTheUserFromOthersOnFreshVectors) {
  std::mt19937 rng(11);
  const std::vector<double> user = {0.5, -0.5, 0.2, 0.0}, other = {-0.3, 0.4, -0.1, 0.0};
  std::vector<float> pos = Cloud(&rng, 25, user, 0.3), neg = Cloud(&rng, 200, other, 0.6);
  LinearDiscriminant d;
  ASSERT_TRUE(FitLogistic(pos, neg, 4, 0.01, /*deviations=*/false, &d));
  EXPECT_EQ(d.dims, 4u);
  EXPECT_EQ(d.weights.size(), 4u);
  EXPECT_TRUE(d.center.empty());
  EXPECT_GT(d.genuine_center, d.impostor_center);
  // Fresh vectors: the user's are closer to 0, the others' closer to 1.
  const std::vector<float> fresh_pos = Cloud(&rng, 200, user, 0.3);
  const std::vector<float> fresh_neg = Cloud(&rng, 200, other, 0.6);
  double right = 0;
  for (std::size_t i = 0; i < 200; ++i) {
    right += d.Distance(&fresh_pos[i * 4]) < d.Distance(&fresh_neg[i * 4]) ? 1 : 0;
  }
  EXPECT_GT(right / 200, 0.85);
}

TEST(FitLogistic, DeviationFeaturesCatchOthersOnBothSidesOfTheUser) {
  // The others type both faster and slower than the user in every feature: no hyperplane
  // separates them, but |y - user mean| does.
  std::mt19937 rng(5);
  std::vector<float> pos = Cloud(&rng, 30, {0, 0, 0}, 0.2);
  std::vector<float> neg = Cloud(&rng, 100, {1, 1, 1}, 0.2);
  const std::vector<float> neg_low = Cloud(&rng, 100, {-1, -1, -1}, 0.2);
  neg.insert(neg.end(), neg_low.begin(), neg_low.end());
  LinearDiscriminant plain, with_deviations;
  ASSERT_TRUE(FitLogistic(pos, neg, 3, 0.01, false, &plain));
  ASSERT_TRUE(FitLogistic(pos, neg, 3, 0.01, true, &with_deviations));
  ASSERT_EQ(with_deviations.weights.size(), 6u);
  ASSERT_EQ(with_deviations.center.size(), 3u);
  const float genuine[3] = {0.1f, -0.1f, 0.05f}, fast[3] = {-1, -1, -1}, slow[3] = {1, 1, 1};
  EXPECT_LT(with_deviations.Distance(genuine), 0.5);
  EXPECT_GT(with_deviations.Distance(fast), 0.5);
  EXPECT_GT(with_deviations.Distance(slow), 0.5);
  // A linear model cannot put both sides above the midpoint: D(fast) + D(slow) = 2 D(0).
  const float middle[3] = {0, 0, 0};
  EXPECT_LE(std::min(plain.Distance(fast), plain.Distance(slow)), plain.Distance(middle) + 1e-6);
}

TEST(FitLogistic, RejectsEmptyClassesAndUninformativeData) {
  LinearDiscriminant d;
  const std::vector<float> some = {1, 2, 3, 4};
  EXPECT_FALSE(FitLogistic({}, some, 2, 0.01, false, &d));
  EXPECT_FALSE(FitLogistic(some, {}, 2, 0.01, true, &d));
  // Every feature 0 for both classes (constant features dropped by the feature space): the
  // model cannot tell them apart, so there is no discriminant rather than a 0/0 distance.
  const std::vector<float> zeros(20, 0.0f);
  EXPECT_FALSE(FitLogistic(zeros, zeros, 2, 0.01, true, &d));
}

TEST(FitLogistic, UserWithIdenticalSamplesGivesFiniteDistances) {
  std::mt19937 rng(2);
  std::vector<float> pos;
  for (int i = 0; i < 12; ++i) pos.insert(pos.end(), {0.4f, -0.2f, 0.1f});
  const std::vector<float> neg = Cloud(&rng, 60, {0, 0, 0}, 0.5);
  for (bool deviations : {false, true}) {
    LinearDiscriminant d;
    ASSERT_TRUE(FitLogistic(pos, neg, 3, 0.01, deviations, &d));
    for (float w : d.weights) EXPECT_TRUE(std::isfinite(w));
    EXPECT_NEAR(d.Distance(&pos[0]), 0.0, 1e-4);
    const float far[3] = {-3, 3, -3};
    EXPECT_TRUE(std::isfinite(d.Distance(far)));
    EXPECT_GT(d.Distance(far), 0.5);
  }
}

}  // namespace
}  // namespace shieldx::contauth
