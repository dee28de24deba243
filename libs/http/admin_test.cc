#include "libs/http/admin.h"

#include <atomic>
#include <string>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/http/client.h"
#include "libs/metrics/metrics.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::http {
namespace {

using ::testing::HasSubstr;

class AdminServerTest : public ::testing::Test {
 protected:
  void Start(std::vector<ReadinessProbe> probes, AdminServerOptions options = {}) {
    options.probe_cache_ttl = ttl_;
    admin_ = std::make_unique<AdminServer>(options, &metrics_, std::move(probes));
    ASSERT_OK(admin_->Start());
  }
  ClientResponse Get(const std::string& path) {
    auto r = HttpGet("127.0.0.1:" + std::to_string(admin_->port()) + path);
    EXPECT_OK(r.status());
    return r.ok() ? *r : ClientResponse{};
  }

  absl::Duration ttl_ = absl::Milliseconds(50);
  metrics::MetricsRegistry metrics_{"admin_test"};
  std::unique_ptr<AdminServer> admin_;
};

TEST_F(AdminServerTest, HealthzAndMetricsAnswer) {
  Start({});
  ClientResponse h = Get("/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, "ok\n");
  ClientResponse m = Get("/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.headers.Get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(m.body, HasSubstr("route=\"/healthz\""));
  EXPECT_THAT(m.body, HasSubstr("shieldx_build_info"));
}

TEST_F(AdminServerTest, ReadyzFlipsTo503WhenAProbeFailsAndBack) {
  std::atomic<bool> pg_up{true};
  Start({{"postgres",
          [&] {
            return pg_up.load() ? absl::OkStatus()
                                : absl::UnavailableError("postgres 127.0.0.1:5432: refused");
          }},
         {"redis", [] { return absl::OkStatus(); }}});
  ClientResponse r = Get("/readyz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            "{\"status\":\"ready\",\"probes\":[{\"name\":\"postgres\",\"ok\":true},"
            "{\"name\":\"redis\",\"ok\":true}]}\n");
  pg_up = false;
  absl::SleepFor(ttl_ * 2);
  r = Get("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("\"status\":\"not_ready\""));
  EXPECT_THAT(r.body, HasSubstr("{\"name\":\"postgres\",\"ok\":false,\"error\":\"UNAVAILABLE: "
                                "postgres 127.0.0.1:5432: refused\"}"));
  EXPECT_THAT(r.body, HasSubstr("{\"name\":\"redis\",\"ok\":true}"));
  pg_up = true;
  absl::SleepFor(ttl_ * 2);
  EXPECT_EQ(Get("/readyz").status, 200);
}

TEST_F(AdminServerTest, FailingAdvisoryProbeIsDegradedNotUnready) {
  std::atomic<bool> pg_up{false};
  std::atomic<bool> snapshot{true};
  Start({{"postgres",
          [&] { return pg_up.load() ? absl::OkStatus() : absl::UnavailableError("refused"); },
          /*required=*/false},
         {"config", [&] {
            return snapshot.load() ? absl::OkStatus() : absl::UnavailableError("no snapshot");
          }}});
  ClientResponse r = Get("/readyz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            "{\"status\":\"degraded\",\"probes\":[{\"name\":\"postgres\",\"ok\":false,"
            "\"error\":\"UNAVAILABLE: refused\",\"required\":false},"
            "{\"name\":\"config\",\"ok\":true}]}\n");
  // A required probe failing still makes the service unready, whatever the advisory ones say.
  snapshot = false;
  absl::SleepFor(ttl_ * 2);
  r = Get("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("\"status\":\"not_ready\""));
  snapshot = true;
  pg_up = true;
  absl::SleepFor(ttl_ * 2);
  r = Get("/readyz");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("\"status\":\"ready\""));
  EXPECT_THAT(r.body, HasSubstr("{\"name\":\"postgres\",\"ok\":true,\"required\":false}"));
}

TEST_F(AdminServerTest, ProbeResultsAreCachedAgainstScrapeStorms) {
  ttl_ = absl::Seconds(30);
  std::atomic<int> calls{0};
  Start({{"postgres", [&] {
            calls.fetch_add(1);
            return absl::OkStatus();
          }}});
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Get("/readyz").status, 200);
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(AdminServerTest, HangingProbeIsReportedAfterTheProbeTimeout) {
  std::atomic<bool> release{false};
  AdminServerOptions o;
  o.probe_timeout = absl::Milliseconds(100);
  Start({{"slow",
          [&] {
            while (!release.load()) absl::SleepFor(absl::Milliseconds(5));
            return absl::OkStatus();
          }}},
        o);
  absl::Time start = absl::Now();
  ClientResponse r = Get("/readyz");
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("DEADLINE_EXCEEDED: probe slow did not answer within 100ms"));
  release = true;
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(Get("/readyz").status, 200);
}

TEST_F(AdminServerTest, ReadyzIs503WhileDrainingAndHealthzStaysUp) {
  Start({{"postgres", [] { return absl::OkStatus(); }}});
  EXPECT_EQ(Get("/readyz").status, 200);
  admin_->BeginDrain();
  ClientResponse r = Get("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("\"status\":\"draining\""));
  EXPECT_EQ(Get("/healthz").status, 200);
}

}  // namespace
}  // namespace shieldx::http
