// shieldx-orchestrator-cli: operator commands against a running shieldx-orchestrator over gRPC.
//
//   shieldx-orchestrator-cli --target HOST:PORT seed-demo [--tenant demo]
//       [--host demo.localhost] [--upstream 127.0.0.1:8080] [--canary 127.0.0.1:8081]
//       Creates the demo configuration: pools "web" (--upstream) and "canary" (--canary), site
//       "demo" for --host (and *.--host), rule set "demo" (tarpit /slow, divert /beta to canary,
//       rate limit /login to 5 per minute per client, block /admin outside 10.0.0.0/8) and
//       route "all" (/ on web, credit cost 1). Safe to run again: an existing site named "demo"
//       means the tenant is seeded (exit 0, nothing changed).
//   shieldx-orchestrator-cli --target HOST:PORT evaluate --tenant T --host H --path P
//       [--query Q] [--method M] [--ip A]     prints the decision as text
// The caller identity sent is the operator service actor "shieldx-orchestrator-cli".
// Exit codes: 0 success, 1 RPC failure (one line on stderr), 2 usage error.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "libs/rpc/client.h"
#include "libs/rpc/status.h"
#include "shieldx/common/v1/tenant.pb.h"
#include "shieldx/orchestrator/v1/orchestrator.grpc.pb.h"

namespace {

namespace v1 = shieldx::orchestrator::v1;

constexpr int64_t kDeadlineMs = 10'000;

constexpr char kDemoRules[] = R"rules(
rule "admin only from the office" {
  when http.path starts_with "/admin" and not ip.src in {"10.0.0.0/8", "127.0.0.0/8"}
  then tag("admin"), block(403)
}
rule "slow down" { when http.path starts_with "/slow" then tarpit(1000) }
rule "beta users" { when http.path starts_with "/beta" then divert("canary") }
rule "login" { when http.path == "/login" then rate_limit(ip.src, 5 per 1m) }

test "admin blocked from outside" { request { path "/admin" ip "203.0.113.9" } expect block(403) }
test "slow is tarpitted" { request { path "/slow" } expect tarpit(1000) }
test "beta is diverted" { request { path "/beta/x" } expect divert("canary") }
)rules";

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "shieldx-orchestrator-cli: %s\nusage: shieldx-orchestrator-cli --target HOST:PORT "
               "(seed-demo [--tenant T] [--host H] [--upstream A] [--canary A] | evaluate "
               "--tenant T --host H --path P [--query Q] [--method M] [--ip A])\n",
               why.c_str());
  return 2;
}

std::string ActorBin(const std::string& tenant) {
  shieldx::common::v1::Actor a;
  a.set_kind(shieldx::common::v1::ACTOR_KIND_SERVICE);
  a.set_actor_id("shieldx-orchestrator-cli");
  a.set_tenant_id(tenant);
  for (const char* p : {"decisions.evaluate", "decisions.read", "config.read", "config.write",
                        "rulesets.read", "rulesets.write", "rulesets.activate"}) {
    a.add_permissions(p);
  }
  return a.SerializeAsString();
}

struct Cli {
  std::unique_ptr<v1::ConfigService::Stub> config;
  std::unique_ptr<v1::DecisionService::Stub> decisions;
  std::string actor;

  std::unique_ptr<grpc::ClientContext> Ctx() {
    auto c = shieldx::rpc::MakeClientContext(kDeadlineMs);
    c->AddMetadata("x-shieldx-actor-bin", actor);
    return c;
  }
};

int Fail(const char* what, const grpc::Status& s) {
  std::fprintf(stderr, "shieldx-orchestrator-cli: %s: %s\n", what,
               std::string(shieldx::rpc::GrpcToStatus(s).ToString()).c_str());
  return 1;
}

