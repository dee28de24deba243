#include "services/contauth/motion.h"

#include "gtest/gtest.h"
#include "services/contauth/contauth_test_util.h"

namespace shieldx::contauth {
namespace {

TEST(Motion, PointerStrokesAndClicksBecomeObservations) {
  MotionObservations obs = ExtractPointer(testing::PointerBatch(1, 4, 1.0, 1.0));
  EXPECT_EQ(obs.values[0].size(), 4u);  // one speed observation per stroke
  EXPECT_EQ(obs.values[5].size(), 4u);  // one click hold per click
  EXPECT_EQ(obs.values[6].size(), 4u);  // one pre-click pause per click
  for (float s : obs.values[3]) {
    EXPECT_GT(s, 0.8f);  // nearly straight strokes
    EXPECT_LE(s, 1.0f);
  }
}

TEST(Motion, TooShortMovementsYieldNothing) {
  std::vector<PointerEvent> e = {{PointerKind::kMove, 0, 0, 0, 0, 0},
                                 {PointerKind::kMove, 16, 1, 0, 0, 0}};
  EXPECT_EQ(ExtractPointer(e).total(), 0u);
}

TEST(Motion, TouchSwipesAndTapsAreSeparated) {
  std::vector<TouchEvent> e = {{TouchKind::kStart, 0, 1, 10, 10, 0.4, 5},
                               {TouchKind::kMove, 30, 1, 60, 12, 0.5, 5},
                               {TouchKind::kEnd, 60, 1, 120, 14, 0.4, 5},
                               {TouchKind::kStart, 500, 2, 50, 50, 0.6, 4},
                               {TouchKind::kEnd, 580, 2, 51, 50, 0.6, 4}};
  MotionObservations obs = ExtractTouch(e);
  EXPECT_EQ(obs.values[0].size(), 1u);  // one swipe speed
  EXPECT_EQ(obs.values[6].size(), 1u);  // one tap hold
  EXPECT_EQ(obs.values[4].size(), 2u);  // pressure of both
}

TEST(Motion, SameStyleScoresLowerThanADifferentStyle) {
  MotionProfile p;
  for (uint32_t i = 0; i < 10; ++i)
    LearnMotion(ExtractPointer(testing::PointerBatch(i, 6, 1.0, 1.0)), &p);
  EXPECT_FALSE(MotionEnrolling(p, 5));
  const MotionScore same = ScoreMotion(p, ExtractPointer(testing::PointerBatch(99, 6, 1.0, 1.0)));
  const MotionScore other = ScoreMotion(p, ExtractPointer(testing::PointerBatch(98, 6, 3.0, 6.0)));
  ASSERT_GT(same.observations, 0u);
  EXPECT_LT(same.score, 0.5);
  EXPECT_GT(other.score, 0.8);
  EXPECT_GT(other.mean_abs_z, same.mean_abs_z);
}

TEST(Motion, UnenrolledProfileGivesNoScore) {
  MotionProfile p;
  EXPECT_EQ(ScoreMotion(p, ExtractPointer(testing::PointerBatch(1, 3, 1.0, 1.0))).observations, 0u);
}

TEST(Motion, SaturatedMemoryKeepsTheVarianceBounded) {
  MotionProfile p;
  for (uint32_t i = 0; i < 200; ++i)
    LearnMotion(ExtractPointer(testing::PointerBatch(i, 6, 1.0, 1.0)), &p);
  EXPECT_EQ(p.stats[0].count, kMotionMemory);
  const double var = p.stats[0].m2 / (p.stats[0].count - 1);
  EXPECT_GT(var, 0);
  EXPECT_LT(var, 1.0);
}

}  // namespace
}  // namespace shieldx::contauth
