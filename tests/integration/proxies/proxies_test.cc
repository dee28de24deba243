// The real HAProxy 2.6 (SPOE) and the real nginx 1.22 (auth_request) in front of two real
// upstreams, asking ShieldX's front ends, enforcing every action. The decider is the scripted
// test double (services/orchestrator/frontends/testing/scripted_decider.h), which lets these
// tests pin every action and status exactly; real_pipeline_test.cc sends the same kinds of
// requests through the real orchestrator binary and its detection.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/http/client.h"
#include "libs/testing/status_matchers.h"
#include "services/orchestrator/frontends/testing/scripted_decider.h"
#include "tests/integration/proxies/proxy_stack.h"

namespace shieldx::proxies_test {
namespace {

using orchestrator::frontends::testing::ScriptedDecider;
using ::shieldx::testing::IsOk;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int kTarpitMs = 300;
constexpr int kRateLimitN = 3;
constexpr int kRetryAfterS = 7;

std::unique_ptr<ScriptedDecider> MakeDecider(const ProxyStack& stack) {
  return std::make_unique<ScriptedDecider>(
      ScriptedDecider::Script{.upstream_a = stack.upstream_a().address(),
                              .upstream_b = stack.upstream_b().address(),
                              .tarpit_ms = kTarpitMs,
                              .rate_limit_n = kRateLimitN,
                              .retry_after_s = kRetryAfterS});
}

enum class Proxy { kHaproxy, kNginx };

std::string ProxyName(const ::testing::TestParamInfo<Proxy>& info) {
  return info.param == Proxy::kHaproxy ? "HAProxy" : "Nginx";
}

class ProxiesTest : public ::testing::TestWithParam<Proxy> {
 protected:
  static void SetUpTestSuite() {
    auto stack = ProxyStack::Create();
    ASSERT_THAT(stack, IsOk());
    stack_ = std::move(*stack).release();
    decider_ = MakeDecider(*stack_).release();
    absl::Status s = stack_->Start(*decider_);
    ASSERT_THAT(s, IsOk());
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
    delete decider_;
    decider_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(stack_, nullptr) << "stack failed to start"; }
  void TearDown() override {
    if (HasFailure() && stack_ != nullptr) {
      ADD_FAILURE() << "haproxy log:\n"
                    << stack_->HaproxyLog() << "\nnginx log:\n"
                    << stack_->NginxErrorLog();
    }
  }

  std::string Url(std::string_view target) const {
    return (GetParam() == Proxy::kHaproxy ? stack_->haproxy_url() : stack_->nginx_url()) +
           std::string(target);
  }

  http::ClientResponse Get(std::string_view target,
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::ClientRequest req;
    req.url = Url(target);
    req.headers = std::move(headers);
    absl::StatusOr<http::ClientResponse> r = http::Fetch(req);
    EXPECT_THAT(r, IsOk());
    return r.ok() ? *r : http::ClientResponse{};
  }

