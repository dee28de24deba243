#include "services/contauth/telemetry.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"
#include "services/contauth/contauth_test_util.h"

namespace shieldx::contauth {
namespace {

using ::shieldx::testing::StatusIs;
using ::testing::HasSubstr;

TelemetryBatch Base() {
  TelemetryBatch b;
  b.tenant_id = "acme";
  b.session_id = "s1";
  b.user_id = "alice";
  return b;
}

TEST(ValidateBatch, AcceptsAnEmptyBatchAndATypicalOne) {
  EXPECT_OK(ValidateBatch(Base()));
  TelemetryBatch b = Base();
  testing::Typist t(1);
  b.keystrokes.push_back(t.Sample("k1"));
  b.pointer = testing::PointerBatch(1, 3, 1.0, 1.0);
  b.has_context = true;
  b.context.ip = "2001:db8::1";
  EXPECT_OK(ValidateBatch(b));
}

TEST(ValidateBatch, ImpossibleKeyTimingNamesTheSampleAndEvent) {
  TelemetryBatch b = Base();
  testing::Typist t(1);
  b.keystrokes.push_back(t.Sample("k1"));
  b.keystrokes.push_back(t.Sample("k2"));
  b.keystrokes[1].sample.events[3].up_ms = b.keystrokes[1].sample.events[3].down_ms - 20;
  EXPECT_THAT(ValidateBatch(b), StatusIs(absl::StatusCode::kInvalidArgument,
                                         AllOf(HasSubstr("keystroke_samples[1]"),
                                               HasSubstr("sample k2"), HasSubstr("event 3"))));
}

TEST(ValidateBatch, OversizedBatchesAreRejectedWithTheLimit) {
  TelemetryBatch b = Base();
  testing::Typist t(1);
  for (int i = 0; i < 65; ++i) b.keystrokes.push_back(t.Sample(absl::StrCat("k", i)));
  EXPECT_THAT(ValidateBatch(b), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("keystroke_samples: 65 samples (limit 64)")));
  b = Base();
  b.pointer.assign(10001, PointerEvent{PointerKind::kMove, 1, 1, 1, 0, 0});
  EXPECT_THAT(ValidateBatch(b), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("pointer_events: 10001 events (limit 10000)")));
  b = Base();
  b.touch.assign(10001, TouchEvent{TouchKind::kMove, 1, 0, 1, 1, 0.5, 3});
  EXPECT_THAT(ValidateBatch(b), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("touch_events: 10001 events (limit 10000)")));
}

TEST(ValidateBatch, PointerEventsOutOfOrderOrNonFiniteAreRejected) {
  TelemetryBatch b = Base();
  b.pointer = {{PointerKind::kMove, 40, 0, 0, 0, 0}, {PointerKind::kMove, 12.5, 1, 1, 0, 0}};
  EXPECT_THAT(ValidateBatch(b), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("pointer_events[1]: t_ms 12.5 < previous 40")));
  b.pointer = {{PointerKind::kMove, 1, std::nan(""), 0, 0, 0}};
  EXPECT_THAT(ValidateBatch(b), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("pointer_events[0]: position")));
  b.pointer = {{PointerKind::kUnspecified, 1, 0, 0, 0, 0}};
  EXPECT_THAT(ValidateBatch(b),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("kind is unspecified")));
}

TEST(ValidateBatch, TouchPressureAndContextAndDeviceAreChecked) {
  TelemetryBatch b = Base();
  b.touch = {{TouchKind::kStart, 1, 0, 1, 1, 1.5, 3}};
  EXPECT_THAT(ValidateBatch(b), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("touch_events[0]: pressure 1.5")));
  b = Base();
  b.has_context = true;
  b.context.ip = "300.1.1.1";
  EXPECT_THAT(ValidateBatch(b),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("context.ip")));
  b = Base();
  b.has_device = true;
  EXPECT_THAT(ValidateBatch(b), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("device.device_id: required")));
  b.device.device_id = "d1";
  b.device.screen_width = 1'000'000;
  EXPECT_THAT(ValidateBatch(b), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("screen")));
}

TEST(ValidateBatch, IdsAreRequiredAndFixedTextNeedsATextId) {
  TelemetryBatch b = Base();
  b.user_id = "";
  EXPECT_THAT(ValidateBatch(b),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("user_id: required")));
  b = Base();
  testing::Typist t(1);
  b.keystrokes.push_back(t.Sample("k1"));
  b.keystrokes[0].kind = TextKind::kFixed;
  b.keystrokes[0].text_id = "";
  EXPECT_THAT(ValidateBatch(b), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("keystroke_samples[0].text_id")));
}

TEST(ValidateProbeSamples, EnrollPhaseIsRefused) {
  testing::Typist t(1);
  std::vector<KeystrokeInput> probes = {t.Sample("p1", PhaseRequest::kEnroll)};
  EXPECT_THAT(ValidateProbeSamples(probes), StatusIs(absl::StatusCode::kInvalidArgument,
                                                     HasSubstr("probe_samples[0]: phase ENROLL")));
}

}  // namespace
}  // namespace shieldx::contauth
