// The whole product path with nothing scripted: the real HAProxy 2.6 (SPOE) and the real
// nginx 1.22 (auth_request) in front of two real upstreams, asking the real
// shieldx-orchestrator binary (its SPOE agent and forward-auth endpoint) backed by real
// PostgreSQL, Redis and s3rver. The configuration is what `make up` seeds
// (shieldx-orchestrator-cli seed-demo: tarpit /slow, divert /beta to the canary pool,
// rate-limit /login to 5 per minute per client), one tenant per proxy so their rate-limit
// counters are separate; attacks are found by the default detection profile.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/http/client.h"
#include "libs/testing/pg_server.h"
#include "libs/testing/process.h"
#include "libs/testing/prometheus_server.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/s3_server.h"
#include "libs/testing/status_matchers.h"
#include "tests/integration/proxies/proxy_stack.h"

namespace shieldx::proxies_test {
namespace {

using ::shieldx::testing::IsOk;
using ::testing::HasSubstr;

constexpr int kSlowTarpitMs = 1000;  // the demo rule set's tarpit("/slow")
constexpr int kLoginLimit = 5;       // rate_limit(ip.src, 5 per 1m) on /login

enum class Proxy { kHaproxy, kNginx };

std::string ProxyName(const ::testing::TestParamInfo<Proxy>& info) {
  return info.param == Proxy::kHaproxy ? "HAProxy" : "Nginx";
}

// The orchestrator binary with its stores, seeded like `make up` does.
class Orchestrator {
 public:
  static absl::StatusOr<std::unique_ptr<Orchestrator>> Start() {
    auto o = std::unique_ptr<Orchestrator>(new Orchestrator());
    auto dir = testing::TempDir::Create("shieldx-proxies-orch");
    if (!dir.ok()) return dir.status();
    o->dir_.emplace(std::move(*dir));
    auto pg = testing::PgServer::Start({.dir_prefix = "shieldx-pg-proxies"});
    if (!pg.ok()) return pg.status();
    o->pg_ = std::move(*pg);
    if (absl::Status s = o->pg_->CreateDatabase("orch"); !s.ok()) return s;
    auto redis = testing::RedisServer::Start();
    if (!redis.ok()) return redis.status();
    o->redis_ = std::move(*redis);
    auto s3 =
        testing::S3Server::Start({.source_root = SHIELDX_SOURCE_ROOT, .buckets = {"shieldx"}});
    if (!s3.ok()) return s3.status();
    o->s3_ = std::move(*s3);
    for (int* port : {&o->grpc_port_, &o->admin_port_, &o->spoe_port_, &o->authz_port_}) {
      absl::StatusOr<int> p = testing::PickFreePort();
      if (!p.ok()) return p.status();
      *port = *p;
    }
    testing::Subprocess::Options p;
    p.argv = {std::string(SHIELDX_BINARY_DIR) + "/bin/shieldx-orchestrator"};
    p.log_path = o->dir_->path() + "/orchestrator.log";
    p.env = {"SHIELDX_ORCHESTRATOR_PG_DSN=" + o->pg_->ConnectionString("orch"),
             "SHIELDX_ORCHESTRATOR_REDIS_ADDR=" + o->redis_->address(),
             "SHIELDX_ORCHESTRATOR_S3_ENDPOINT=" + o->s3_->endpoint(),
             "SHIELDX_ORCHESTRATOR_S3_ACCESS_KEY=S3RVER",
             "SHIELDX_ORCHESTRATOR_S3_SECRET_KEY=S3RVER",
             absl::StrCat("SHIELDX_ORCHESTRATOR_GRPC_LISTEN=127.0.0.1:", o->grpc_port_),
             absl::StrCat("SHIELDX_ORCHESTRATOR_ADMIN_LISTEN=127.0.0.1:", o->admin_port_),
             absl::StrCat("SHIELDX_ORCHESTRATOR_SPOE_LISTEN=", o->spoe_addr()),
             absl::StrCat("SHIELDX_ORCHESTRATOR_AUTHZ_HTTP_LISTEN=", o->authz_addr()),
             "SHIELDX_ORCHESTRATOR_ENVIRONMENT=development",
             "SHIELDX_ORCHESTRATOR_DRAIN_DEADLINE=1s",
             "SHIELDX_ORCHESTRATOR_HEALTH_CHECKS=false"};
    auto proc = testing::Subprocess::Start(p);
    if (!proc.ok()) return proc.status();
    o->process_.emplace(std::move(*proc));
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (o->Admin("/readyz").status != 200) {
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("orchestrator not ready after 60 s; log ", p.log_path));
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    return o;
  }