int SeedDemo(Cli& cli, std::map<std::string, std::string>& f) {
  const std::string tenant = f["tenant"];
  v1::ListSitesRequest ls;
  ls.set_tenant_id(tenant);
  ls.mutable_page()->set_page_size(1000);
  v1::ListSitesResponse sites;
  if (grpc::Status s = cli.config->ListSites(cli.Ctx().get(), ls, &sites); !s.ok()) {
    return Fail("ListSites", s);
  }
  for (const v1::Site& site : sites.sites()) {
    if (site.name() == "demo") {
      std::printf("tenant %s already seeded (site %s)\n", tenant.c_str(), site.site_id().c_str());
      return 0;
    }
  }
  std::map<std::string, std::string> pool_ids;
  for (const auto& [name, address] :
       std::map<std::string, std::string>{{"web", f["upstream"]}, {"canary", f["canary"]}}) {
    v1::CreatePoolRequest req;
    req.set_tenant_id(tenant);
    req.mutable_pool()->set_name(name);
    v1::PoolMember* m = req.mutable_pool()->add_members();
    m->set_member_id("m1");
    m->set_address(address);
    m->set_weight(1);
    req.mutable_pool()->mutable_circuit_breaker()->set_consecutive_failures(5);
    req.mutable_pool()->mutable_circuit_breaker()->set_open_ms(10'000);
    v1::CreatePoolResponse resp;
    if (grpc::Status s = cli.config->CreatePool(cli.Ctx().get(), req, &resp); !s.ok()) {
      return Fail("CreatePool", s);
    }
    pool_ids[name] = resp.pool().pool_id();
  }
  v1::CreateSiteRequest sr;
  sr.set_tenant_id(tenant);
  sr.mutable_site()->set_name("demo");
  sr.mutable_site()->add_hostnames(f["host"]);
  sr.mutable_site()->add_hostnames(absl::StrCat("*.", f["host"]));
  sr.mutable_site()->set_default_pool_id(pool_ids["web"]);
  sr.mutable_site()->set_session_cookie_name("sid");
  v1::CreateSiteResponse site;
  if (grpc::Status s = cli.config->CreateSite(cli.Ctx().get(), sr, &site); !s.ok()) {
    return Fail("CreateSite", s);
  }
  v1::CreateRuleSetRequest rr;
  rr.set_tenant_id(tenant);
  rr.mutable_rule_set()->set_name("demo");
  rr.mutable_rule_set()->set_description("demo rules: tarpit, divert, rate limit, admin block");
  v1::CreateRuleSetResponse rs;
  if (grpc::Status s = cli.config->CreateRuleSet(cli.Ctx().get(), rr, &rs); !s.ok()) {
    return Fail("CreateRuleSet", s);
  }
  v1::CreateRuleSetVersionRequest vr;
  vr.set_tenant_id(tenant);
  vr.set_rule_set_id(rs.rule_set().rule_set_id());
  vr.set_source(kDemoRules);
  vr.set_change_note("demo seed");
  v1::CreateRuleSetVersionResponse version;
  if (grpc::Status s = cli.config->CreateRuleSetVersion(cli.Ctx().get(), vr, &version); !s.ok()) {
    return Fail("CreateRuleSetVersion", s);
  }
  v1::ActivateRuleSetRequest ar;
  ar.set_tenant_id(tenant);
  ar.set_rule_set_id(rs.rule_set().rule_set_id());
  ar.set_version(version.version().version());
  v1::ActivateRuleSetResponse activated;
  if (grpc::Status s = cli.config->ActivateRuleSet(cli.Ctx().get(), ar, &activated); !s.ok()) {
    return Fail("ActivateRuleSet", s);
  }
  v1::CreateRouteRequest route;
  route.set_tenant_id(tenant);
  v1::Route* r = route.mutable_route();
  r->set_name("all");
  r->set_site_id(site.site().site_id());
  r->mutable_match()->set_path_prefix("/");
  r->set_pool_id(pool_ids["web"]);
  r->set_rule_set_id(rs.rule_set().rule_set_id());
  r->set_credit_cost_credits(1);
  v1::CreateRouteResponse created;
  if (grpc::Status s = cli.config->CreateRoute(cli.Ctx().get(), route, &created); !s.ok()) {
    return Fail("CreateRoute", s);
  }
  std::printf("seeded tenant %s: site %s (%s), route %s, rule set %s v%lld, config version %lld\n",
              tenant.c_str(), site.site().site_id().c_str(), f["host"].c_str(),
              created.route().route_id().c_str(), rs.rule_set().rule_set_id().c_str(),
              static_cast<long long>(version.version().version()),
              static_cast<long long>(created.config_version()));
  return 0;
}

int Evaluate(Cli& cli, std::map<std::string, std::string>& f) {
  if (f["tenant"].empty() || f["host"].empty()) return Usage("evaluate needs --tenant and --host");
  v1::EvaluateRequest req;
  req.set_tenant_id(f["tenant"]);
  shieldx::common::v1::HttpRequest* h = req.mutable_request();
  h->set_method(f["method"].empty() ? "GET" : f["method"]);
  h->set_host(f["host"]);
  h->set_path(f["path"].empty() ? "/" : f["path"]);
  h->set_query(f["query"]);
  h->set_client_ip(f["ip"].empty() ? "198.51.100.7" : f["ip"]);
  v1::EvaluateResponse resp;
  if (grpc::Status s = cli.decisions->Evaluate(cli.Ctx().get(), req, &resp); !s.ok()) {
    return Fail("Evaluate", s);
  }
  const auto& d = resp.decision();
  std::string tags;
  for (const std::string& t : d.tags()) absl::StrAppend(&tags, tags.empty() ? "" : ",", t);
  std::printf("action=%s status=%u upstream=%s score=%d rule=%s tags=%s explanation=%s\n",
              shieldx::common::v1::Action_Name(d.action()).c_str(), d.status_code(),
              d.upstream().address().c_str(), d.score(), d.rule_id().c_str(), tags.c_str(),
              d.explanation().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> f = {{"tenant", "demo"},
                                          {"host", "demo.localhost"},
                                          {"upstream", "127.0.0.1:8080"},
                                          {"canary", "127.0.0.1:8081"}};
  std::string command;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0) {
      if (i + 1 >= argc) return Usage(absl::StrCat(a, " needs a value"));
      f[a.substr(2)] = argv[++i];
    } else if (command.empty()) {
      command = a;
    } else {
      return Usage(absl::StrCat("unexpected argument ", a));
    }
  }
  if (f["target"].empty()) return Usage("--target is required");
  auto channel = shieldx::rpc::MakeChannel(f["target"], shieldx::rpc::ClientOptions{});
  if (!channel.ok()) return Usage(std::string(channel.status().message()));
  Cli cli;
  cli.config = v1::ConfigService::NewStub(*channel);
  cli.decisions = v1::DecisionService::NewStub(*channel);
  cli.actor = ActorBin(f["tenant"]);
  if (command == "seed-demo") return SeedDemo(cli, f);
  if (command == "evaluate") return Evaluate(cli, f);
  return Usage(command.empty() ? "no command" : absl::StrCat("unknown command ", command));
}
