#include "services/contauth/user_model.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"
#include "services/contauth/contauth_test_util.h"
#include "services/contauth/model/keystroke_model.h"

namespace shieldx::contauth {
namespace {

using ::shieldx::testing::StatusIs;
using ::testing::HasSubstr;

UserModel Sample() {
  UserModel m;
  KeystrokeModel model({});
  testing::Typist t(3);
  for (int i = 0; i < 12; ++i) {
    KeystrokeInput in = t.Sample(absl::StrCat("s", i));
    EXPECT_OK(model.Enroll(in.sample, &m.keystroke));
  }
  FixedTextFeatures f;
  EXPECT_TRUE(ExtractFixedText(t.Sample("x").sample, &f));
  m.SetLabel(f.text_id, "login.password");
  LearnMotion(ExtractPointer(testing::PointerBatch(1, 5, 1, 1)), &m.pointer);
  ContextObservation o;
  o.at = absl::FromUnixSeconds(1'700'000'000);
  o.device_id = "dev-1";
  o.network = "203.0.113.0/24";
  o.country = "DE";
  o.agent = "Firefox/Linux";
  LearnContext(o, &m.context);
  m.created_at = absl::FromUnixSeconds(1'600'000'000);
  m.updated_at = absl::FromUnixSeconds(1'700'000'000);
  m.modality_updated_at[1] = m.updated_at;
  return m;
}

TEST(UserModel, SerialisationRoundTrips) {
  const UserModel m = Sample();
  ASSERT_OK_AND_ASSIGN(UserModel back, DeserializeUserModel(SerializeUserModel(m)));
  EXPECT_EQ(SerializeUserModel(back), SerializeUserModel(m));
  EXPECT_EQ(back.LabelOf(m.text_labels[0].text_id), "login.password");
  EXPECT_EQ(back.context.devices[0].value, "dev-1");
  EXPECT_EQ(back.keystroke.templates[0].anchor_count(), 12u);
}

TEST(UserModel, TruncatedTrailingAndForeignVersionsAreRejected) {
  const std::string bytes = SerializeUserModel(Sample());
  for (std::size_t cut : {std::size_t{3}, std::size_t{20}, bytes.size() / 2, bytes.size() - 1}) {
    EXPECT_FALSE(DeserializeUserModel(bytes.substr(0, cut)).ok()) << "cut at " << cut;
  }
  EXPECT_THAT(DeserializeUserModel(bytes + "x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1 trailing bytes")));
  std::string v2 = bytes;
  v2[4] = 2;
  EXPECT_THAT(DeserializeUserModel(v2),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("format version 2")));
}

TEST(UserModel, ExportListsEveryStoredVectorWithNames) {
  const UserModel m = Sample();
  const std::vector<FeatureVector> v = ExportFeatureVectors(m);
  // 12 fixed-text vectors, free-text statistics, pointer statistics, context.
  ASSERT_EQ(v.size(), 12u + 3u);
  EXPECT_EQ(v[0].modality, Modality::kKeystrokeFixed);
  EXPECT_EQ(v[0].text_id, "login.password");
  EXPECT_EQ(v[0].names.size(), v[0].values.size());
  EXPECT_EQ(v[0].names[0], "hold_ms[0]");
  EXPECT_EQ(v[12].modality, Modality::kKeystrokeFree);
  EXPECT_EQ(v[13].modality, Modality::kPointer);
  EXPECT_EQ(v[14].modality, Modality::kContext);
  EXPECT_THAT(v[14].names, ::testing::Contains("client_software:Firefox/Linux"));
}

TEST(UserModel, KeystrokeEnrolledFollowsTheThreshold) {
  const UserModel m = Sample();
  EXPECT_TRUE(KeystrokeEnrolled(m, 12));
  EXPECT_FALSE(KeystrokeEnrolled(m, 13));
}

}  // namespace
}  // namespace shieldx::contauth
