#include "services/contauth/model/keystroke_model.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"
#include "services/contauth/model/keystroke_profile.h"
#include "services/contauth/model/template_fit.h"
#include "services/contauth/model/test_util.h"

namespace shieldx::contauth {
namespace {

using ::shieldx::testing::IsOk;
using ::shieldx::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::SyntheticTypist;

constexpr char kText[] = "tie5roanl.";

KeystrokeProfile EnrollN(const KeystrokeModel& model, SyntheticTypist& typist,
                         const std::string& user, int n) {
  KeystrokeProfile p;
  for (int i = 0; i < n; ++i) {
    EXPECT_OK(model.Enroll(
        typist.Sample("t", user, absl::StrCat(user, "-e", i), SamplePhase::kEnroll), &p));
  }
  return p;
}

// Mean per-user EER-free separation check: share of (genuine, impostor) pairs ordered right.
double PairwiseAuc(const std::vector<double>& genuine, const std::vector<double>& impostor) {
  double right = 0;
  for (double g : genuine) {
    for (double i : impostor) right += g < i ? 1.0 : (g == i ? 0.5 : 0.0);
  }
  return right / (genuine.size() * impostor.size());
}

TEST(KeystrokeModel, ScoringNeedsTheMinimumEnrollment) {
  KeystrokeModelConfig config;
  config.min_enroll_samples = 8;
  KeystrokeModel model(config);
  SyntheticTypist alice(kText, 1);
  KeystrokeProfile p = EnrollN(model, alice, "alice", 7);
  const KeystrokeSample probe = alice.Sample("t", "alice", "p1", SamplePhase::kProbe);
  EXPECT_THAT(
      model.Score(model.Compile(p), probe, nullptr, "alice"),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               AllOf(HasSubstr("sample p1"), HasSubstr("has 7 enrollment samples, need 8"))));
  ASSERT_OK(model.Enroll(alice.Sample("t", "alice", "e8", SamplePhase::kEnroll), &p));
  ASSERT_OK_AND_ASSIGN(KeystrokeScore s, model.Score(model.Compile(p), probe, nullptr, "alice"));
  EXPECT_EQ(s.mode, ScoreMode::kFixedText);
  EXPECT_EQ(s.backing_samples, 8u);
}

TEST(KeystrokeModel, EnrollRejectsImpossibleTimingsAndLeavesProfileUnchanged) {
  KeystrokeModel model{KeystrokeModelConfig{}};
  KeystrokeProfile p;
  KeystrokeSample bad{"t", "u", "bad-1", SamplePhase::kEnroll, {{"a", 0, 10}, {"b", 50, 40}}};
  EXPECT_THAT(model.Enroll(bad, &p),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sample bad-1")));
  EXPECT_EQ(p.enrolled_samples, 0u);
  EXPECT_TRUE(p.templates.empty());
  EXPECT_TRUE(p.holds.empty());
}

TEST(KeystrokeModel, SeparatesGenuineFromImpostorsOnSyntheticUsers) {
  KeystrokeModel model{KeystrokeModelConfig{}};
  std::vector<SyntheticTypist> typists;
  std::vector<std::shared_ptr<const CompiledProfile>> compiled;
  std::vector<TenantBackground::Member> members;
  for (int u = 0; u < 6; ++u) {
    typists.emplace_back(kText, 100 + u);
    KeystrokeProfile p = EnrollN(model, typists.back(), absl::StrCat("u", u), 20);
    compiled.push_back(std::make_shared<const CompiledProfile>(model.Compile(p)));
    members.push_back({absl::StrCat("u", u), compiled.back()});
  }
  const TenantBackground background(members);
  for (const TenantBackground* bg : {static_cast<const TenantBackground*>(nullptr), &background}) {
    std::vector<double> genuine, impostor;
    for (int u = 0; u < 6; ++u) {
      const std::string user = absl::StrCat("u", u);
      for (int i = 0; i < 10; ++i) {
        ASSERT_OK_AND_ASSIGN(
            auto g, model.Score(*compiled[u],
                                typists[u].Sample("t", user, "g", SamplePhase::kProbe), bg, user));
        genuine.push_back(g.score);
        const int other = (u + 1 + i % 5) % 6;
        ASSERT_OK_AND_ASSIGN(
            auto m,
            model.Score(*compiled[u], typists[other].Sample("t", user, "i", SamplePhase::kProbe),
                        bg, user));
        impostor.push_back(m.score);
        EXPECT_GE(g.score, 0.0);
        EXPECT_LE(m.score, 1.0);
      }
    }
    EXPECT_GT(PairwiseAuc(genuine, impostor), 0.97) << (bg ? "with background" : "genuine only");
    // Calibration: typical genuine samples are allowed, typical impostors are not.
    std::sort(genuine.begin(), genuine.end());
    std::sort(impostor.begin(), impostor.end());
    EXPECT_LT(genuine[genuine.size() / 2], model.config().monitor_from);
    EXPECT_GT(impostor[impostor.size() / 2], model.config().challenge_from);
  }
}

TEST(KeystrokeModel, BackgroundExcludesTheClaimedUserAndNeedsMinCohort) {
  KeystrokeModelConfig config;
  config.min_cohort = 3;
  config.discriminative_weight = 1;
  KeystrokeModel model(config);
  std::vector<TenantBackground::Member> members;
  std::vector<SyntheticTypist> typists;
  for (int u = 0; u < 3; ++u) {
    typists.emplace_back(kText, 200 + u);
    KeystrokeProfile p = EnrollN(model, typists.back(), absl::StrCat("u", u), 12);
    members.push_back(
        {absl::StrCat("u", u), std::make_shared<const CompiledProfile>(model.Compile(p))});
  }
  const TenantBackground background(members);
  const KeystrokeSample probe = typists[0].Sample("t", "u0", "p", SamplePhase::kProbe);
  // Only 2 other users: the cohort term is skipped, the score is genuine-only calibrated.
  ASSERT_OK_AND_ASSIGN(auto with, model.Score(*members[0].profile, probe, &background, "u0"));
  ASSERT_OK_AND_ASSIGN(auto without, model.Score(*members[0].profile, probe, nullptr, "u0"));
  EXPECT_EQ(with.cohort_size, 0u);
  EXPECT_DOUBLE_EQ(with.cohort_distance, 0.0);
  EXPECT_NE(with.discriminative, 0.0);  // per-user weights only need one other user
  EXPECT_DOUBLE_EQ(without.discriminative, 0.0);
  // The linear discriminant needs min_cohort other users too: none in this tenant.
  EXPECT_EQ(background.FindLinear("u0", members[0].profile->templates[0].text_id), nullptr);
  EXPECT_DOUBLE_EQ(with.linear, 0.0);
}

// A tenant of `users` synthetic typists on kText, `enroll` vectors each.
struct Tenant {
  std::vector<SyntheticTypist> typists;
  std::vector<TenantBackground::Member> members;
};

Tenant MakeTenant(const KeystrokeModel& model, int users, int enroll, uint32_t seed) {
  Tenant t;
  for (int u = 0; u < users; ++u) {
    t.typists.emplace_back(kText, seed + u);
    KeystrokeProfile p = EnrollN(model, t.typists.back(), absl::StrCat("u", u), enroll);
    t.members.push_back(
        {absl::StrCat("u", u), std::make_shared<const CompiledProfile>(model.Compile(p))});
  }
  return t;
}

TEST(KeystrokeModel, LinearDiscriminantNeedsThreeOtherUsersAndThenSeparates) {
  KeystrokeModel model{KeystrokeModelConfig{}};
  ASSERT_GT(model.config().linear_weight, 0);
  Tenant tiny = MakeTenant(model, 3, 12, 300);
  const uint64_t text = tiny.members[0].profile->templates[0].text_id;
  const TenantBackground tiny_bg(tiny.members, model.background_options());
  for (const auto& m : tiny.members) EXPECT_EQ(tiny_bg.FindLinear(m.user, text), nullptr);

  Tenant tenant = MakeTenant(model, 5, 15, 300);
  const TenantBackground bg(tenant.members, model.background_options());
  ASSERT_NE(bg.FindSpace(text), nullptr);
  std::vector<double> genuine, impostor;
  for (int u = 0; u < 5; ++u) {
    const std::string user = absl::StrCat("u", u);
    ASSERT_NE(bg.FindLinear(user, text), nullptr) << user;
    for (int i = 0; i < 8; ++i) {
      ASSERT_OK_AND_ASSIGN(
          auto g,
          model.Score(*tenant.members[u].profile,
                      tenant.typists[u].Sample("t", user, "g", SamplePhase::kProbe), &bg, user));
      ASSERT_OK_AND_ASSIGN(auto m, model.Score(*tenant.members[u].profile,
                                               tenant.typists[(u + 1 + i % 4) % 5].Sample(
                                                   "t", user, "i", SamplePhase::kProbe),
                                               &bg, user));
      genuine.push_back(g.linear);
      impostor.push_back(m.linear);
    }
  }
  EXPECT_GT(PairwiseAuc(genuine, impostor), 0.95);
  // Not a member of the tenant: no discriminant.
  EXPECT_EQ(bg.FindLinear("stranger", text), nullptr);
  // The weighted-Manhattan detector is off by default, so its weights are not fitted.
  EXPECT_EQ(model.config().discriminative_weight, 0);
  EXPECT_EQ(bg.FindWeights("u0", text), nullptr);
}

// Multiplies every timing of `s` by `factor` (a change of time unit).
KeystrokeSample Rescaled(KeystrokeSample s, double factor) {
  for (KeyEvent& e : s.events) {
    e.down_ms *= factor;
    e.up_ms *= factor;
  }
  return s;
}

TEST(KeystrokeModel, ScoresDoNotDependOnTheTimeUnit) {
  KeystrokeModel model{KeystrokeModelConfig{}};
  constexpr int kUsers = 5;
  std::vector<SyntheticTypist> typists;
  std::vector<TenantBackground::Member> ms_members, s_members;
  for (int u = 0; u < kUsers; ++u) {
    typists.emplace_back(kText, 400 + u);
    KeystrokeProfile ms, seconds;
    for (int i = 0; i < 15; ++i) {
      const KeystrokeSample s = typists[u].Sample("t", "u", "e", SamplePhase::kEnroll);
      ASSERT_OK(model.Enroll(s, &ms));
      ASSERT_OK(model.Enroll(Rescaled(s, 0.001), &seconds));
    }
    ms_members.push_back(
        {absl::StrCat("u", u), std::make_shared<const CompiledProfile>(model.Compile(ms))});
    s_members.push_back(
        {absl::StrCat("u", u), std::make_shared<const CompiledProfile>(model.Compile(seconds))});
  }
  const TenantBackground ms_bg(ms_members, model.background_options());
  const TenantBackground s_bg(s_members, model.background_options());
  for (int u = 0; u < kUsers; ++u) {
    for (int from = 0; from < kUsers; ++from) {
      const KeystrokeSample probe = typists[from].Sample("t", "u", "p", SamplePhase::kProbe);
      ASSERT_OK_AND_ASSIGN(auto a,
                           model.Score(*ms_members[u].profile, probe, &ms_bg, ms_members[u].user));
      ASSERT_OK_AND_ASSIGN(auto b, model.Score(*s_members[u].profile, Rescaled(probe, 0.001), &s_bg,
                                               s_members[u].user));
      EXPECT_NEAR(a.fused, b.fused, 1e-3 * (1 + std::fabs(a.fused))) << u << " " << from;
      EXPECT_NEAR(a.score, b.score, 1e-3);
    }
  }
}

TEST(KeystrokeModel, FeatureConstantAcrossTheTenantKeepsScoresFinite) {
  // Every user holds the first key for exactly 50 ms (a coarse timer): that feature has no
  // spread in any template nor in the tenant's feature space.
  KeystrokeModel model{KeystrokeModelConfig{}};
  std::vector<SyntheticTypist> typists;
  std::vector<TenantBackground::Member> members;
  auto constant_first_hold = [](KeystrokeSample s) {
    s.events[0].up_ms = s.events[0].down_ms + 50;
    return s;
  };
  for (int u = 0; u < 5; ++u) {
    typists.emplace_back(kText, 500 + u);
    KeystrokeProfile p;
    for (int i = 0; i < 12; ++i) {
      ASSERT_OK(model.Enroll(
          constant_first_hold(typists[u].Sample("t", "u", "e", SamplePhase::kEnroll)), &p));
    }
    members.push_back(
        {absl::StrCat("u", u), std::make_shared<const CompiledProfile>(model.Compile(p))});
  }
  const TenantBackground bg(members, model.background_options());
  const FeatureSpace* space = bg.FindSpace(members[0].profile->templates[0].text_id);
  ASSERT_NE(space, nullptr);
  EXPECT_EQ(space->inv_sd[0], 0);
  KeystrokeSample odd = typists[1].Sample("t", "u0", "p", SamplePhase::kProbe);
  odd.events[0].up_ms = odd.events[0].down_ms + 400;  // the constant feature, way off
  for (const KeystrokeSample& probe :
       {constant_first_hold(typists[0].Sample("t", "u0", "g", SamplePhase::kProbe)), odd}) {
    ASSERT_OK_AND_ASSIGN(auto s, model.Score(*members[0].profile, probe, &bg, "u0"));
    EXPECT_TRUE(std::isfinite(s.fused) && std::isfinite(s.linear)) << probe.sample_id;
    EXPECT_GE(s.score, 0.0);
    EXPECT_LE(s.score, 1.0);
  }
}

TEST(KeystrokeModel, UserWithIdenticalSamplesIsScoredFinitelyWithABackground) {
  KeystrokeModel model{KeystrokeModelConfig{}};
  Tenant tenant = MakeTenant(model, 4, 12, 600);
  SyntheticTypist robot(kText, 699);
  const KeystrokeSample same = robot.Sample("t", "robot", "e", SamplePhase::kEnroll);
  KeystrokeProfile p;
  for (int i = 0; i < 12; ++i) ASSERT_OK(model.Enroll(same, &p));
  tenant.members.push_back({"robot", std::make_shared<const CompiledProfile>(model.Compile(p))});
  const TenantBackground bg(tenant.members, model.background_options());
  ASSERT_NE(bg.FindLinear("robot", p.templates[0].text_id), nullptr);
  ASSERT_OK_AND_ASSIGN(auto genuine, model.Score(*tenant.members[4].profile, same, &bg, "robot"));
  ASSERT_OK_AND_ASSIGN(
      auto other,
      model.Score(*tenant.members[4].profile,
                  tenant.typists[0].Sample("t", "robot", "i", SamplePhase::kProbe), &bg, "robot"));
  for (const KeystrokeScore& s : {genuine, other}) {
    EXPECT_TRUE(std::isfinite(s.fused) && std::isfinite(s.linear));
  }
  EXPECT_LT(genuine.score, other.score);
  // The other members' discriminants were fitted with the robot as a negative: still finite.
  ASSERT_OK_AND_ASSIGN(auto u0, model.Score(*tenant.members[0].profile, same, &bg, "u0"));
  EXPECT_TRUE(std::isfinite(u0.fused));
}

TEST(KeystrokeModel, FreeTextScoresDifferentTextsByDigraphs) {
  KeystrokeModel model{KeystrokeModelConfig{}};
  // Enroll on one text, probe with another sharing keys and digraphs ("ti", "ie", ...).
  SyntheticTypist alice_a("tietietie", 7, 0.05), mallory_a("tietietie", 8, 0.05);
  KeystrokeProfile p = EnrollN(model, alice_a, "alice", 15);
  const CompiledProfile c = model.Compile(p);
  // Same rhythm generator seeded identically for the other text would differ; instead probe
  // with the enrolled typist's own samples truncated to a new key sequence.
  KeystrokeSample g = alice_a.Sample("t", "alice", "g", SamplePhase::kProbe);
  g.events.pop_back();  // "tietieti": a different text id, same keys and digraphs
  KeystrokeSample m = mallory_a.Sample("t", "alice", "m", SamplePhase::kProbe);
  m.events.pop_back();
  ASSERT_OK_AND_ASSIGN(auto gs, model.Score(c, g, nullptr, "alice"));
  ASSERT_OK_AND_ASSIGN(auto ms, model.Score(c, m, nullptr, "alice"));
  EXPECT_EQ(gs.mode, ScoreMode::kFreeText);
  EXPECT_LT(gs.score, ms.score);
  EXPECT_GT(gs.confidence, 0.0);
  // Unrelated keys: nothing matches, FailedPrecondition naming the sample.
  KeystrokeSample other{"t", "alice", "x9", SamplePhase::kProbe, {{"q", 0, 50}, {"w", 100, 150}}};
  EXPECT_THAT(model.Score(c, other, nullptr, "alice"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("sample x9")));
}

TEST(KeystrokeModel, UpdateFoldsOnlyConfidentAcceptsAndNeverDisplacesAnchors) {
  KeystrokeModel model{KeystrokeModelConfig{}};
  SyntheticTypist alice(kText, 11), mallory(kText, 12);
  KeystrokeProfile p = EnrollN(model, alice, "alice", 20);
  const std::vector<float> anchors = p.templates[0].anchors;
  const CompiledProfile c = model.Compile(p);
  const KeystrokeSample m = mallory.Sample("t", "alice", "m", SamplePhase::kProbe);
  ASSERT_OK_AND_ASSIGN(auto ms, model.Score(c, m, nullptr, "alice"));
  ASSERT_GT(ms.score, model.config().update_max_score);
  ASSERT_OK_AND_ASSIGN(bool updated, model.MaybeUpdate(m, ms, &p));
  EXPECT_FALSE(updated);
  EXPECT_EQ(p.templates[0].adaptive_count(), 0u);

  int folded = 0;
  for (int i = 0; i < 200; ++i) {
    const KeystrokeSample g = alice.Sample("t", "alice", absl::StrCat("g", i), SamplePhase::kProbe);
    ASSERT_OK_AND_ASSIGN(auto gs, model.Score(c, g, nullptr, "alice"));
    ASSERT_OK_AND_ASSIGN(bool ok, model.MaybeUpdate(g, gs, &p));
    folded += ok;
  }
  EXPECT_GT(folded, 20);
  // Capacity: min(kMaxAdaptiveSamples, anchors) = 20; anchors untouched.
  EXPECT_EQ(p.templates[0].adaptive_count(), 20u);
  EXPECT_EQ(p.templates[0].anchors, anchors);
  EXPECT_EQ(p.adaptive_updates, static_cast<uint64_t>(folded));
  // A low score with low confidence is not folded in either.
  KeystrokeScore weak = ms;
  weak.score = 0.0;
  weak.confidence = 0.1;
  ASSERT_OK_AND_ASSIGN(updated, model.MaybeUpdate(m, weak, &p));
  EXPECT_FALSE(updated);
}

TEST(KeystrokeModel, ProfileLimitsOfDistinctTexts) {
  KeystrokeModel model{KeystrokeModelConfig{}};
  KeystrokeProfile p;
  for (std::size_t i = 0; i < kMaxTemplatesPerProfile; ++i) {
    KeystrokeSample s{"t",
                      "u",
                      absl::StrCat("s", i),
                      SamplePhase::kEnroll,
                      {{"a", 0, 10}, {absl::StrCat("k", i), 50, 60}}};
    ASSERT_OK(model.Enroll(s, &p));
  }
  KeystrokeSample extra{"t", "u", "s-extra", SamplePhase::kEnroll, {{"a", 0, 10}, {"z", 50, 60}}};
  EXPECT_THAT(model.Enroll(extra, &p),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr("sample s-extra"), HasSubstr("limit 8"))));
  EXPECT_EQ(p.templates.size(), kMaxTemplatesPerProfile);
}

