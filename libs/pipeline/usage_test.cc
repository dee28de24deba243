// Credits usage: batching, idempotency keys across retries, exhaustion; the event queue.
#include "libs/pipeline/usage.h"

#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/pipeline/events.h"
#include "libs/pipeline/rate_limiter.h"

namespace shieldx::pipeline {
namespace {

class FakeSink : public CreditsSink {
 public:
  absl::StatusOr<ConsumeOutcome> ConsumeBatch(const UsageBatch& batch) override {
    calls.push_back(batch);
    if (fail_next > 0) {
      --fail_next;
      return absl::UnavailableError("credits down");
    }
    // Exactly-once effect: a key already applied is not applied again.
    if (applied_keys.insert(batch.idempotency_key).second) {
      for (const UsageRecord& r : batch.records) balance -= r.credits;
    }
    return ConsumeOutcome{balance, 0};
  }
  absl::StatusOr<int64_t> AvailableCredits(const std::string&) override { return balance; }
  std::vector<UsageBatch> calls;
  std::set<std::string> applied_keys;
  int fail_next = 0;
  int64_t balance = 100;
};

TEST(UsageMeter, FlushSendsOneBatchPerTenantWithTheRoutesUsage) {
  FakeSink sink;
  FakeClock clock;
  UsageMeter meter(&sink, &clock, {.replica_id = "pod-1"});
  meter.Counter("acme", "r1")->credits.fetch_add(5);
  meter.Counter("acme", "r1")->requests.fetch_add(5);
  meter.Counter("acme", "r2")->credits.fetch_add(2);
  meter.Counter("globex", "r9")->credits.fetch_add(1);
  ASSERT_TRUE(meter.FlushOnce().ok());
  ASSERT_EQ(sink.calls.size(), 2u);
  EXPECT_EQ(sink.calls[0].tenant_id, "acme");
  EXPECT_EQ(sink.calls[0].records.size(), 2u);
  EXPECT_THAT(sink.calls[0].idempotency_key, ::testing::StartsWith("pod-1:acme:"));
  EXPECT_EQ(sink.balance, 100 - 8);
  // Nothing new: no call.
  ASSERT_TRUE(meter.FlushOnce().ok());
  EXPECT_EQ(sink.calls.size(), 2u);
}

TEST(UsageMeter, AFailedBatchIsRetriedWithTheSameKeyAndNewUsageWaits) {
  FakeSink sink;
  FakeClock clock;
  UsageMeter meter(&sink, &clock, {.replica_id = "pod-1"});
  auto c = meter.Counter("acme", "r1");
  c->credits.fetch_add(10);
  sink.fail_next = 2;
  EXPECT_FALSE(meter.FlushOnce().ok());
  c->credits.fetch_add(7);  // arrives while the first batch is pending
  EXPECT_FALSE(meter.FlushOnce().ok());
  EXPECT_EQ(meter.stats().pending_batches, 1);
  ASSERT_TRUE(meter.FlushOnce().ok());
  ASSERT_EQ(sink.calls.size(), 3u);
  EXPECT_EQ(sink.calls[0].idempotency_key, sink.calls[2].idempotency_key);
  EXPECT_EQ(sink.calls[2].records[0].credits, 10);  // same content on retry
  EXPECT_EQ(sink.balance, 90);
  ASSERT_TRUE(meter.FlushOnce().ok());
  EXPECT_EQ(sink.calls.back().records[0].credits, 7);
  EXPECT_NE(sink.calls.back().idempotency_key, sink.calls[0].idempotency_key);
  EXPECT_EQ(sink.balance, 83);
}

TEST(UsageMeter, ADuplicateDeliveryHasNoSecondEffect) {
  FakeSink sink;
  FakeClock clock;
  UsageMeter meter(&sink, &clock, {.replica_id = "pod-1"});
  meter.Counter("acme", "r1")->credits.fetch_add(4);
  ASSERT_TRUE(meter.FlushOnce().ok());
  UsageBatch again = sink.calls[0];
  ASSERT_TRUE(sink.ConsumeBatch(again).ok());  // e.g. a retry after a lost answer
  EXPECT_EQ(sink.balance, 96);
}

TEST(UsageMeter, ExhaustionIsSetByAFlushAndClearedByATopUp) {
  FakeSink sink;
  sink.balance = 3;
  FakeClock clock;
  UsageMeter meter(&sink, &clock, {.replica_id = "pod-1"});
  auto tenant = meter.Tenant("acme");
  meter.Counter("acme", "r1")->credits.fetch_add(5);
  ASSERT_TRUE(meter.FlushOnce().ok());
  EXPECT_TRUE(tenant->exhausted.load());
  sink.balance = 1000;  // top-up
  ASSERT_TRUE(meter.FlushOnce().ok());
  EXPECT_FALSE(tenant->exhausted.load());
}

TEST(UsageMeter, StopFlushesPendingUsage) {
  FakeSink sink;
  UsageMeter meter(&sink, Clock::Real(), {.replica_id = "pod-1", .flush_interval = absl::Hours(1)});
  meter.Start();
  meter.Counter("acme", "r1")->credits.fetch_add(9);
  ASSERT_TRUE(meter.Stop(absl::Seconds(1)).ok());
  EXPECT_EQ(sink.balance, 91);
}

TEST(EventQueue, DropsWhenFullAndDrainsInOrder) {
  EventQueue q(4);
  for (int i = 0; i < 6; ++i) {
    auto e = std::make_unique<DecisionEvent>();
    e->request_id = std::to_string(i);
    q.Publish(std::move(e));
  }
  EXPECT_EQ(q.dropped(), 2);
  std::vector<std::unique_ptr<DecisionEvent>> out;
  EXPECT_EQ(q.Drain(&out, 10), 4u);
  EXPECT_EQ(out[0]->request_id, "0");
  EXPECT_EQ(out[3]->request_id, "3");
}

TEST(EventQueue, ConcurrentProducersLoseNothingBelowCapacity) {
  EventQueue q(1 << 14);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) q.Publish(std::make_unique<DecisionEvent>());
    });
  }
  for (auto& t : threads) t.join();
  std::vector<std::unique_ptr<DecisionEvent>> out;
  EXPECT_EQ(q.Drain(&out, 100000), 8000u);
  EXPECT_EQ(q.dropped(), 0);
}

TEST(LocalRateLimiter, FullTableFollowsTheFailureMode) {
  FakeClock clock;
  LocalRateLimiter limiter(&clock, 64);  // one bucket per shard
  RateSpec open{.limit = 1, .window_ms = 60'000, .burst = 0, .fail_closed = false};
  int failed = 0;
  for (int i = 0; i < 1000; ++i) {
    RateResult r = limiter.Check(absl::StrCat("k", i), open);
    if (r.failed) {
      ++failed;
      EXPECT_TRUE(r.allowed);
    }
  }
  EXPECT_GT(failed, 0);
  RateSpec closed = open;
  closed.fail_closed = true;
  bool refused = false;
  for (int i = 1000; i < 2000; ++i) {
    RateResult r = limiter.Check(absl::StrCat("k", i), closed);
    if (r.failed) refused = refused || !r.allowed;
  }
  EXPECT_TRUE(refused);
}

}  // namespace
}  // namespace shieldx::pipeline
