#include "libs/testing/s3_server.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/prometheus_server.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::testing {
namespace {

using ::testing::HasSubstr;

TEST(S3Server, StartsWithConfiguredBucketsAndStopsAndStartsAgain) {
  ASSERT_OK_AND_ASSIGN(auto s3,
                       S3Server::Start({.source_root = SHIELDX_SOURCE_ROOT, .buckets = {"b1"}}));
  EXPECT_EQ(s3->endpoint(), "http://127.0.0.1:" + std::to_string(s3->port()));
  // An unsigned request is enough to see the server and its bucket list.
  ASSERT_OK_AND_ASSIGN(HttpResponse r, HttpGet(s3->endpoint() + "/", absl::Seconds(5)));
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("<Name>b1</Name>"));

  s3->Stop();
  EXPECT_THAT(HttpGet(s3->endpoint() + "/", absl::Seconds(1)),
              StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK(s3->StartAgain());
  ASSERT_OK_AND_ASSIGN(r, HttpGet(s3->endpoint() + "/", absl::Seconds(5)));
  EXPECT_THAT(r.body, HasSubstr("<Name>b1</Name>"));
}

TEST(S3Server, MissingInstallationIsNotFoundNamingThePath) {
  EXPECT_THAT(S3Server::Start({.source_root = "/nonexistent-root"}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent-root/tools")));
  EXPECT_THAT(S3Server::Start({}), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace shieldx::testing
