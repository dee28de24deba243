#include "services/contauth/model/keystroke_profile.h"

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"
#include "services/contauth/model/keystroke_model.h"
#include "services/contauth/model/test_util.h"

namespace shieldx::contauth {
namespace {

using ::shieldx::testing::StatusIs;
using ::testing::HasSubstr;

KeystrokeProfile EnrolledProfile() {
  KeystrokeModel model{KeystrokeModelConfig{}};
  testing::SyntheticTypist alice("password", 3);
  KeystrokeProfile p;
  for (int i = 0; i < 12; ++i) {
    EXPECT_OK(
        model.Enroll(alice.Sample("t", "alice", absl::StrCat("e", i), SamplePhase::kEnroll), &p));
  }
  // A second text and one adaptive vector, so every field is non-trivial.
  EXPECT_OK(model.Enroll(alice.Sample("t", "alice", "x", SamplePhase::kEnroll), &p));
  testing::SyntheticTypist other("pin1", 4);
  EXPECT_OK(model.Enroll(other.Sample("t", "alice", "pin", SamplePhase::kEnroll), &p));
  p.templates[0].adaptive = p.templates[0].anchors;
  p.templates[0].adaptive.resize(p.templates[0].dims * 2);
  p.templates[0].adaptive_next = 1;
  p.adaptive_updates = 2;
  return p;
}

void ExpectSame(const KeystrokeProfile& a, const KeystrokeProfile& b) {
  EXPECT_EQ(a.enrolled_samples, b.enrolled_samples);
  EXPECT_EQ(a.adaptive_updates, b.adaptive_updates);
  ASSERT_EQ(a.templates.size(), b.templates.size());
  for (std::size_t i = 0; i < a.templates.size(); ++i) {
    EXPECT_EQ(a.templates[i].text_id, b.templates[i].text_id);
    EXPECT_EQ(a.templates[i].key_count, b.templates[i].key_count);
    EXPECT_EQ(a.templates[i].dims, b.templates[i].dims);
    EXPECT_EQ(a.templates[i].anchors, b.templates[i].anchors);
    EXPECT_EQ(a.templates[i].adaptive, b.templates[i].adaptive);
    EXPECT_EQ(a.templates[i].adaptive_next, b.templates[i].adaptive_next);
  }
  ASSERT_EQ(a.holds.size(), b.holds.size());
  ASSERT_EQ(a.digraphs.size(), b.digraphs.size());
  for (std::size_t i = 0; i < a.digraphs.size(); ++i) {
    EXPECT_EQ(a.digraphs[i].id, b.digraphs[i].id);
    EXPECT_EQ(a.digraphs[i].count, b.digraphs[i].count);
    EXPECT_EQ(a.digraphs[i].mean_ms, b.digraphs[i].mean_ms);
    EXPECT_EQ(a.digraphs[i].m2, b.digraphs[i].m2);
  }
}

TEST(ProfileSerialization, RoundTripsEveryField) {
  const KeystrokeProfile p = EnrolledProfile();
  ASSERT_EQ(p.templates.size(), 2u);
  const std::string bytes = SerializeProfile(p);
  ASSERT_OK_AND_ASSIGN(KeystrokeProfile back, DeserializeProfile(bytes));
  ExpectSame(p, back);
  EXPECT_EQ(SerializeProfile(back), bytes);
}

TEST(ProfileSerialization, RejectsOtherVersions) {
  std::string bytes = SerializeProfile(EnrolledProfile());
  bytes[4] = static_cast<char>(kProfileFormatVersion + 1);
  EXPECT_THAT(DeserializeProfile(bytes),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(absl::StrCat("format version ", kProfileFormatVersion + 1))));
}

TEST(ProfileSerialization, RejectsBadMagicTruncationAndTrailingBytes) {
  const std::string bytes = SerializeProfile(EnrolledProfile());
  EXPECT_THAT(DeserializeProfile("nope"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("magic")));
  std::string wrong = bytes;
  wrong[0] = 'X';
  EXPECT_THAT(DeserializeProfile(wrong),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("magic")));
  for (std::size_t cut : {std::size_t{9}, bytes.size() / 2, bytes.size() - 1}) {
    EXPECT_THAT(DeserializeProfile(bytes.substr(0, cut)),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("truncated")))
        << "cut at " << cut;
  }
  EXPECT_THAT(DeserializeProfile(bytes + "x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("trailing")));
}

TEST(ProfileSerialization, RejectsOutOfLimitCountsAndNonFiniteValues) {
  KeystrokeProfile p = EnrolledProfile();
  p.templates.resize(1);
  p.templates[0].key_count = kMaxFixedTextKeys + 1;
  EXPECT_THAT(DeserializeProfile(SerializeProfile(p)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("keys")));
  p = EnrolledProfile();
  p.digraphs[0].mean_ms = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THAT(DeserializeProfile(SerializeProfile(p)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("non-finite")));
  p = EnrolledProfile();
  std::swap(p.holds[0], p.holds[1]);
  EXPECT_THAT(DeserializeProfile(SerializeProfile(p)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unsorted")));
  p = EnrolledProfile();
  p.templates[1].text_id = p.templates[0].text_id;
  EXPECT_THAT(DeserializeProfile(SerializeProfile(p)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("share a text id")));
}

TEST(ProfileSerialization, DeserializedProfileScoresLikeTheOriginal) {
  KeystrokeModel model{KeystrokeModelConfig{}};
  const KeystrokeProfile p = EnrolledProfile();
  ASSERT_OK_AND_ASSIGN(KeystrokeProfile back, DeserializeProfile(SerializeProfile(p)));
  testing::SyntheticTypist alice("password", 3);
  const KeystrokeSample probe = alice.Sample("t", "alice", "p", SamplePhase::kProbe);
  ASSERT_OK_AND_ASSIGN(auto a, model.Score(model.Compile(p), probe, nullptr, "alice"));
  ASSERT_OK_AND_ASSIGN(auto b, model.Score(model.Compile(back), probe, nullptr, "alice"));
  EXPECT_DOUBLE_EQ(a.score, b.score);
}

}  // namespace
}  // namespace shieldx::contauth