  static ProxyStack* stack_;
  static ScriptedDecider* decider_;
};

ProxyStack* ProxiesTest::stack_ = nullptr;
ScriptedDecider* ProxiesTest::decider_ = nullptr;

TEST_P(ProxiesTest, BenignRequestReachesTheChosenUpstreamWithTheDecisionHeaders) {
  http::ClientResponse r = Get("/products?page=2", {{"User-Agent", "it-test/1"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "upstream-a /products?page=2\n");
  EXPECT_EQ(r.headers.Get("X-Seen-X-ShieldX-Action"), "allow");
  EXPECT_FALSE(r.headers.Get("X-Seen-X-ShieldX-Request-Id").empty());
  std::optional<orchestrator::frontends::testing::SeenRequest> seen = decider_->last();
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->request.method, "GET");
  EXPECT_EQ(seen->request.uri, "/products?page=2");
  EXPECT_EQ(seen->request.client_ip, "127.0.0.1");
  EXPECT_THAT(seen->host, StartsWith("127.0.0.1"));  // nginx's $host drops the port
  bool user_agent = false;
  for (const auto& [name, value] : seen->request.headers) {
    user_agent = user_agent || (absl::EqualsIgnoreCase(name, "user-agent") && value == "it-test/1");
  }
  EXPECT_TRUE(user_agent);
  EXPECT_EQ(seen->front_end, GetParam() == Proxy::kHaproxy ? pipeline::FrontEnd::kSpoe
                                                           : pipeline::FrontEnd::kForwardAuth);
}

TEST_P(ProxiesTest, ClientCannotForgeTheDecisionHeaders) {
  http::ClientResponse r =
      Get("/", {{"X-ShieldX-Upstream", "127.0.0.1:1"}, {"X-ShieldX-Action", "allow-me"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.Get("X-Seen-X-ShieldX-Action"), "allow");
  EXPECT_EQ(r.headers.Get("X-Seen-X-ShieldX-Upstream"), "");
}

TEST_P(ProxiesTest, SqlInjectionIsBlockedWith403) {
  http::ClientResponse r = Get("/items?id=1%27%20OR%20%271%27=%271");
  EXPECT_EQ(r.status, 403);
  EXPECT_THAT(r.body, HasSubstr("blocked"));
  EXPECT_FALSE(r.headers.Get("X-ShieldX-Request-Id").empty());
  EXPECT_EQ(Get("/sqli").status, 403);
}

TEST_P(ProxiesTest, BlockAnswersWithTheDecidedStatus) {
  EXPECT_EQ(Get("/block/451").status, 451);
  EXPECT_EQ(Get("/block/418").status, 418);
  EXPECT_EQ(Get("/block/299").status, 403);  // not an error status: 403
}

TEST_P(ProxiesTest, ChallengeAnswers401WithAChallengeHeader) {
  http::ClientResponse r = Get("/challenge");
  EXPECT_EQ(r.status, 401);
  EXPECT_FALSE(r.headers.Get("X-ShieldX-Challenge").empty());
}

TEST_P(ProxiesTest, TarpitDelaysTheRequestThenForwardsIt) {
  Get("/warmup");  // connections to the agent are open before timing
  const auto start = std::chrono::steady_clock::now();
  http::ClientResponse r = Get("/tarpit/slow");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "upstream-a /tarpit/slow\n");
  EXPECT_GE(took, std::chrono::milliseconds(kTarpitMs - 10));
  EXPECT_LT(took, std::chrono::milliseconds(kTarpitMs + 2000));

  const auto fast_start = std::chrono::steady_clock::now();
  EXPECT_EQ(Get("/fast").status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - fast_start, std::chrono::milliseconds(kTarpitMs));
}

TEST_P(ProxiesTest, DivertLandsOnTheOtherPool) {
  http::ClientResponse r = Get("/divert/here");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "upstream-b /divert/here\n");
  EXPECT_EQ(r.headers.Get("X-Seen-X-ShieldX-Action"), "divert");
}

TEST_P(ProxiesTest, MonitorModeForwardsWhatWouldBeBlocked) {
  http::ClientResponse r = Get("/monitor");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "upstream-a /monitor\n");
}

TEST_P(ProxiesTest, RateLimitAnswers429WithRetryAfterAfterN) {
  decider_->ResetRateLimit();
  for (int i = 0; i < kRateLimitN; ++i) {
    EXPECT_EQ(Get(absl::StrCat("/rl/", i)).status, 200) << i;
  }
  http::ClientResponse r = Get("/rl/over");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers.Get("Retry-After"), std::to_string(kRetryAfterS));
}

INSTANTIATE_TEST_SUITE_P(Proxies, ProxiesTest, ::testing::Values(Proxy::kHaproxy, Proxy::kNginx),
                         ProxyName);

// ---- HAProxy-only behaviour -----------------------------------------------------------------

class HaproxyOnly : public ::testing::Test {
 protected:
  void StartStack(const ProxyStack::Options& options) {
    auto stack = ProxyStack::Create();
    ASSERT_THAT(stack, IsOk());
    stack_ = std::move(*stack);
    decider_ = MakeDecider(*stack_);
    ASSERT_THAT(stack_->Start(*decider_, options), IsOk());
  }
  void TearDown() override {
    if (HasFailure() && stack_) ADD_FAILURE() << "haproxy log:\n" << stack_->HaproxyLog();
  }

  std::unique_ptr<ScriptedDecider> decider_;
  std::unique_ptr<ProxyStack> stack_;
};

TEST_F(HaproxyOnly, BodyOfABufferedRequestReachesThePipeline) {
  StartStack({.nginx = false});
  http::ClientRequest req;
  req.method = "POST";
  req.url = stack_->haproxy_url() + "/form";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  req.body = "user=alice&comment=hello";
  ASSERT_OK_AND_ASSIGN(http::ClientResponse r, http::Fetch(req));
  EXPECT_EQ(r.status, 200);
  std::optional<orchestrator::frontends::testing::SeenRequest> seen = decider_->last();
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->request.method, "POST");
  EXPECT_EQ(seen->request.body, "user=alice&comment=hello");
  EXPECT_EQ(seen->request.version, "HTTP/1.1");
}

