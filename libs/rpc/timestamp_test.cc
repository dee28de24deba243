#include "libs/rpc/timestamp.h"

#include "gtest/gtest.h"

namespace shieldx::rpc {
namespace {

TEST(Timestamp, RoundTripsAtMicrosecondPrecision) {
  const absl::Time t = absl::FromUnixMicros(1'764'400'000'123'456);
  google::protobuf::Timestamp ts;
  ToProto(t, &ts);
  EXPECT_EQ(ts.seconds(), 1'764'400'000);
  EXPECT_EQ(ts.nanos(), 123'456'000);
  EXPECT_EQ(FromProto(ts), t);
  // Nanoseconds below a microsecond are dropped, never rounded up.
  ToProto(t + absl::Nanoseconds(999), &ts);
  EXPECT_EQ(ts.nanos(), 123'456'000);
}

TEST(Timestamp, InstantsBefore1970KeepNanosNonNegative) {
  google::protobuf::Timestamp ts;
  ToProto(absl::FromUnixMicros(-1), &ts);
  EXPECT_EQ(ts.seconds(), -1);
  EXPECT_EQ(ts.nanos(), 999'999'000);
  EXPECT_EQ(FromProto(ts), absl::FromUnixMicros(-1));
  ToProto(absl::UnixEpoch(), &ts);
  EXPECT_EQ(ts.seconds(), 0);
  EXPECT_EQ(ts.nanos(), 0);
}

}  // namespace
}  // namespace shieldx::rpc
