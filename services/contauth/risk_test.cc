#include "services/contauth/risk.h"

#include "gtest/gtest.h"

namespace shieldx::contauth {
namespace {

TEST(FuseRisk, NoEvidenceIsHalfAtZeroConfidence) {
  const FusedRisk r = FuseRisk({}, {}, 0);
  EXPECT_DOUBLE_EQ(r.risk, 0.5);
  EXPECT_DOUBLE_EQ(r.confidence, 0);
  EXPECT_TRUE(r.reasons.empty());
}

TEST(FuseRisk, ConfidentGenuineKeystrokeIsLowAndImpostorIsHighWithAReason) {
  const FusedRisk genuine = FuseRisk({{Modality::kKeystrokeFixed, 0.05, 0.9, 3}}, {}, 0);
  EXPECT_LT(genuine.risk, 0.1);
  EXPECT_GT(genuine.confidence, 0.85);
  const FusedRisk impostor = FuseRisk({{Modality::kKeystrokeFixed, 0.95, 0.9, 3}}, {}, 0);
  EXPECT_GT(impostor.risk, 0.9);
  ASSERT_FALSE(impostor.reasons.empty());
  EXPECT_EQ(impostor.reasons[0].code, "KEYSTROKE_MISMATCH");
}

TEST(FuseRisk, LowConfidenceEvidenceMovesTheRiskLess) {
  const double strong = FuseRisk({{Modality::kKeystrokeFixed, 0.95, 0.9, 1}}, {}, 0).risk;
  const double weak = FuseRisk({{Modality::kKeystrokeFixed, 0.95, 0.2, 1}}, {}, 0).risk;
  EXPECT_GT(strong, weak);
  EXPECT_GT(weak, 0.5);
}

TEST(FuseRisk, IndependentEvidenceAddsUpAndReasonsAreOrdered) {
  std::vector<RiskReason> ctx = {{"IMPOSSIBLE_TRAVEL", Modality::kContext, "far", 0.95},
                                 {"NEW_DEVICE", Modality::kContext, "new", 0.35}};
  const FusedRisk r =
      FuseRisk({{Modality::kPointer, 0.7, 0.5, 4}, {Modality::kContext, 0.97, 0.8, 1}}, ctx, 0);
  const double pointer_only = FuseRisk({{Modality::kPointer, 0.7, 0.5, 4}}, {}, 0).risk;
  EXPECT_GT(r.risk, pointer_only);
  ASSERT_GE(r.reasons.size(), 3u);
  EXPECT_EQ(r.reasons[0].code, "IMPOSSIBLE_TRAVEL");
}

TEST(FuseRisk, ChallengeOutcomesShiftTheRisk) {
  const std::vector<Evidence> e = {{Modality::kKeystrokeFixed, 0.8, 0.8, 2}};
  const double base = FuseRisk(e, {}, 0).risk;
  const FusedRisk passed = FuseRisk(e, {}, -3);
  const FusedRisk failed = FuseRisk(e, {}, 2.5);
  EXPECT_LT(passed.risk, base);
  EXPECT_GT(failed.risk, base);
  EXPECT_EQ(failed.reasons[0].code, "CHALLENGE_FAILED");
}

}  // namespace
}  // namespace shieldx::contauth
