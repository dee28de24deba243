// Micro benchmark of CompiledPolicy::Evaluate on a typical 10-rule set.
//   ninja -C build policy_bench && build/bin/policy_bench
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "benchmark/benchmark.h"
#include "libs/policy/policy.h"

namespace shieldx::policy {
namespace {

constexpr char kTenRules[] = R"policy(
rule "office admin" {
  when http.path starts_with "/admin" and ip.src not in $office
  then tag("admin"), block(403)
}
rule "bad bots" {
  when http.header["user-agent"] matches r"(?i)(sqlmap|nikto|nmap|masscan)"
  then tag("scanner"), block(403)
}
rule "waf high" { when waf.score >= 8 then tag("waf"), log, block(403) }
rule "sqli" { when "sqli" in waf.category and waf.score >= 4 then tag("sqli"), challenge }
rule "risky session" { when auth.risk > 0.8 and http.method in {"POST", "PUT", "DELETE"}
  then challenge }
rule "login limit" { when http.path == "/login" and http.method == "POST"
  then rate_limit(ip.src, 10 per 60s, burst 5) }
rule "slow scrapers" { when rate["requests_per_ip"] > 600 then tarpit(2s) }
rule "beta" { when http.cookie["beta"] == "1" and route.id == "shop" then divert("canary") }
rule "night writes" { when time.hour < 5 and http.method != "GET" then log }
rule "big query" { when len(http.query) > 4096 then block(414) }
)policy";

std::shared_ptr<const CompiledPolicy> Compile() {
  CompileOptions options;
  options.lists["office"] = {"10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32", "203.0.113.0/24"};
  auto policy = CompiledPolicy::Compile(kTenRules, options);
  if (!policy.ok()) {
    std::fprintf(stderr, "%s\n", policy.status().ToString().c_str());
    std::abort();
  }
  return *policy;
}

struct Request {
  std::vector<KeyValue> headers = {
      {"host", "shop.example.com"},
      {"user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0"},
      {"accept", "text/html,application/xhtml+xml"},
      {"accept-language", "en-GB,en;q=0.9"},
      {"cookie", "session=abc; beta=0"},
  };
  std::vector<KeyValue> cookies = {{"session", "abc"}, {"beta", "0"}};
  std::vector<KeyValue> args = {{"q", "shoes"}, {"page", "2"}};
  std::vector<double> counters = {12};
  PolicyInput input;

  Request() {
    input.method = "GET";
    input.host = "shop.example.com";
    input.path = "/products/search";
    input.query = "q=shoes&page=2";
    input.headers = headers;
    input.cookies = cookies;
    input.args = args;
    input.ip_src = *IpAddress::Parse("198.51.100.23");
    input.waf_score = 1;
    input.auth_risk = 0.1;
    input.rate_counters = counters;
    input.route_id = "shop";
    input.unix_time_s = 1714554000;  // Wed 2024-05-01 09:00 UTC
  }
};

// A benign request: every rule is evaluated, none decides (the default allow).
void BM_EvaluateBenign(benchmark::State& state) {
  auto policy = Compile();
  Request req;
  PolicyResult result;
  for (auto _ : state) {
    policy->Evaluate(req.input, &result);
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_EvaluateBenign);

// An admin request from outside the office: decided by the first rule.
void BM_EvaluateFirstRuleBlocks(benchmark::State& state) {
  auto policy = Compile();
  Request req;
  req.input.path = "/admin/users";
  PolicyResult result;
  for (auto _ : state) {
    policy->Evaluate(req.input, &result);
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_EvaluateFirstRuleBlocks);

void BM_Compile(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(Compile());
}
BENCHMARK(BM_Compile);

}  // namespace
}  // namespace shieldx::policy

BENCHMARK_MAIN();
