// The decision pipeline end to end on in-memory dependencies.
#include "libs/pipeline/pipeline.h"

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/base/clock.h"
#include "libs/pipeline/pipeline_test_util.h"
#include "libs/pipeline/request_view.h"
#include "prometheus/text_serializer.h"

namespace shieldx::pipeline {
namespace {

using testing::AddActiveRuleSet;
using testing::BasicTenant;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Req;

class FakeRisk : public RiskSource {
 public:
  absl::StatusOr<std::optional<double>> Risk(std::string_view tenant_id,
                                             std::string_view session_id) override {
    if (unavailable) return absl::UnavailableError("redis down");
    auto it = risks.find(absl::StrCat(absl::string_view(tenant_id.data(), tenant_id.size()), "/",
                                      absl::string_view(session_id.data(), session_id.size())));
    if (it == risks.end()) return std::optional<double>();
    return std::optional<double>(it->second);
  }
  std::map<std::string, double> risks;
  bool unavailable = false;
};

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    metrics_ = std::make_unique<PipelineMetrics>(registry_);
    usage_ = std::make_unique<UsageMeter>(nullptr, &clock_, UsageMeterOptions{.replica_id = "r1"});
    PipelineDeps deps;
    deps.clock = &clock_;
    deps.rate_limiter = &limiter_;
    deps.risk = &risk_;
    deps.events = &events_;
    deps.metrics = metrics_.get();
    auto p = Pipeline::Create(PipelineOptions{.replica_id = "r1"}, deps);
    ASSERT_TRUE(p.ok()) << p.status();
    pipeline_ = std::move(*p);
  }