TEST_F(HaproxyOnly, LargeBodiesAreInspectedUpToTheConfiguredPrefixNotRefused) {
  StartStack({.nginx = false});
  for (std::size_t size : {std::size_t{40'000}, std::size_t{200'000}}) {
    http::ClientRequest req;
    req.method = "POST";
    req.url = stack_->haproxy_url() + "/upload";
    req.body = std::string(size, 'b');
    ASSERT_OK_AND_ASSIGN(http::ClientResponse r, http::Fetch(req));
    EXPECT_EQ(r.status, 200) << size;
    std::optional<orchestrator::frontends::testing::SeenRequest> seen = decider_->last();
    ASSERT_TRUE(seen.has_value());
    // spoe-shieldx.conf sends req.body,bytes(0,32768): one frame always fits.
    EXPECT_EQ(seen->request.body.size(), 32768u) << size;
  }
}

TEST_F(HaproxyOnly, UnreachableAgentFailsClosedWith503) {
  ASSERT_OK_AND_ASSIGN(int closed_port, testing::PickFreePort());
  StartStack({.nginx = false, .spoe_addr_override = absl::StrCat("127.0.0.1:", closed_port)});
  http::ClientRequest req;
  req.url = stack_->haproxy_url() + "/anything";
  ASSERT_OK_AND_ASSIGN(http::ClientResponse r, http::Fetch(req));
  EXPECT_EQ(r.status, 503);
}

TEST_F(HaproxyOnly, UnreachableAgentWithFailOpenForwardsToTheDefaultUpstream) {
  ASSERT_OK_AND_ASSIGN(int closed_port, testing::PickFreePort());
  StartStack({.nginx = false,
              .spoe_addr_override = absl::StrCat("127.0.0.1:", closed_port),
              .haproxy_fail_open = true});
  http::ClientRequest req;
  req.url = stack_->haproxy_url() + "/anything";
  ASSERT_OK_AND_ASSIGN(http::ClientResponse r, http::Fetch(req));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "upstream-a /anything\n");
}

TEST_F(HaproxyOnly, UpstreamAnswersAreReportedBackWithTheirLatency) {
  StartStack({.nginx = false});
  auto fetch = [&](const std::string& target) {
    http::ClientRequest req;
    req.url = stack_->haproxy_url() + target;
    absl::StatusOr<http::ClientResponse> r = http::Fetch(req);
    EXPECT_THAT(r, IsOk());
    return r.ok() ? r->status : 0;
  };
  EXPECT_EQ(fetch("/sqli"), 403);  // answered by HAProxy: no upstream, no report
  EXPECT_EQ(fetch("/delay/150/slow-page"), 200);
  EXPECT_EQ(fetch("/status/503/broken"), 503);
  EXPECT_EQ(fetch("/divert/x"), 200);
  std::vector<orchestrator::frontends::testing::SeenOutcome> got;
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while ((got = decider_->outcomes()).size() < 3 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].tenant_id, "test-tenant");
  EXPECT_EQ(got[0].pool, "a");
  EXPECT_EQ(got[0].member_id, "a1");
  EXPECT_EQ(got[0].status, 200);
  // Time from the agent's ACK to the response headers: covers the upstream's 150 ms.
  EXPECT_GE(got[0].latency_us, 150'000);
  EXPECT_LT(got[0].latency_us, 5'000'000);
  EXPECT_EQ(got[1].status, 503);  // the upstream's own error: feeds the circuit breaker
  EXPECT_EQ(got[2].pool, "b");
  EXPECT_EQ(got[2].member_id, "b1");
  EXPECT_EQ(got[2].status, 200);
}

TEST_F(HaproxyOnly, ManyConcurrentClientsAreAllDecided) {
  StartStack({.nginx = false});
  constexpr int kThreads = 8;
  constexpr int kEach = 24;  // even: half of each client's requests are diverted
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        http::ClientRequest req;
        req.url = absl::StrCat(stack_->haproxy_url(), i % 2 ? "/divert/" : "/a/", t, "/", i);
        absl::StatusOr<http::ClientResponse> r = http::Fetch(req);
        const std::string want = absl::StrCat(i % 2 ? "upstream-b" : "upstream-a");
        if (r.ok() && r->status == 200 && absl::StartsWith(r->body, want)) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kEach);
  EXPECT_THAT(stack_->metrics().Serialize(),
              HasSubstr(absl::StrCat(
                  "shieldx_frontend_requests_total{action=\"divert\",frontend=\"spoe\"} ",
                  kThreads * kEach / 2)));
}

}  // namespace
}  // namespace shieldx::proxies_test