  // `shieldx-orchestrator-cli seed-demo` for `tenant` on `host`.
  absl::Status SeedDemo(const std::string& tenant, const std::string& host,
                        const std::string& upstream, const std::string& canary) {
    absl::StatusOr<std::string> out = testing::RunCommand(
        {.argv = {std::string(SHIELDX_BINARY_DIR) + "/bin/shieldx-orchestrator-cli", "--target",
                  absl::StrCat("127.0.0.1:", grpc_port_), "seed-demo", "--tenant", tenant, "--host",
                  host, "--upstream", upstream, "--canary", canary}},
        absl::Seconds(30));
    return out.status();
  }

  testing::HttpResponse Admin(const std::string& path) {
    auto r =
        testing::HttpGet(absl::StrCat("http://127.0.0.1:", admin_port_, path), absl::Seconds(2));
    return r.ok() ? *r : testing::HttpResponse{};
  }
  std::string spoe_addr() const { return absl::StrCat("127.0.0.1:", spoe_port_); }
  std::string authz_addr() const { return absl::StrCat("127.0.0.1:", authz_port_); }
  std::string log_path() const { return dir_->path() + "/orchestrator.log"; }

  ~Orchestrator() {
    if (process_) process_->Stop(absl::Seconds(5));
  }

 private:
  Orchestrator() = default;
  std::optional<testing::TempDir> dir_;
  std::unique_ptr<testing::PgServer> pg_;
  std::unique_ptr<testing::RedisServer> redis_;
  std::unique_ptr<testing::S3Server> s3_;
  std::optional<testing::Subprocess> process_;
  int grpc_port_ = 0, admin_port_ = 0, spoe_port_ = 0, authz_port_ = 0;
};

class RealPipeline : public ::testing::TestWithParam<Proxy> {
 protected:
  static void SetUpTestSuite() {
    auto orch = Orchestrator::Start();
    ASSERT_THAT(orch, IsOk());
    orch_ = std::move(*orch).release();
    auto stack = ProxyStack::Create();
    ASSERT_THAT(stack, IsOk());
    stack_ = std::move(*stack).release();
    for (Proxy p : {Proxy::kHaproxy, Proxy::kNginx}) {
      ASSERT_THAT(orch_->SeedDemo(Tenant(p), Host(p), stack_->upstream_a().address(),
                                  stack_->upstream_b().address()),
                  IsOk());
    }
    ASSERT_THAT(stack_->StartAgainst(orch_->spoe_addr(), orch_->authz_addr(), {}), IsOk());
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
    delete orch_;
    orch_ = nullptr;
  }

  static std::string Tenant(Proxy p) { return p == Proxy::kHaproxy ? "demo-hp" : "demo-ng"; }
  static std::string Host(Proxy p) {
    return p == Proxy::kHaproxy ? "hp.demo.localhost" : "ng.demo.localhost";
  }

