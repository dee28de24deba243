#include "services/contauth/types.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::contauth {
namespace {

using ::shieldx::testing::StatusIs;
using ::testing::HasSubstr;

TEST(Policy, DefaultsAreValidAndBandsMapToActions) {
  Policy p;
  ASSERT_OK(p.Validate());
  EXPECT_EQ(p.ActionFor(0.1), Action::kAllow);
  EXPECT_EQ(p.ActionFor(0.5), Action::kMonitor);
  EXPECT_EQ(p.ActionFor(0.75), Action::kChallenge);
  EXPECT_EQ(p.ActionFor(0.9), Action::kDeny);
}

TEST(Policy, RejectsBandsOutOfOrderNamingTheNumbers) {
  Policy p;
  p.challenge_at = 0.4;
  EXPECT_THAT(p.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("0.4")));
  p = Policy{};
  p.deny_at = 1.5;
  EXPECT_THAT(p.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("[0, 1]")));
}

TEST(Policy, RejectsTtlRetentionAndEnrollmentOutsideLimits) {
  Policy p;
  p.decision_ttl_ms = 10;
  EXPECT_THAT(p.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("decision_ttl_ms 10")));
  p = Policy{};
  p.decision_retention_days = 0;
  EXPECT_THAT(p.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("retention")));
  p = Policy{};
  p.min_enroll_samples = 2;
  EXPECT_THAT(p.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("min_enroll_samples 2")));
}

TEST(ValidateId, AcceptsEmailLikeIdsAndRejectsSpacesAndOversize) {
  EXPECT_OK(ValidateId("user_id", "alice+test@example.com"));
  EXPECT_THAT(ValidateId("user_id", ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("user_id: required")));
  EXPECT_THAT(ValidateId("session_id", "a b"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("session_id: byte 1")));
  EXPECT_THAT(ValidateId("tenant_id", std::string(129, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("129 bytes (limit 128)")));
}

}  // namespace
}  // namespace shieldx::contauth
