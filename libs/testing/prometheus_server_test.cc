#include "libs/testing/prometheus_server.h"

#include <string>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"
#include "nlohmann/json.hpp"

namespace shieldx::testing {
namespace {

using ::testing::HasSubstr;

TEST(PrometheusServer, StartsReadyAndAnswersUpForItsScrapeTarget) {
  ASSERT_OK_AND_ASSIGN(int port, PickFreePort());
  // The only target is a port nobody listens on.
  ASSERT_OK_AND_ASSIGN(auto prom, PrometheusServer::Start({"127.0.0.1:" + std::to_string(port)}));
  ASSERT_OK_AND_ASSIGN(HttpResponse ready, HttpGet(prom->url() + "/-/ready", absl::Seconds(2)));
  EXPECT_EQ(ready.status, 200);

  // A down target reports up == 0 with the configured job label.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  nlohmann::json result;
  while (absl::Now() < deadline) {
    ASSERT_OK_AND_ASSIGN(std::string body, prom->Query("up"));
    nlohmann::json j = nlohmann::json::parse(body);
    ASSERT_EQ(j["status"], "success");
    result = j["data"]["result"];
    if (!result.empty()) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_EQ(result.size(), 1u) << result.dump();
  EXPECT_EQ(result[0]["metric"]["job"], "shieldx-test");
  EXPECT_EQ(result[0]["metric"]["instance"], "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(result[0]["value"][1], "0");
}

TEST(PrometheusServer, ScrapingALiveTargetReportsUpOne) {
  // Prometheus serves its own /metrics; point a second instance at the first one.
  ASSERT_OK_AND_ASSIGN(auto target, PrometheusServer::Start({}));
  ASSERT_OK_AND_ASSIGN(auto prom,
                       PrometheusServer::Start({"127.0.0.1:" + std::to_string(target->port())},
                                               {.job_name = "shieldx-live"}));
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  std::string value;
  while (absl::Now() < deadline && value != "1") {
    ASSERT_OK_AND_ASSIGN(std::string body, prom->Query("up{job=\"shieldx-live\"}"));
    nlohmann::json result = nlohmann::json::parse(body)["data"]["result"];
    if (!result.empty()) value = result[0]["value"][1];
    if (value != "1") absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(value, "1");
}

TEST(PrometheusServer, BadPromQlIsInvalidArgumentWithPrometheusMessage) {
  ASSERT_OK_AND_ASSIGN(auto prom, PrometheusServer::Start({}));
  EXPECT_THAT(prom->Query("up{"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad_data")));
  prom->Stop();
  EXPECT_THAT(prom->Query("up"), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace shieldx::testing
