#include "services/contauth/model/features.h"

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"
#include "services/contauth/model/keystroke_sample.h"
#include "services/contauth/model/test_util.h"

namespace shieldx::contauth {
namespace {

using ::shieldx::testing::IsOk;
using ::shieldx::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::MakeSample;

TEST(Features, FixedTextVectorHoldsDownDownAndUpDownInOrder) {
  // "t" held 91.5 ms, "i" pressed at 182 (rollover-free), "e" pressed before "i" is released.
  const KeystrokeSample s =
      MakeSample("s1", {{"t", 0.0, 91.5}, {"i", 182.0, 260.0}, {"e", 250.0, 300.0}});
  FixedTextFeatures f;
  ASSERT_TRUE(ExtractFixedText(s, &f));
  EXPECT_EQ(f.key_count, 3u);
  ASSERT_EQ(f.dims, 7u);
  const float expected[] = {91.5f,  78.0f, 50.0f,  // holds
                            182.0f, 68.0f,         // down-down
                            90.5f,  -10.0f};       // up-down (negative: rollover)
  for (std::size_t j = 0; j < 7; ++j) EXPECT_FLOAT_EQ(f.values[j], expected[j]) << "dim " << j;
}

TEST(Features, TextIdDependsOnKeySequenceNotTimings) {
  const KeystrokeSample a = MakeSample("a", {{"t", 0, 90}, {"i", 180, 260}});
  const KeystrokeSample b = MakeSample("b", {{"t", 0, 50}, {"i", 300, 400}});
  const KeystrokeSample c = MakeSample("c", {{"i", 0, 90}, {"t", 180, 260}});
  const KeystrokeSample d = MakeSample("d", {{"t", 0, 90}, {"i", 180, 260}, {"e", 300, 350}});
  EXPECT_EQ(TextId(a), TextId(b));
  EXPECT_NE(TextId(a), TextId(c));
  EXPECT_NE(TextId(a), TextId(d));
}

TEST(Features, FixedTextNeedsTwoToMaxKeys) {
  FixedTextFeatures f;
  EXPECT_FALSE(ExtractFixedText(MakeSample("one", {{"a", 0, 10}}), &f));
  KeystrokeSample longest = MakeSample("long", {});
  for (std::size_t i = 0; i < kMaxFixedTextKeys; ++i) {
    longest.events.push_back({"k", i * 100.0, i * 100.0 + 50});
  }
  EXPECT_TRUE(ExtractFixedText(longest, &f));
  EXPECT_EQ(f.dims, kMaxFixedTextDims);
  longest.events.push_back({"k", 1e5, 1e5 + 50});
  EXPECT_FALSE(ExtractFixedText(longest, &f));
}

TEST(Features, FreeTextTagsHoldsAndDigraphsByKeys) {
  const KeystrokeSample s = MakeSample("s", {{"a", 0, 80}, {"b", 200, 260}, {"a", 500, 590}});
  std::vector<TimingObservation> holds, digraphs;
  ExtractFreeText(s, &holds, &digraphs);
  ASSERT_EQ(holds.size(), 3u);
  ASSERT_EQ(digraphs.size(), 2u);
  EXPECT_EQ(holds[0].id, KeyId("a"));
  EXPECT_EQ(holds[2].id, KeyId("a"));
  EXPECT_FLOAT_EQ(holds[2].value_ms, 90);
  EXPECT_EQ(digraphs[0].id, DigraphId(KeyId("a"), KeyId("b")));
  EXPECT_NE(digraphs[0].id, digraphs[1].id);  // "ab" vs "ba"
  EXPECT_FLOAT_EQ(digraphs[1].value_ms, 300);
}

TEST(ValidateSample, AcceptsRolloverAndZeroHold) {
  EXPECT_THAT(ValidateSample(MakeSample("ok", {{"a", 0, 0}, {"b", -5, 100}, {"c", 50, 60}})),
              IsOk());
}

TEST(ValidateSample, RejectsNegativeHoldNamingTheSample) {
  EXPECT_THAT(ValidateSample(MakeSample("u01-0003", {{"a", 0, 80}, {"e", 95, 80}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("sample u01-0003"), HasSubstr("event 1"),
                             HasSubstr("up_ms 80 < down_ms 95"))));
}

TEST(ValidateSample, RejectsNonFiniteTimes) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_THAT(ValidateSample(MakeSample("n1", {{"a", nan, 80}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("sample n1"), HasSubstr("non-finite"))));
  EXPECT_THAT(ValidateSample(MakeSample("n2", {{"a", 0, inf}})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sample n2")));
}

TEST(ValidateSample, RejectsAbsurdDurations) {
  EXPECT_THAT(ValidateSample(MakeSample("hold", {{"a", 0, kMaxHoldMs + 1}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("sample hold"), HasSubstr("exceeds the limit"))));
  EXPECT_THAT(ValidateSample(MakeSample(
                  "span", {{"a", 0, 10}, {"b", kMaxSampleSpanMs, kMaxSampleSpanMs + 5}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("sample span"), HasSubstr("spans"))));
}

TEST(ValidateSample, RejectsEmptyOversizedAndBadKeys) {
  EXPECT_THAT(ValidateSample(MakeSample("empty", {})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sample empty: no events")));
  EXPECT_THAT(ValidateSample(MakeSample("", {{"a", 0, 1}})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty sample_id")));
  EXPECT_THAT(ValidateSample(MakeSample("key", {{"", 0, 1}})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("key name")));
  EXPECT_THAT(ValidateSample(MakeSample("key2", {{std::string(kMaxKeyNameBytes + 1, 'k'), 0, 1}})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("key name")));
  KeystrokeSample big = MakeSample("big", {});
  big.events.assign(kMaxEventsPerSample + 1, KeyEvent{"a", 0, 1});
  EXPECT_THAT(ValidateSample(big),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sample big: 4097 events")));
}

}  // namespace
}  // namespace shieldx::contauth
