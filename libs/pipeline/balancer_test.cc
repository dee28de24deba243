// Member picking, health and the circuit breaker.
#include "libs/pipeline/balancer.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/pipeline/pipeline_test_util.h"

namespace shieldx::pipeline {
namespace {

using testing::MakePool;

std::shared_ptr<const CompiledPool> Build(const v1::Pool& p, MemberStateRegistry& reg) {
  auto c = CompiledPool::Build("t", p, reg);
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

TEST(Balancer, WeightedRoundRobinFollowsWeightsAndSkipsUnhealthy) {
  MemberStateRegistry reg;
  auto pool = Build(MakePool("p", "p", {{"a:1", 3}, {"b:1", 1}}), reg);
  std::map<int, int> counts;
  for (int i = 0; i < 400; ++i) counts[pool->Choose(0, i, 0).member]++;
  EXPECT_EQ(counts[0], 300);
  EXPECT_EQ(counts[1], 100);
  pool->members()[0].state->health.store(static_cast<uint8_t>(Health::kUnhealthy));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(pool->Choose(0, i, 0).member, 1);
}

TEST(Balancer, AllUnhealthyPanicsToAnUndrainedMember) {
  MemberStateRegistry reg;
  v1::Pool p = MakePool("p", "p", {{"a:1", 1}, {"b:1", 1}});
  p.mutable_members(1)->set_drained(true);
  auto pool = Build(p, reg);
  pool->members()[0].state->health.store(static_cast<uint8_t>(Health::kUnhealthy));
  Pick pick = pool->Choose(0, 5, 0);
  EXPECT_TRUE(pick.panic);
  EXPECT_EQ(pick.member, 0);
}

TEST(Balancer, LeastOutstandingPrefersTheIdleMember) {
  MemberStateRegistry reg;
  auto pool = Build(
      MakePool("p", "p", {{"a:1", 1}, {"b:1", 1}}, v1::BALANCING_ALGORITHM_LEAST_OUTSTANDING), reg);
  pool->members()[0].state->outstanding.store(5);
  EXPECT_EQ(pool->Choose(0, 0, 0).member, 1);
  EXPECT_EQ(pool->members()[1].state->outstanding.load(), 1);
  pool->Report(1, false, 100, 1);
  EXPECT_EQ(pool->members()[1].state->outstanding.load(), 0);
}

TEST(Balancer, P2CPrefersTheFasterMember) {
  MemberStateRegistry reg;
  auto pool =
      Build(MakePool("p", "p", {{"a:1", 1}, {"b:1", 1}}, v1::BALANCING_ALGORITHM_P2C_EWMA), reg);
  pool->members()[0].state->latency_ewma_us.store(50'000);
  pool->members()[1].state->latency_ewma_us.store(1'000);
  int fast = 0;
  for (uint64_t i = 0; i < 200; ++i) {
    const int m = pool->Choose(0, i * 7919, 0).member;
    if (m == 1) ++fast;
    pool->Report(m, false, m == 1 ? 1'000 : 50'000, 1);
  }
  EXPECT_GT(fast, 150);
}

TEST(Balancer, ConsistentHashIsStableAndMovesFewKeysWhenAMemberLeaves) {
  MemberStateRegistry reg;
  auto four = Build(MakePool("p", "p", {{"a:1", 1}, {"b:1", 1}, {"c:1", 1}, {"d:1", 1}},
                             v1::BALANCING_ALGORITHM_CONSISTENT_HASH),
                    reg);
  std::map<uint64_t, std::string> before;
  for (int k = 0; k < 1000; ++k) {
    const uint64_t h = StableHash64(absl::StrCat("user-", k));
    before[h] = four->members()[four->Choose(h, 0, 0).member].member_id;
    EXPECT_EQ(four->members()[four->Choose(h, 99, 0).member].member_id, before[h]);
  }
  four->members()[3].state->health.store(static_cast<uint8_t>(Health::kUnhealthy));
  int moved = 0;
  for (const auto& [h, member] : before) {
    const std::string now = four->members()[four->Choose(h, 0, 0).member].member_id;
    if (member != "m4" && now != member) ++moved;
    EXPECT_NE(now, "m4");
  }
  EXPECT_EQ(moved, 0);  // only the unhealthy member's keys moved
}

TEST(Balancer, BreakerOpensHalfOpensAndClosesWithBackoff) {
  MemberStateRegistry reg;
  v1::Pool p = MakePool("p", "p", {{"a:1", 1}, {"b:1", 1}});
  p.mutable_circuit_breaker()->set_consecutive_failures(3);
  p.mutable_circuit_breaker()->set_open_ms(1000);
  p.mutable_circuit_breaker()->set_half_open_requests(1);
  auto pool = Build(p, reg);
  const int64_t ms = 1'000'000;
  for (int i = 0; i < 3; ++i) pool->Report(0, true, 0, 10 * ms);
  EXPECT_FALSE(pool->Eligible(0, 11 * ms));
  EXPECT_EQ(pool->HealthOf(0, 11 * ms), v1::MEMBER_HEALTH_EJECTED);
  // After the open period one probe is let through; its failure re-opens for twice as long.
  EXPECT_TRUE(pool->Eligible(0, 1011 * ms));
  pool->Report(0, true, 0, 1012 * ms);
  EXPECT_FALSE(pool->Eligible(0, 2500 * ms));
  EXPECT_TRUE(pool->Eligible(0, 3013 * ms));
  pool->Report(0, false, 100, 3013 * ms);
  EXPECT_TRUE(pool->Eligible(0, 3014 * ms));
  EXPECT_EQ(pool->members()[0].state->ejections.load(), 0);
}

TEST(Balancer, MaxEjectionPercentKeepsPartOfThePool) {
  MemberStateRegistry reg;
  v1::Pool p = MakePool("p", "p", {{"a:1", 1}, {"b:1", 1}});
  p.mutable_circuit_breaker()->set_consecutive_failures(1);
  p.mutable_circuit_breaker()->set_max_ejection_percent(50);
  auto pool = Build(p, reg);
  pool->Report(0, true, 0, 1);
  pool->Report(1, true, 0, 1);
  EXPECT_FALSE(pool->Eligible(0, 2));
  EXPECT_TRUE(pool->Eligible(1, 2));  // ejecting it too would exceed 50 %
}

TEST(Balancer, MemberStateSurvivesRebuildsAndIsCollectedWhenUnused) {
  MemberStateRegistry reg;
  auto a = Build(MakePool("p", "p", {{"a:1", 1}}), reg);
  a->members()[0].state->health.store(static_cast<uint8_t>(Health::kUnhealthy));
  auto b = Build(MakePool("p", "p", {{"a:1", 1}}), reg);
  EXPECT_EQ(b->members()[0].state.get(), a->members()[0].state.get());
  a.reset();
  b.reset();
  reg.Collect();
  EXPECT_EQ(reg.size(), 0u);
}

TEST(Balancer, InvalidHashKeyExpressionIsRejected) {
  MemberStateRegistry reg;
  v1::Pool p = MakePool("p", "web", {{"a:1", 1}}, v1::BALANCING_ALGORITHM_CONSISTENT_HASH);
  p.set_hash_key_expression("http.cookie[");
  auto c = CompiledPool::Build("t", p, reg);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              ::testing::HasSubstr("pool web: hash_key_expression"));
}

}  // namespace
}  // namespace shieldx::pipeline