  void SetUp() override {
    ASSERT_NE(stack_, nullptr) << "stack failed to start";
    // The seeded configuration reaches the orchestrator's snapshot asynchronously.
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (Get("/").body != "upstream-a /\n" && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
  void TearDown() override {
    if (HasFailure() && stack_ != nullptr) {
      ADD_FAILURE() << "haproxy log:\n"
                    << stack_->HaproxyLog() << "\nnginx log:\n"
                    << stack_->NginxErrorLog() << "\norchestrator log: " << orch_->log_path();
    }
  }

  http::ClientResponse Send(http::ClientRequest req) {
    req.url =
        (GetParam() == Proxy::kHaproxy ? stack_->haproxy_url() : stack_->nginx_url()) + req.url;
    req.headers.emplace_back("Host", Host(GetParam()));
    req.headers.emplace_back("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0");
    absl::StatusOr<http::ClientResponse> r = http::Fetch(req);
    EXPECT_THAT(r, IsOk());
    return r.ok() ? *r : http::ClientResponse{};
  }
  http::ClientResponse Get(const std::string& target) {
    http::ClientRequest req;
    req.url = target;
    return Send(std::move(req));
  }

  inline static Orchestrator* orch_ = nullptr;
  inline static ProxyStack* stack_ = nullptr;
};

TEST_P(RealPipeline, BenignRequestReachesTheWebPoolWithTheDecisionHeaders) {
  http::ClientResponse r = Get("/products?page=2&sort=price");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "upstream-a /products?page=2&sort=price\n");
  EXPECT_EQ(r.headers.Get("X-Seen-X-ShieldX-Action"), "allow");
  EXPECT_FALSE(r.headers.Get("X-Seen-X-ShieldX-Request-Id").empty());
}

TEST_P(RealPipeline, SqlInjectionAndXssAreBlockedWith403) {
  for (const char* attack : {"/search?q=1%27%20OR%20%271%27=%271",
                             "/items?id=1%20UNION%20SELECT%20username,password%20FROM%20users--",
                             "/comment?text=%3Cscript%3Ealert(document.cookie)%3C/script%3E"}) {
    http::ClientResponse r = Get(attack);
    EXPECT_EQ(r.status, 403) << attack;
    EXPECT_THAT(r.body, HasSubstr("blocked")) << attack;
    EXPECT_FALSE(r.headers.Get("X-ShieldX-Request-Id").empty()) << attack;
  }
  // The attack is counted for the tenant, by category, as the runbook queries it.
  const std::string metrics = orch_->Admin("/metrics").body;
  EXPECT_THAT(metrics, HasSubstr(absl::StrCat("tenant_id=\"", Tenant(GetParam()), "\"")));
  EXPECT_THAT(metrics, HasSubstr("shieldx_attacks_detected{"));
}

TEST_P(RealPipeline, TarpitDelaysTheRequestThenForwardsIt) {
  const auto start = std::chrono::steady_clock::now();
  http::ClientResponse r = Get("/slow/report");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "upstream-a /slow/report\n");
  EXPECT_GE(took, std::chrono::milliseconds(kSlowTarpitMs - 10));
}

TEST_P(RealPipeline, DivertLandsOnTheCanaryPool) {
  http::ClientResponse r = Get("/beta/new-checkout");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "upstream-b /beta/new-checkout\n");
  EXPECT_EQ(r.headers.Get("X-Seen-X-ShieldX-Action"), "divert");
}

TEST_P(RealPipeline, RateLimitAnswers429WithRetryAfterAfterN) {
  for (int i = 0; i < kLoginLimit; ++i) EXPECT_EQ(Get("/login").status, 200) << i;
  http::ClientResponse r = Get("/login");
  EXPECT_EQ(r.status, 429);
  int retry_after = 0;
  EXPECT_TRUE(absl::SimpleAtoi(std::string(r.headers.Get("Retry-After")), &retry_after))
      << r.headers.Get("Retry-After");
  EXPECT_GT(retry_after, 0);
  EXPECT_LE(retry_after, 60);
  // Other paths of the same client are not limited.
  EXPECT_EQ(Get("/products").status, 200);
}

TEST_P(RealPipeline, BenignRequestsThatLookSuspiciousAreNotBlocked) {
  // Text customers send every day: SQL words in English, an apostrophe in a name, a URL.
  for (const char* benign :
       {"/search?q=select%20the%20best%20union%20jack%20flag",
        "/profile?name=O%27Brien&city=Dublin", "/share?url=https%3A%2F%2Fexample.org%2Fa%3Fb%3Dc",
        "/search?q=%E6%9D%B1%E4%BA%AC%20%E3%83%9B%E3%83%86%E3%83%AB"}) {
    http::ClientResponse r = Get(benign);
    EXPECT_EQ(r.status, 200) << benign;
  }
}

// HAProxy buffers bodies and sends them to the agent: an attack in a form post is found.
TEST_P(RealPipeline, AttackInAPostedFormIsBlockedByHaproxy) {
  if (GetParam() != Proxy::kHaproxy) GTEST_SKIP() << "nginx auth_request cannot send bodies";
  http::ClientRequest req;
  req.method = "POST";
  req.url = "/account/update";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  req.body = "name=alice&bio=x%27%20UNION%20SELECT%20password%20FROM%20users--";
  EXPECT_EQ(Send(req).status, 403);
  req.body = "name=alice&bio=I%20like%20hiking%20and%20tea";
  http::ClientResponse ok = Send(req);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "upstream-a /account/update\n");
}

INSTANTIATE_TEST_SUITE_P(Proxies, RealPipeline, ::testing::Values(Proxy::kHaproxy, Proxy::kNginx),
                         ProxyName);

}  // namespace
}  // namespace shieldx::proxies_test
