#include "libs/config/values.h"

#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::config {
namespace {

using ::shieldx::testing::IsOk;
using ::shieldx::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ParseDuration, ReadsUnitsAndCompounds) {
  EXPECT_EQ(*ParseDuration("250ms"), absl::Milliseconds(250));
  EXPECT_EQ(*ParseDuration("5s"), absl::Seconds(5));
  EXPECT_EQ(*ParseDuration("2m"), absl::Minutes(2));
  EXPECT_EQ(*ParseDuration("1h30m"), absl::Minutes(90));
  EXPECT_EQ(*ParseDuration("1.5s"), absl::Milliseconds(1500));
  EXPECT_EQ(*ParseDuration(" 10us "), absl::Microseconds(10));
  EXPECT_EQ(*ParseDuration("0"), absl::ZeroDuration());
  EXPECT_EQ(*ParseDuration("-5s"), absl::Seconds(-5));
}

TEST(ParseDuration, RejectsMissingUnitInfinityAndJunk) {
  for (const char* bad : {"", "5", "abc", "5 s", "inf", "-inf", "5sec", "s", "1d", "5s!"}) {
    EXPECT_THAT(ParseDuration(bad),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invalid duration")))
        << bad;
  }
}

TEST(ParseDuration, ErrorNamesTextAndFormatOnOneLine) {
  absl::Status status = ParseDuration("ab\ncd").status();
  EXPECT_THAT(std::string(status.message()), HasSubstr("\"ab\\ncd\""));
  EXPECT_THAT(std::string(status.message()), HasSubstr("250ms, 5s, 2m"));
  EXPECT_EQ(std::string(status.message()).find('\n'), std::string::npos);
}

TEST(DurationToString, RoundTripsThroughParse) {
  for (absl::Duration d : {absl::Milliseconds(250), absl::Minutes(2), absl::Minutes(90),
                           absl::ZeroDuration(), absl::Nanoseconds(1)}) {
    EXPECT_EQ(*ParseDuration(DurationToString(d)), d) << DurationToString(d);
  }
  EXPECT_EQ(DurationToString(absl::Milliseconds(250)), "250ms");
  EXPECT_EQ(DurationToString(absl::Minutes(2)), "2m");
}

TEST(ParseBool, AcceptsCommonSpellingsCaseInsensitively) {
  for (const char* yes : {"true", "TRUE", "1", "yes", "On", " true "}) EXPECT_TRUE(*ParseBool(yes));
  for (const char* no : {"false", "False", "0", "no", "OFF"}) EXPECT_FALSE(*ParseBool(no));
  for (const char* bad : {"", "2", "tru", "y", "enabled"}) {
    EXPECT_THAT(ParseBool(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(ParseInt64, AcceptsTheWholeRangeAndRejectsOverflowAndJunk) {
  EXPECT_EQ(*ParseInt64("9223372036854775807"), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(*ParseInt64("-9223372036854775808"), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(*ParseInt64(" 42 "), 42);
  for (const char* bad : {"", "9223372036854775808", "1.5", "0x10", "1_000", "12a", "abc"}) {
    EXPECT_THAT(ParseInt64(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(ParseDouble, AcceptsFiniteNumbersOnly) {
  EXPECT_DOUBLE_EQ(*ParseDouble("0.25"), 0.25);
  EXPECT_DOUBLE_EQ(*ParseDouble("1e-3"), 0.001);
  EXPECT_DOUBLE_EQ(*ParseDouble("-2"), -2.0);
  for (const char* bad : {"", "nan", "inf", "-inf", "1e999", "1,5", "abc"}) {
    EXPECT_THAT(ParseDouble(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(FormatDouble, IsShortestRoundTrip) {
  EXPECT_EQ(FormatDouble(0.1), "0.1");
  EXPECT_EQ(FormatDouble(0.5), "0.5");
  EXPECT_EQ(FormatDouble(3), "3");
  EXPECT_EQ(*ParseDouble(FormatDouble(1.0 / 3)), 1.0 / 3);
}

TEST(ParseList, SplitsAndTrimsItems) {
  EXPECT_THAT(*ParseList("a, b ,c"), ::testing::ElementsAre("a", "b", "c"));
  EXPECT_THAT(*ParseList(""), ::testing::IsEmpty());
  EXPECT_THAT(*ParseList("   "), ::testing::IsEmpty());
  EXPECT_THAT(*ParseList("one"), ::testing::ElementsAre("one"));
}

TEST(ParseList, RejectsEmptyItems) {
  for (const char* bad : {"a,,b", "a,", ",a", " , "}) {
    EXPECT_THAT(ParseList(bad),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty item")))
        << bad;
  }
}

TEST(ParseList, RejectsMoreThanTheItemLimit) {
  std::string at_limit = "x";
  for (std::size_t i = 1; i < kMaxListItems; ++i) at_limit += ",x";
  EXPECT_THAT(ParseList(at_limit), IsOk());
  EXPECT_THAT(ParseList(at_limit + ",x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("more than 1024 items")));
}

TEST(FormatList, JoinsWithCommas) {
  EXPECT_EQ(FormatList({"a", "b"}), "a,b");
  EXPECT_EQ(FormatList({}), "");
}

}  // namespace
}  // namespace shieldx::config