  void Load(const TenantConfig& c, int64_t version = 1) {
    CompileContext ctx{&members_, usage_.get(), metrics_.get(), 1'700'000'000};
    auto t = CompileTenant(c, ctx);
    ASSERT_TRUE(t.ok()) << t.status();
    std::map<std::string, std::shared_ptr<const CompiledTenant>, std::less<>> tenants;
    tenants[c.tenant_id] = *t;
    pipeline_->SetSnapshot(Snapshot::Assemble(version, std::move(tenants)));
  }

  Decision Decide(const Req& r, RequestContext ctx = {}) { return pipeline_->Decide(r.view, ctx); }

  std::string Metrics() {
    metrics_->Fold();
    prometheus::TextSerializer s;
    std::ostringstream out;
    s.Serialize(out, registry_.Collect());
    return out.str();
  }

  FakeClock clock_{absl::FromUnixSeconds(1'700'000'000)};
  prometheus::Registry registry_;
  std::unique_ptr<PipelineMetrics> metrics_;
  LocalRateLimiter limiter_{&clock_};
  FakeRisk risk_;
  EventQueue events_{1024};
  MemberStateRegistry members_;
  std::unique_ptr<UsageMeter> usage_;
  std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(PipelineTest, WithoutASnapshotItFailsClosedWith503) {
  Decision d = Decide(Req("/"));
  EXPECT_EQ(d.action, Action::kBlock);
  EXPECT_EQ(d.status, 503);
  EXPECT_THAT(d.explanation, HasSubstr("no configuration"));
}

TEST_F(PipelineTest, BenignRequestIsAllowedAndRoutedToThePool) {
  Load(BasicTenant());
  Decision d = Decide(Req("/products?id=42"));
  EXPECT_EQ(d.action, Action::kAllow) << d.explanation;
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.tenant_id, "acme");
  EXPECT_EQ(d.site_id, "s1");
  EXPECT_EQ(d.route_id, "r-root");
  EXPECT_EQ(d.pool, "p-web");
  EXPECT_THAT(d.upstream, ::testing::AnyOf("10.0.0.1:80", "10.0.0.2:80"));
  EXPECT_EQ(d.config_version, 1u);
  EXPECT_FALSE(d.request_id.empty());
}

TEST_F(PipelineTest, SqlInjectionIsBlockedWith403AndCounted) {
  Load(BasicTenant());
  Decision d = Decide(Req("/products?id=1%27%20OR%201%3D1--"));
  EXPECT_EQ(d.action, Action::kBlock) << d.explanation;
  EXPECT_EQ(d.status, 403);
  EXPECT_THAT(d.categories, Contains("sqli"));
  EXPECT_GE(d.score, 5);
  EXPECT_TRUE(d.upstream.empty());
  EXPECT_THAT(Metrics(), HasSubstr("shieldx_attacks_detected{action=\"block\",category=\"sqli\","
                                   "tenant_id=\"acme\"} 1"));
}

// A route's detection exclusions reach the engine with every request on that route: the
// excluded field's finding no longer blocks and the decision names the exclusion; the same
// payload in another field is still blocked.
TEST_F(PipelineTest, RouteDetectionExclusionsDropOnlyTheirFieldsFindings) {
  TenantConfig c = BasicTenant();
  v1::DetectionExclusion* ex = c.routes[0].add_detection_exclusions();
  ex->set_id("search-sql");
  ex->add_fields("query:q");
  ex->add_categories("sqli");
  Load(c);
  Decision excluded = Decide(Req("/products?q=1%27%20OR%201%3D1--"));
  EXPECT_EQ(excluded.action, Action::kAllow) << excluded.explanation;
  EXPECT_THAT(excluded.tags, Contains("exclusion:search-sql"));
  EXPECT_THAT(excluded.categories, ::testing::Not(Contains("sqli")));
  Decision other_field = Decide(Req("/products?id=1%27%20OR%201%3D1--"));
  EXPECT_EQ(other_field.action, Action::kBlock) << other_field.explanation;
  EXPECT_THAT(other_field.tags, ::testing::Not(Contains("exclusion:search-sql")));
  // Without the exclusion the excluded request is blocked (the test would pass vacuously
  // otherwise).
  Load(BasicTenant(), 2);
  EXPECT_EQ(Decide(Req("/products?q=1%27%20OR%201%3D1--")).action, Action::kBlock);
}

// Ten exclusions that all drop a finding name only the first kMaxExclusionTags of them.
TEST_F(PipelineTest, ExclusionTagsAreBounded) {
  TenantConfig c = BasicTenant();
  std::string uri = "/products?";
  for (int i = 0; i < 10; ++i) {
    v1::DetectionExclusion* ex = c.routes[0].add_detection_exclusions();
    ex->set_id(absl::StrCat("e", i));
    ex->add_fields(absl::StrCat("query:a", i));
    ex->add_categories("sqli");
    absl::StrAppend(&uri, i ? "&" : "", "a", i, "=1%27%20OR%201%3D1--");
  }
  Load(c);
  Decision d = Decide(Req(uri));
  EXPECT_EQ(d.action, Action::kAllow) << d.explanation;
  int named = 0;
  for (const std::string& t : d.tags) named += absl::StartsWith(t, "exclusion:");
  EXPECT_EQ(named, static_cast<int>(kMaxExclusionTags));
  EXPECT_THAT(d.tags, Contains("exclusion:e0"));
}

TEST_F(PipelineTest, UnknownHostGets421AndNoTenant) {
  Load(BasicTenant());
  Decision d = Decide(Req("/", "GET", "other.example"));
  EXPECT_EQ(d.action, Action::kBlock);
  EXPECT_EQ(d.status, 421);
  EXPECT_TRUE(d.tenant_id.empty());
}

TEST_F(PipelineTest, WildcardAndPortAndCaseResolveTheSite) {
  Load(BasicTenant());
  EXPECT_EQ(Decide(Req("/", "GET", "API.Shop.Example:8443")).site_id, "s1");
  EXPECT_EQ(Decide(Req("/", "GET", "shop.example.")).site_id, "s1");
  EXPECT_TRUE(Decide(Req("/", "GET", "evilshop.example")).site_id.empty());
}

TEST_F(PipelineTest, TenantScopedContextRejectsAnotherTenantsHost) {
  Load(BasicTenant());
  RequestContext ctx;
  ctx.tenant_id = "globex";
  Decision d = Decide(Req("/"), ctx);
  EXPECT_EQ(d.status, 421);
  EXPECT_TRUE(d.tenant_id.empty());
}

TEST_F(PipelineTest, RoutesMatchByPriorityPrefixBoundaryRegexAndMethod) {
  TenantConfig c = BasicTenant();
  v1::Route api;
  api.set_route_id("r-api");
  api.set_site_id("s1");
  api.set_name("api");
  api.mutable_match()->set_path_prefix("/api");
  api.mutable_match()->add_methods("post");
  c.routes.push_back(api);
  v1::Route rx;
  rx.set_route_id("r-rx");
  rx.set_site_id("s1");
  rx.set_name("images");
  rx.mutable_match()->set_path_regex("/img/[0-9]+\\.png");
  c.routes.push_back(rx);
  v1::Route high;
  high.set_route_id("r-high");
  high.set_site_id("s1");
  high.set_name("admin");
  high.set_priority(10);
  high.mutable_match()->set_path_prefix("/");
  high.mutable_match()->add_hosts("admin.shop.example");
  c.routes.push_back(high);
  Load(c);
  EXPECT_EQ(Decide(Req("/api/x", "POST")).route_id, "r-api");
  EXPECT_EQ(Decide(Req("/api", "POST")).route_id, "r-api");
  EXPECT_EQ(Decide(Req("/api/x", "GET")).route_id, "r-root");
  EXPECT_EQ(Decide(Req("/apix", "POST")).route_id, "r-root");
  EXPECT_EQ(Decide(Req("/img/12.png")).route_id, "r-rx");
  EXPECT_EQ(Decide(Req("/img/12.png/x")).route_id, "r-root");
  EXPECT_EQ(Decide(Req("/x/../api/%61", "POST")).route_id, "r-api");  // normalised path
  EXPECT_EQ(Decide(Req("/api/x", "POST", "admin.shop.example")).route_id, "r-high");
}

TEST_F(PipelineTest, DenyListBlocksAndAllowListSkipsDetection) {
  TenantConfig c = BasicTenant();
  v1::IpList deny;
  deny.set_name("bad");
  deny.set_purpose(v1::IP_LIST_PURPOSE_DENY);
  deny.add_entries()->set_cidr("203.0.113.0/24");
  c.ip_lists.push_back(deny);
  v1::IpList allow;
  allow.set_name("scanners_we_pay_for");
  allow.set_purpose(v1::IP_LIST_PURPOSE_ALLOW);
  allow.add_entries()->set_cidr("192.0.2.10");
  c.ip_lists.push_back(allow);
  Load(c);
  Decision denied = Decide(Req("/", "GET", "shop.example", "203.0.113.77"));
  EXPECT_EQ(denied.action, Action::kBlock);
  EXPECT_EQ(denied.rule_id, "ip_list:bad");
  Decision allowed = Decide(Req("/?id=1%27%20OR%201%3D1--", "GET", "shop.example", "192.0.2.10"));
  EXPECT_EQ(allowed.action, Action::kAllow);
  EXPECT_THAT(allowed.tags, Contains("allow_list:scanners_we_pay_for"));
}

TEST_F(PipelineTest, ExpiredDenyListEntriesNoLongerApply) {
  TenantConfig c = BasicTenant();
  v1::IpList deny;
  deny.set_name("bad");
  deny.set_purpose(v1::IP_LIST_PURPOSE_DENY);
  v1::IpListEntry* e = deny.add_entries();
  e->set_cidr("203.0.113.0/24");
  e->mutable_expires_at()->set_seconds(1'600'000'000);  // before the compile time
  c.ip_lists.push_back(deny);
  Load(c);
  EXPECT_EQ(Decide(Req("/", "GET", "shop.example", "203.0.113.77")).action, Action::kAllow);
}

TEST_F(PipelineTest, RouteRateLimitAnswers429AfterLimitPlusBurst) {
  TenantConfig c = BasicTenant();
  v1::RateLimit* rl = c.routes[0].add_rate_limits();
  rl->set_name("per_ip");
  rl->set_key_expression("ip.src");
  rl->set_requests_per_window(3);
  rl->set_window_ms(60'000);
  rl->set_burst(1);
  Load(c);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Decide(Req("/")).action, Action::kAllow) << i;
  Decision d = Decide(Req("/"));
  EXPECT_EQ(d.action, Action::kRateLimit);
  EXPECT_EQ(d.status, 429);
  EXPECT_GE(d.retry_after_s, 1);
  EXPECT_EQ(d.rule_id, "rate_limit:per_ip");
  // Another client has its own bucket.
  EXPECT_EQ(Decide(Req("/", "GET", "shop.example", "198.51.100.8")).action, Action::kAllow);
  // The bucket refills: 20 s is one token at 3 per minute.
  clock_.Advance(absl::Seconds(21));
  EXPECT_EQ(Decide(Req("/")).action, Action::kAllow);
  EXPECT_THAT(Metrics(), HasSubstr("shieldx_rate_limit_hits_total{backend=\"local\","
                                   "source=\"route\",tenant_id=\"acme\"} 1"));
}

TEST_F(PipelineTest, DryRunLeavesRateLimitCountersAndEventsAlone) {
  TenantConfig c = BasicTenant();
  v1::RateLimit* rl = c.routes[0].add_rate_limits();
  rl->set_name("tight");
  rl->set_requests_per_window(1);
  rl->set_window_ms(60'000);
  Load(c);
  RequestContext ctx;
  ctx.dry_run = true;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Decide(Req("/"), ctx).action, Action::kAllow);
  std::vector<std::unique_ptr<DecisionEvent>> out;
  EXPECT_EQ(events_.Drain(&out, 100), 0u);
  EXPECT_EQ(Decide(Req("/")).action, Action::kAllow);  // the bucket is still full
}

TEST_F(PipelineTest, PolicyActionsTarpitDivertBlockAndRuleOverridesDetection) {
  TenantConfig c = BasicTenant();
  AddActiveRuleSet(c, "r-root", R"(
rule "slow" { when http.path starts_with "/slow" then tarpit(1500) }
rule "beta" { when http.cookie["beta"] == "1" then divert("canary") }
rule "legal" { when http.path == "/forbidden" then block(451) }
rule "trusted" { when http.header["x-internal"] == "yes" then allow }
)");
  Load(c);
  Decision slow = Decide(Req("/slow/page"));
  EXPECT_EQ(slow.action, Action::kTarpit);
  EXPECT_EQ(slow.tarpit_ms, 1500);
  EXPECT_EQ(slow.pool, "p-web");
  EXPECT_FALSE(slow.upstream.empty());
  Decision beta = Decide(Req("/").Header("Cookie", "a=b; beta=1"));
  EXPECT_EQ(beta.action, Action::kDivert);
  EXPECT_EQ(beta.pool, "p-canary");
  EXPECT_EQ(beta.upstream, "10.0.1.1:80");
  EXPECT_EQ(beta.rule_id, "beta");
  Decision legal = Decide(Req("/forbidden"));
  EXPECT_EQ(legal.action, Action::kBlock);
  EXPECT_EQ(legal.status, 451);
  EXPECT_EQ(legal.rule_set_id, "rs1");
  EXPECT_EQ(legal.rule_set_version, 1);
  // No rule matches an SQLi: detection still blocks it.
  EXPECT_EQ(Decide(Req("/?q=1%27%20OR%201%3D1--")).action, Action::kBlock);
  // An explicit allow rule wins over detection.
  EXPECT_EQ(Decide(Req("/?q=1%27%20OR%201%3D1--").Header("X-Internal", "yes")).action,
            Action::kAllow);
}

TEST_F(PipelineTest, PolicyRateLimitAppliesToMatchingRequestsOnly) {
  TenantConfig c = BasicTenant();
  AddActiveRuleSet(c, "r-root", R"(
rule "login" { when http.path == "/login" then rate_limit(ip.src, 2 per 1m) }
)");
  Load(c);
  EXPECT_EQ(Decide(Req("/login", "POST")).action, Action::kAllow);
  EXPECT_EQ(Decide(Req("/login", "POST")).action, Action::kAllow);
  Decision d = Decide(Req("/login", "POST"));
  EXPECT_EQ(d.action, Action::kRateLimit);
  EXPECT_EQ(d.rule_id, "login");
  EXPECT_EQ(Decide(Req("/home")).action, Action::kAllow);
}

TEST_F(PipelineTest, MonitorModeReportsTheActionButStillRoutes) {
  TenantConfig c = BasicTenant();
  c.routes[0].set_mode(v1::ROUTE_MODE_MONITOR);
  Load(c);
  Decision d = Decide(Req("/?id=1%27%20OR%201%3D1--"));
  EXPECT_TRUE(d.monitor_only);
  EXPECT_EQ(d.action, Action::kBlock);  // what enforcement would do
  EXPECT_FALSE(d.upstream.empty());     // the proxy forwards
  EXPECT_THAT(Metrics(),
              HasSubstr("shieldx_attacks_detected{action=\"monitor\",category=\"sqli\""));
}

TEST_F(PipelineTest, ContAuthRiskChallengesOrBlocksAboveThresholds) {
  TenantConfig c = BasicTenant();
  v1::ContAuthPolicy* ca = c.routes[0].mutable_contauth();
  ca->set_mode(v1::CONT_AUTH_MODE_CACHED);
  ca->set_challenge_threshold(0.6);
  ca->set_block_threshold(0.9);
  Load(c);
  risk_.risks["acme/low"] = 0.1;
  risk_.risks["acme/mid"] = 0.7;
  risk_.risks["acme/high"] = 0.95;
  EXPECT_EQ(Decide(Req("/").Header("Cookie", "sid=low")).action, Action::kAllow);
  Decision mid = Decide(Req("/").Header("Cookie", "sid=mid"));
  EXPECT_EQ(mid.action, Action::kChallenge);
  EXPECT_DOUBLE_EQ(mid.auth_risk, 0.7);
  EXPECT_EQ(Decide(Req("/").Header("Cookie", "sid=high")).action, Action::kBlock);
  EXPECT_EQ(Decide(Req("/")).auth_risk, -1);  // no session: unknown
}

TEST_F(PipelineTest, ContAuthOutageFollowsTheRouteFailureMode) {
  TenantConfig c = BasicTenant();
  v1::ContAuthPolicy* ca = c.routes[0].mutable_contauth();
  ca->set_mode(v1::CONT_AUTH_MODE_CACHED);
  ca->set_challenge_threshold(0.6);
  ca->set_failure_mode(v1::FAILURE_MODE_FAIL_CLOSED);
  Load(c);
  risk_.unavailable = true;
  Decision d = Decide(Req("/").Header("Cookie", "sid=x"));
  EXPECT_EQ(d.action, Action::kChallenge);
  EXPECT_THAT(d.tags, Contains("contauth_unavailable"));
  c.routes[0].mutable_contauth()->set_failure_mode(v1::FAILURE_MODE_FAIL_OPEN);
  Load(c, 2);
  EXPECT_EQ(Decide(Req("/").Header("Cookie", "sid=x")).action, Action::kAllow);
}

TEST_F(PipelineTest, CreditsAreCountedAndExhaustionFollowsTheTenantSetting) {
  TenantConfig c = BasicTenant();
  c.routes[0].set_credit_cost_credits(3);
  c.settings.set_out_of_credits(v1::OUT_OF_CREDITS_BEHAVIOUR_BLOCK);
  Load(c);
  EXPECT_EQ(Decide(Req("/")).action, Action::kAllow);
  EXPECT_EQ(Decide(Req("/")).action, Action::kAllow);
  EXPECT_EQ(usage_->Counter("acme", "r-root")->credits.load(), 6);
  usage_->Tenant("acme")->exhausted.store(true);
  Decision d = Decide(Req("/"));
  EXPECT_EQ(d.action, Action::kBlock);
  EXPECT_EQ(d.status, 402);
  c.settings.set_out_of_credits(v1::OUT_OF_CREDITS_BEHAVIOUR_ALLOW_AND_FLAG);
  Load(c, 2);
  Decision flagged = Decide(Req("/"));
  EXPECT_EQ(flagged.action, Action::kAllow);
  EXPECT_THAT(flagged.tags, Contains("credits_exhausted"));
}

TEST_F(PipelineTest, EventsAreRedactedAndBlockedRequestsCarryEvidenceNames) {
  TenantConfig c = BasicTenant();
  c.settings.set_evidence_sample_rate(1.0);
  Load(c);
  Decide(Req("/search?q=1%27%20OR%201%3D1--&token=supersecret").Header("Cookie", "sid=abc"));
  std::vector<std::unique_ptr<DecisionEvent>> out;
  ASSERT_EQ(events_.Drain(&out, 10), 1u);
  const DecisionEvent& e = *out[0];
  EXPECT_EQ(e.action, "block");
  EXPECT_EQ(e.tenant_id, "acme");
  EXPECT_EQ(e.path, "/search");  // no query
  EXPECT_TRUE(e.evidence);
  EXPECT_THAT(e.arg_names, Contains("token"));
  EXPECT_THAT(e.cookie_names, Contains("sid"));
  for (const EventFinding& f : e.findings) EXPECT_THAT(f.excerpt, Not(HasSubstr("supersecret")));
  EXPECT_THAT(e.explanation, Not(HasSubstr("supersecret")));
}

TEST_F(PipelineTest, OutcomeReportsOpenTheCircuitBreaker) {
  TenantConfig c = BasicTenant();
  c.pools[0].mutable_circuit_breaker()->set_consecutive_failures(2);
  c.pools[0].mutable_circuit_breaker()->set_open_ms(10'000);
  Load(c);
  for (int i = 0; i < 2; ++i) {
    pipeline_->ReportOutcome(
        {.tenant_id = "acme", .pool = "p-web", .member_id = "m1", .status = 502});
  }
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Decide(Req("/")).upstream, "10.0.0.2:80");
}

TEST_F(PipelineTest, SnapshotSwapsUnderConcurrentDecisions) {
  Load(BasicTenant());
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      Req r("/products?id=7");
      while (!stop.load()) {
        Decision d = pipeline_->Decide(r.view, {});
        if (d.action != Action::kAllow || d.upstream.empty()) bad.fetch_add(1);
      }
    });
  }
  for (int v = 2; v < 50; ++v) Load(BasicTenant(), v);
  stop.store(true);
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(Decide(Req("/")).config_version, 49u);
}

TEST(SnapshotCompile, ErrorsNameTheObjectAndField) {
  MemberStateRegistry members;
  CompileContext ctx{&members, nullptr, nullptr, 0};
  TenantConfig c = BasicTenant();
  c.routes[0].mutable_match()->set_path_regex("/a(");
  auto t = CompileTenant(c, ctx);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("route root: match.path_regex"));

