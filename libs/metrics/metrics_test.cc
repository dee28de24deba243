#include "libs/metrics/metrics.h"

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shieldx::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsRegistry, ExportsTheRunbookFamiliesVerbatim) {
  MetricsRegistry m("credits", "1.2.3");
  m.ObserveHttp("GET", "/readyz", 200, 0.0004);
  m.ObserveHttp("GET", "/readyz", 503, 0.0002);
  m.ObserveGrpcStarted("shieldx.credits.v1.CreditsService", "Consume", "unary");
  m.ObserveGrpcHandled("shieldx.credits.v1.CreditsService", "Consume", "unary", "OK", 0.001);
  const std::string text = m.Serialize();
  EXPECT_THAT(text, HasSubstr("# TYPE http_requests_total counter"));
  EXPECT_THAT(text, HasSubstr("http_requests_total{method=\"GET\",route=\"/"
                              "readyz\",service=\"credits\",status=\"200\"} 1"));
  EXPECT_THAT(text, HasSubstr("http_requests_total{method=\"GET\",route=\"/"
                              "readyz\",service=\"credits\",status=\"503\"} 1"));
  EXPECT_THAT(text, HasSubstr("# TYPE http_request_duration_seconds histogram"));
  EXPECT_THAT(text, HasSubstr("http_request_duration_seconds_bucket{method=\"GET\","
                              "route=\"/readyz\",service=\"credits\",le=\"0.0005\"} 2"));
  EXPECT_THAT(text, HasSubstr("http_request_duration_seconds_count{method=\"GET\","
                              "route=\"/readyz\",service=\"credits\"} 2"));
  EXPECT_THAT(text,
              HasSubstr("grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Consume\""));
  EXPECT_THAT(text, HasSubstr("grpc_server_started_total{grpc_method=\"Consume\""));
  EXPECT_THAT(text, HasSubstr("grpc_server_handling_seconds_bucket"));
  EXPECT_THAT(text, HasSubstr("shieldx_build_info{service=\"credits\",version=\"1.2.3\"} 1"));
}

TEST(MetricsRegistry, DurationsLandInTheRightBucket) {
  MetricsRegistry m("x");
  m.ObserveHttp("POST", "/v1/a", 200, 0.3);  // above 0.25, at most 0.5
  const std::string text = m.Serialize();
  EXPECT_THAT(text, HasSubstr("le=\"0.25\"} 0"));
  EXPECT_THAT(text, HasSubstr("le=\"0.5\"} 1"));
}

TEST(MetricsRegistry, ConcurrentObservationsAreAllCounted) {
  MetricsRegistry m("x");
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&m, t] {
      for (int i = 0; i < 1000; ++i) m.ObserveHttp("GET", t % 2 ? "/a" : "/b", 200, 0.001);
    });
  }
  for (auto& th : threads) th.join();
  const std::string text = m.Serialize();
  EXPECT_THAT(text, HasSubstr("route=\"/a\",service=\"x\",status=\"200\"} 4000"));
  EXPECT_THAT(text, HasSubstr("route=\"/b\",service=\"x\",status=\"200\"} 4000"));
}

TEST(MetricsRegistry, NoSeriesBeforeTheFirstObservation) {
  MetricsRegistry m("x");
  EXPECT_THAT(m.Serialize(), Not(HasSubstr("http_requests_total{")));
}

}  // namespace
}  // namespace shieldx::metrics
