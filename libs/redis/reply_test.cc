#include "libs/redis/reply.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/redis/backoff.h"
#include "libs/redis/options.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::redis {
namespace {

using ::shieldx::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(RedisReply, TypedAccessorsReturnValuesAndMismatchesAreFailedPrecondition) {
  EXPECT_TRUE(RedisReply().is_nil());
  EXPECT_EQ(RedisReply::Integer(7).integer(), 7);
  EXPECT_EQ(RedisReply::String(std::string("a\0b", 3)).str(), std::string("a\0b", 3));
  EXPECT_EQ(*RedisReply::Integer(-3).AsInteger(), -3);
  EXPECT_THAT(RedisReply::String("x").AsInteger(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("string (1 bytes)")));
  EXPECT_EQ(*RedisReply::Nil().AsOptionalString(), std::nullopt);
  EXPECT_EQ(**RedisReply::Status("OK").AsOptionalString(), "OK");
  EXPECT_THAT(RedisReply::Array({}).AsOptionalString(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(RedisReply, DescribeNeverContainsStringPayloads) {
  EXPECT_EQ(RedisReply::String("secret-token").Describe(), "string (12 bytes)");
  EXPECT_EQ(RedisReply::Array({RedisReply::Nil(), RedisReply::Integer(1)}).Describe(), "array (2)");
  EXPECT_EQ(RedisReply::Error("ERR x").Describe(), "error ERR x");
}

TEST(RedisReply, EqualityComparesNestedValues) {
  auto a = RedisReply::Array({RedisReply::String("x"), RedisReply::Integer(2)});
  auto b = RedisReply::Array({RedisReply::String("x"), RedisReply::Integer(2)});
  auto c = RedisReply::Array({RedisReply::String("x"), RedisReply::Integer(3)});
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a == c);
  EXPECT_FALSE(RedisReply::String("OK") == RedisReply::Status("OK"));
}

TEST(RedisReplyDeathTest, WrongAccessorIsAProgrammerError) {
  EXPECT_DEATH(RedisReply::String("x").integer(), "integer\\(\\) on a string");
  EXPECT_DEATH(RedisReply::Integer(1).elements(), "elements\\(\\) on a integer");
}

TEST(RedisErrorToStatus, MapsErrorPrefixesToCodes) {
  EXPECT_THAT(RedisErrorToStatus("ctx", "NOSCRIPT No matching script"),
              StatusIs(absl::StatusCode::kNotFound, "ctx: NOSCRIPT No matching script"));
  EXPECT_THAT(RedisErrorToStatus("c", "WRONGTYPE Operation against a key"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(RedisErrorToStatus("c", "LOADING Redis is loading"),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(RedisErrorToStatus("c", "READONLY You can't write"),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(RedisErrorToStatus("c", "OOM command not allowed"),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(RedisErrorToStatus("c", "NOAUTH Authentication required."),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(RedisErrorToStatus("c", "ERR wrong number of arguments"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // A prefix must be a whole word.
  EXPECT_THAT(RedisErrorToStatus("c", "BUSYKEY Target key name already exists."),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(Backoff, DelaysDoubleUpToTheMaxWithJitterInTheUpperHalf) {
  Backoff b({.initial = absl::Milliseconds(100), .max = absl::Milliseconds(800), .seed = 42});
  const absl::Duration nominal[] = {absl::Milliseconds(100), absl::Milliseconds(200),
                                    absl::Milliseconds(400), absl::Milliseconds(800),
                                    absl::Milliseconds(800), absl::Milliseconds(800)};
  for (absl::Duration n : nominal) {
    absl::Duration d = b.NextDelay();
    EXPECT_GE(d, n / 2);
    EXPECT_LE(d, n);
  }
  EXPECT_EQ(b.failures(), 6);
  b.Reset();
  EXPECT_LE(b.NextDelay(), absl::Milliseconds(100));
}

TEST(Backoff, JitterSpreadsDelaysOfIdenticalClients) {
  Backoff a({.initial = absl::Seconds(1), .max = absl::Seconds(1), .seed = 1});
  Backoff b({.initial = absl::Seconds(1), .max = absl::Seconds(1), .seed = 2});
  int differing = 0;
  for (int i = 0; i < 10; ++i) differing += a.NextDelay() != b.NextDelay();
  EXPECT_GT(differing, 5);
}

TEST(RedisOptions, ValidateRejectsOutOfRangeFieldsNamingThem) {
  EXPECT_OK(Validate(RedisOptions()));
  EXPECT_THAT(Validate({.port = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("port 0 out of range")));
  EXPECT_THAT(Validate({.host = ""}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Validate({.max_connections = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_connections 0")));
  EXPECT_THAT(Validate({.max_connections = kMaxPoolConnections + 1}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Validate({.command_timeout = absl::ZeroDuration()}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("command_timeout")));
  EXPECT_THAT(Validate({.backoff = {.initial = absl::Seconds(2), .max = absl::Seconds(1)}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("backoff.max")));
  // A password never appears in validation messages.
  EXPECT_THAT(Validate({.port = -1, .password = "hunter2"}),
              StatusIs(absl::StatusCode::kInvalidArgument, Not(HasSubstr("hunter2"))));
}

}  // namespace
}  // namespace shieldx::redis