  c = BasicTenant();
  AddActiveRuleSet(c, "r-root", "rule \"x\" { when http.pth == \"/\" then block }");
  t = CompileTenant(c, ctx);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("rs1@v1:1:"));

  c = BasicTenant();
  c.routes[0].set_pool_id("nope");
  t = CompileTenant(c, ctx);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("pool_id: no pool nope"));

  c = BasicTenant();
  v1::RateLimit* rl = c.routes[0].add_rate_limits();
  rl->set_name("x");
  rl->set_key_expression("http.nonsense");
  rl->set_requests_per_window(1);
  rl->set_window_ms(1000);
  t = CompileTenant(c, ctx);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("rate_limits.key_expression"));

  c = BasicTenant();
  v1::DetectionExclusion* ex = c.routes[0].add_detection_exclusions();
  ex->set_id("x");
  ex->add_categories("sqlinjection");
  t = CompileTenant(c, ctx);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()),
              HasSubstr("route root: detection_exclusions[0]: categories[0]: unknown category"));
}

TEST(SnapshotAssemble, AHostnameClaimedByTwoTenantsIsReported) {
  MemberStateRegistry members;
  CompileContext ctx{&members, nullptr, nullptr, 0};
  std::map<std::string, std::shared_ptr<const CompiledTenant>, std::less<>> tenants;
  tenants["acme"] = *CompileTenant(BasicTenant("acme"), ctx);
  tenants["globex"] = *CompileTenant(BasicTenant("globex"), ctx);
  std::vector<std::string> conflicts;
  auto snap = Snapshot::Assemble(3, tenants, &conflicts);
  EXPECT_FALSE(conflicts.empty());
  EXPECT_EQ(snap->ResolveHost("shop.example").tenant->tenant_id, "acme");
}

TEST(RequestViewTest, NormalisesPathsAndDecodesArguments) {
  std::string out;
  NormalizePath("/a//b/./c/../d", &out);
  EXPECT_EQ(out, "/a/b/d");
  NormalizePath("/../../etc/passwd", &out);
  EXPECT_EQ(out, "/etc/passwd");
  NormalizePath("/%2e%2e/admin/", &out);
  EXPECT_EQ(out, "/admin/");
  NormalizePath("", &out);
  EXPECT_EQ(out, "/");
  NormalizePath("\\admin\\x", &out);
  EXPECT_EQ(out, "/admin/x");
  Req r("/p?a=1&b=x+y%21&c");
  RequestView v;
  v.Build(r.view, "", 1024);
  ASSERT_EQ(v.args().size(), 3u);
  EXPECT_EQ(v.args()[1].name, "b");
  EXPECT_EQ(v.args()[1].value, "x y!");
  EXPECT_EQ(v.host(), "shop.example");
  EXPECT_EQ(v.Header("user-agent").substr(0, 7), "Mozilla");
}

}  // namespace
}  // namespace shieldx::pipeline
