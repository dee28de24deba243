// contauth's RedisRiskPublisher and the orchestrator's RedisRiskSource (libs/pipeline) are
// written separately against one documented key format; this test runs both against a real
// Redis so a change to either side that breaks the other fails here.
#include <memory>
#include <optional>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/pipeline/risk.h"
#include "libs/redis/redis_pool.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"
#include "services/contauth/risk_publisher.h"

namespace shieldx {
namespace {

class RiskContract : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = testing::RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    redis::RedisOptions o;
    o.host = server_->host();
    o.port = server_->port();
    auto pool = redis::RedisPool::Create(o);
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = std::move(*pool);
  }

  contauth::Decision Risky(const std::string& tenant, const std::string& session, double risk,
                           absl::Duration ttl) {
    contauth::Decision d;
    d.decision_id = "d-" + session;
    d.tenant_id = tenant;
    d.session_id = session;
    d.user_id = "alice";
    d.risk = risk;
    d.decided_at = absl::Now();
    d.expires_at = d.decided_at + ttl;
    return d;
  }

  std::optional<double> Read(pipeline::RedisRiskSource& source, const std::string& tenant,
                             const std::string& session) {
    absl::StatusOr<std::optional<double>> r = source.Risk(tenant, session);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::nullopt;
  }

  std::unique_ptr<testing::RedisServer> server_;
  std::unique_ptr<redis::RedisPool> pool_;
};

TEST_F(RiskContract, WhatContauthPublishesTheOrchestratorReadsForThatTenantOnly) {
  contauth::RedisRiskPublisher publisher(pool_.get());
  pipeline::RedisRiskSource source(pool_.get(), Clock::Real(), absl::ZeroDuration());
  EXPECT_EQ(Read(source, "acme", "sess-1"), std::nullopt);  // unknown before any decision

  ASSERT_OK(publisher.Publish(Risky("acme", "sess-1", 0.8123, absl::Minutes(5)), absl::Now()));
  std::optional<double> risk = Read(source, "acme", "sess-1");
  ASSERT_TRUE(risk.has_value());
  EXPECT_NEAR(*risk, 0.8123, 1e-4);
  // The same session id under another tenant is another session.
  EXPECT_EQ(Read(source, "globex", "sess-1"), std::nullopt);

  // A newer decision replaces the risk; ids with the allowed punctuation survive the key.
  ASSERT_OK(publisher.Publish(Risky("acme", "sess-1", 0.05, absl::Minutes(5)), absl::Now()));
  EXPECT_NEAR(Read(source, "acme", "sess-1").value_or(-1), 0.05, 1e-4);
  ASSERT_OK(
      publisher.Publish(Risky("acme", "a.b:c@d+e/f=g-h_1", 0.5, absl::Minutes(5)), absl::Now()));
  EXPECT_NEAR(Read(source, "acme", "a.b:c@d+e/f=g-h_1").value_or(-1), 0.5, 1e-4);

  // A deleted profile's sessions are forgotten.
  ASSERT_OK(publisher.Remove("acme", {"sess-1"}));
  EXPECT_EQ(Read(source, "acme", "sess-1"), std::nullopt);
}

TEST_F(RiskContract, AnExpiredDecisionIsUnknownRiskNotAStaleOne) {
  contauth::RedisRiskPublisher publisher(pool_.get());
  pipeline::RedisRiskSource source(pool_.get(), Clock::Real(), absl::ZeroDuration());
  ASSERT_OK(publisher.Publish(Risky("acme", "short", 0.9, absl::Milliseconds(300)), absl::Now()));
  EXPECT_NEAR(Read(source, "acme", "short").value_or(-1), 0.9, 1e-4);
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (Read(source, "acme", "short").has_value() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(Read(source, "acme", "short"), std::nullopt);
}

}  // namespace
}  // namespace shieldx
