#include "services/contauth/session_state.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::contauth {
namespace {

using ::shieldx::testing::StatusIs;

TEST(SessionState, SequencesAreRememberedInABoundedWindow) {
  SessionState s;
  EXPECT_FALSE(s.SeenSequence(0));
  s.RecordSequence(0);
  EXPECT_FALSE(s.SeenSequence(0));  // 0 means "no sequence": never a duplicate
  s.RecordSequence(5);
  s.RecordSequence(3);
  EXPECT_TRUE(s.SeenSequence(5));
  EXPECT_TRUE(s.SeenSequence(3));
  EXPECT_FALSE(s.SeenSequence(4));
  for (uint64_t q = 10; q < 10 + kSequenceWindow; ++q) s.RecordSequence(q);
  EXPECT_EQ(s.applied_sequences.size(), kSequenceWindow);
  EXPECT_TRUE(s.SeenSequence(4));  // older than the window: treated as applied
  EXPECT_FALSE(s.SeenSequence(10 + kSequenceWindow));
}

TEST(SessionState, AccumulatorWeighsRecentSamplesAndGainsConfidence) {
  ModalityAccumulator a;
  EXPECT_DOUBLE_EQ(a.Score(), 0.5);
  EXPECT_DOUBLE_EQ(a.EffectiveConfidence(), 0);
  a.Add(0.1, 0.8);
  const double one = a.EffectiveConfidence();
  a.Add(0.1, 0.8);
  EXPECT_GT(a.EffectiveConfidence(), one);
  EXPECT_NEAR(a.Score(), 0.1, 1e-9);
  a.Add(0.95, 0.8);
  EXPECT_GT(a.Score(), 0.1);
  EXPECT_LT(a.Score(), 0.95);
}

TEST(SessionState, RoundTripsAndRejectsCorruption) {
  SessionState s;
  s.user_id = "alice";
  s.RecordSequence(7);
  s.modalities[1].Add(0.2, 0.7);
  s.context_reasons.push_back({"NEW_DEVICE", Modality::kContext, "device not seen", 0.35});
  s.has_context = true;
  FixedTextFeatures f;
  f.text_id = 42;
  f.key_count = 3;
  f.dims = 7;
  for (int i = 0; i < 7; ++i) f.values[i] = static_cast<float>(i * 10);
  s.AddPending(f);
  s.has_last_context = true;
  s.last_context.device_id = "d1";
  s.challenge_logit = -3;
  s.verified = true;
  s.last_decision_id = "d-1";
  const std::string bytes = SerializeSessionState(s);
  ASSERT_OK_AND_ASSIGN(SessionState back, DeserializeSessionState(bytes));
  EXPECT_EQ(SerializeSessionState(back), bytes);
  EXPECT_EQ(back.pending[0].values[6], 60.0f);
  EXPECT_TRUE(back.verified);
  EXPECT_THAT(DeserializeSessionState(bytes.substr(0, bytes.size() - 3)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  std::string bad = bytes;
  bad[0] = 'Z';
  EXPECT_THAT(DeserializeSessionState(bad), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SessionState, PendingVectorsAreBounded) {
  SessionState s;
  FixedTextFeatures f;
  f.key_count = 2;
  f.dims = 4;
  for (std::size_t i = 0; i < 3 * kMaxPendingVectors; ++i) {
    f.text_id = i;
    s.AddPending(f);
  }
  EXPECT_EQ(s.pending.size(), kMaxPendingVectors);
  EXPECT_EQ(s.pending.back().text_id, 3 * kMaxPendingVectors - 1);
}

}  // namespace
}  // namespace shieldx::contauth