TEST(KeystrokeModelConfig, RejectsInconsistentSettings) {
  KeystrokeModelConfig c;
  EXPECT_OK(c.Validate());
  c.min_enroll_samples = 2;
  EXPECT_THAT(c.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("min_enroll")));
  c = {};
  c.detector_weights = {0, 0, 0, 0};
  EXPECT_THAT(c.Validate(), StatusIs(absl::StatusCode::kInvalidArgument));
  c = {};
  c.monitor_from = 0.8;
  c.challenge_from = 0.7;
  EXPECT_THAT(c.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bands")));
  c = {};
  c.cohort_nearest = kMaxCohortNearest + 1;
  EXPECT_THAT(c.Validate(), StatusIs(absl::StatusCode::kInvalidArgument));
  c = {};
  c.linear_l2 = 0;
  EXPECT_THAT(c.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("linear_l2 (0)")));
  c = {};
  c.linear_weight = -1;
  EXPECT_THAT(c.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("linear_weight (-1)")));
}

TEST(KeystrokeModel, BandsFollowThresholds) {
  KeystrokeModel model{KeystrokeModelConfig{}};
  EXPECT_EQ(model.BandFor(0.1), Band::kAllow);
  EXPECT_EQ(model.BandFor(0.5), Band::kMonitor);
  EXPECT_EQ(model.BandFor(0.75), Band::kChallenge);
  EXPECT_EQ(model.BandFor(0.95), Band::kDeny);
}

