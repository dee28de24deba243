// Runtime guarantees: Evaluate does not allocate, and one CompiledPolicy serves many threads.
//
// This binary replaces the global operator new/delete with counting versions; counting is
// switched on per thread, so only the code under measurement is counted.
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "libs/policy/policy_test_util.h"

namespace {
thread_local bool g_counting = false;
std::atomic<long> g_allocations{0};

void* CountedAlloc(std::size_t size) {
  if (g_counting) g_allocations.fetch_add(1, std::memory_order_relaxed);
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* CountedAlignedAlloc(std::size_t size, std::align_val_t align) {
  if (g_counting) g_allocations.fetch_add(1, std::memory_order_relaxed);
  const auto a = static_cast<std::size_t>(align);
  void* p = std::aligned_alloc(a, (size + a - 1) / a * a);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t size) { return CountedAlloc(size); }
void* operator new[](std::size_t size) { return CountedAlloc(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return CountedAlloc(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return CountedAlloc(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t size, std::align_val_t align) {
  return CountedAlignedAlloc(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return CountedAlignedAlloc(size, align);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace shieldx::policy {
namespace {

using testing::Cat;
using testing::MustCompile;
using testing::Req;

// Every operator and field except `matches` (RE2 gets its own test below).
constexpr char kNoRegex[] = R"policy(
rule "admin" { when http.path starts_with "/admin" and ip.src not in $office then tag("admin"), block }
rule "methods" { when http.method not in {"GET", "HEAD", "POST"} then block(405) }
rule "ua" { when not exists(http.header["user-agent"]) or http.header["User-Agent"] == "" then tag("no-ua") }
rule "waf" { when waf.score >= 8 or ("sqli" in waf.category and waf.score > 3) then log, challenge }
rule "risk" { when auth.risk > 0.9 and http.cookie["session"] != "" then challenge }
rule "login" { when http.path == "/login" then rate_limit(ip.src, 5 per 1m, burst 2) }
rule "brute" { when rate["fail"] > 10 then tarpit(500) }
rule "beta" { when http.args["beta"] == "1" and tenant.id in $tenants then divert("canary") }
rule "night" { when time.hour < 5 and time.weekday in {6, 7} and route.id ends_with "-admin" then block(503) }
rule "query" { when len(http.query) > 100 or http.host contains "internal" then block(414) }
rule "ip" { when ip.src == "203.0.113.66" or ip.src in {"2001:db8::/32"} then block }
rule "cats" { when len(waf.category) > 2 then tag("multi") }
)policy";

constexpr char kRegex[] = R"policy(
rule "bots" { when http.header["user-agent"] matches r"(?i)(sqlmap|nikto|masscan)" then block }
rule "ext" { when http.path matches r"\.(php|asp|jsp)$" then tag("legacy") }
)policy";

CompileOptions Options() {
  CompileOptions o;
  o.lists["office"] = {"10.0.0.0/8", "2001:db8:1::/48"};
  o.lists["tenants"] = {"acme", "globex"};
  return o;
}

std::vector<Req> Requests() {
  std::vector<Req> reqs(6);
  reqs[0].path = "/admin/x";
  reqs[0].ip = "203.0.113.9";
  reqs[1].method = "PATCH";
  reqs[1].headers = {{"user-agent", "Mozilla/5.0"}};
  reqs[2].waf_score = 5;
  reqs[2].waf_categories = Cat("sqli") | Cat("xss") | Cat("cmdi");
  reqs[2].headers = {{"user-agent", "sqlmap/1.7"}};
  reqs[3].path = "/login";
  reqs[3].rate_counters = {11};
  reqs[3].cookies = {{"session", "s"}};
  reqs[3].auth_risk = 0.95;
  reqs[4].args = {{"beta", "1"}};
  reqs[4].tenant_id = "acme";
  reqs[4].path = "/index.php";
  reqs[4].ip = "2001:db8::9";
  reqs[5].route_id = "shop-admin";
  reqs[5].unix_time_s = 1714867200;  // Sunday 00:00 UTC
  reqs[5].query = std::string(200, 'q');
  return reqs;
}

long CountAllocations(const CompiledPolicy& p, std::vector<Req>& reqs, int rounds) {
  std::vector<const PolicyInput*> inputs;
  for (Req& r : reqs) inputs.push_back(&r.input());
  PolicyResult result;
  g_allocations = 0;
  g_counting = true;
  for (int i = 0; i < rounds; ++i) {
    for (const PolicyInput* in : inputs) {
      p.Evaluate(*in, &result);
      for (std::size_t s = 0; s < p.rate_limits().size(); ++s) {
        if (result.rate_limits >> s & 1) (void)p.RateLimitKeyFor(static_cast<int>(s), *in);
      }
    }
  }
  g_counting = false;
  return g_allocations.load();
}

TEST(PolicyRuntime, AllocationCounterSeesAllocations) {
  // The hook works: otherwise the zero below would prove nothing.
  g_allocations = 0;
  g_counting = true;
  auto* v = new std::vector<int>(100);
  g_counting = false;
  delete v;
  EXPECT_GE(g_allocations.load(), 2);
}

TEST(PolicyRuntime, EvaluateNeverAllocatesFromTheFirstCall) {
  auto p = MustCompile(kNoRegex, Options());
  ASSERT_NE(p, nullptr);
  std::vector<Req> reqs = Requests();
  EXPECT_EQ(CountAllocations(*p, reqs, 100), 0);
  // The requests exercised the rules (the test is not vacuous).
  std::vector<Action> actions;
  for (Req& r : reqs) actions.push_back(p->Evaluate(r.input()).action);
  EXPECT_EQ(actions, (std::vector<Action>{Action::kBlock, Action::kBlock, Action::kChallenge,
                                          Action::kChallenge, Action::kDivert, Action::kBlock}));
}

TEST(PolicyRuntime, RegexEvaluationDoesNotAllocateOnceRe2HasSeenTheInput) {
  auto p = MustCompile(kRegex, Options());
  ASSERT_NE(p, nullptr);
  std::vector<Req> reqs = Requests();
  CountAllocations(*p, reqs, 1);  // RE2's lazy DFA may add cache states on first sight
  EXPECT_EQ(CountAllocations(*p, reqs, 100), 0);
  EXPECT_EQ(p->Evaluate(reqs[2].input()).action, Action::kBlock);
  EXPECT_EQ(p->Evaluate(reqs[4].input()).tags, 1u);
}

TEST(PolicyRuntime, ManyThreadsShareOnePolicy) {
  std::string src = std::string(kNoRegex) + kRegex;
  std::shared_ptr<const CompiledPolicy> p = MustCompile(src, Options());
  ASSERT_NE(p, nullptr);
  std::vector<Req> reqs = Requests();
  std::vector<PolicyResult> expected;
  for (Req& r : reqs) expected.push_back(p->Evaluate(r.input()));

  constexpr int kThreads = 8;
  constexpr int kRounds = 20000;
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t, policy = p] {
      std::vector<Req> mine = Requests();  // each thread owns its request storage
      PolicyResult r;
      for (int i = 0; i < kRounds; ++i) {
        const std::size_t k = static_cast<std::size_t>(i + t) % mine.size();
        policy->Evaluate(mine[k].input(), &r);
        const PolicyResult& e = expected[k];
        if (r.action != e.action || r.status != e.status || r.tags != e.tags ||
            r.matched_rule != e.matched_rule || r.rate_limits != e.rate_limits ||
            r.divert_pool != e.divert_pool || r.log != e.log) {
          mismatches.fetch_add(1);
        }
      }
    });
  }
  // The owner drops its reference while the threads still evaluate.
  p.reset();
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace shieldx::policy