TEST(TemplateFit, InvertSpdInvertsAndRejectsIndefinite) {
  std::vector<double> a = {4, 2, 2, 3};
  ASSERT_TRUE(internal::InvertSpd(&a, 2));
  // inverse of [[4,2],[2,3]] is 1/8 * [[3,-2],[-2,4]]
  EXPECT_NEAR(a[0], 0.375, 1e-12);
  EXPECT_NEAR(a[1], -0.25, 1e-12);
  EXPECT_NEAR(a[3], 0.5, 1e-12);
  std::vector<double> b = {1, 2, 2, 1};
  EXPECT_FALSE(internal::InvertSpd(&b, 2));
}

TEST(TemplateFit, IdenticalEnrollmentVectorsDoNotProduceNonFiniteScores) {
  // Timer rounding can make every enrollment vector identical; spreads are floored.
  KeystrokeModel model{KeystrokeModelConfig{}};
  KeystrokeProfile p;
  for (int i = 0; i < 10; ++i) {
    KeystrokeSample s{"t",
                      "u",
                      absl::StrCat("s", i),
                      SamplePhase::kEnroll,
                      {{"a", 0, 100}, {"b", 200, 300}, {"c", 400, 500}}};
    ASSERT_OK(model.Enroll(s, &p));
  }
  KeystrokeSample probe{
      "t", "u", "p", SamplePhase::kProbe, {{"a", 0, 100}, {"b", 210, 300}, {"c", 400, 520}}};
  ASSERT_OK_AND_ASSIGN(auto s, model.Score(model.Compile(p), probe, nullptr, "u"));
  EXPECT_TRUE(std::isfinite(s.fused));
  EXPECT_GE(s.score, 0.0);
  EXPECT_LE(s.score, 1.0);
}

}  // namespace
}  // namespace shieldx::contauth
