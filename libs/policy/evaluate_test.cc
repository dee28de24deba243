// Evaluation semantics: first terminal action wins, tags/log/rate limits accumulate, the
// default decides when nothing terminal matched.
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/policy/policy_test_util.h"

namespace shieldx::policy {
namespace {

using testing::MustCompile;
using testing::Req;

constexpr char kRules[] = R"policy(
rule "tag admin"   { when http.path starts_with "/admin" then tag("admin") }
rule "tag scanner" { when http.header["user-agent"] contains "sqlmap" then tag("scanner"), log }
rule "login limit" { when http.path == "/login" then rate_limit(ip.src, 5 per 1m, burst 2) }
rule "api limit"   { when http.path starts_with "/api" then rate_limit(http.header["x-api-key"], 100 per 1s) }
rule "block admin" { when http.path starts_with "/admin" and ip.src not in {"10.0.0.0/8"}
                     then tag("blocked"), block(403) }
rule "late tag"    { when true then tag("late") }
rule "challenge"   { when http.path == "/login" and waf.score > 3 then challenge }
rule "any admin"   { when http.path starts_with "/admin" then allow }
)policy";

TEST(PolicyEvaluate, FirstTerminalActionWinsAndLaterRulesDoNotRun) {
  auto p = MustCompile(kRules);
  ASSERT_NE(p, nullptr);
  Req req;
  req.path = "/admin/users";
  req.ip = "203.0.113.9";
  PolicyResult r = p->Evaluate(req.input());
  EXPECT_EQ(r.action, Action::kBlock);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.matched_rule, 4);
  EXPECT_EQ(r.matched_rule_name, "block admin");
  EXPECT_EQ(r.rules_matched, 2u);
  // From the office the block does not match; "any admin" (a later terminal) decides.
  req.ip = "10.1.2.3";
  r = p->Evaluate(req.input());
  EXPECT_EQ(r.action, Action::kAllow);
  EXPECT_EQ(r.matched_rule_name, "any admin");
  EXPECT_EQ(r.rules_matched, 3u);
}

TEST(PolicyEvaluate, TagsAndLogAccumulateUpToTheDecidingRule) {
  auto p = MustCompile(kRules);
  ASSERT_NE(p, nullptr);
  const auto& names = p->tag_names();
  ASSERT_EQ(names, (std::vector<std::string>{"admin", "scanner", "blocked", "late"}));
  Req req;
  req.path = "/admin";
  req.ip = "203.0.113.9";
  req.headers = {{"user-agent", "sqlmap/1.7"}};
  PolicyResult r = p->Evaluate(req.input());
  EXPECT_EQ(r.tags, 0b0111u);  // admin, scanner, blocked; "late" comes after the decision
  EXPECT_TRUE(r.log);
  EXPECT_EQ(p->Describe(r), "block(403) rule=\"block admin\" tags=[admin,scanner,blocked] log");
  // Nothing terminal: every matched rule's tags, and the default decides.
  req.path = "/shop";
  r = p->Evaluate(req.input());
  EXPECT_EQ(r.action, Action::kAllow);
  EXPECT_EQ(r.matched_rule, -1);
  EXPECT_EQ(r.tags, 0b1010u);  // scanner, late
  EXPECT_EQ(p->Describe(r), "allow default tags=[scanner,late] log");
  // Results do not leak between evaluations into one PolicyResult.
  req.headers.clear();
  p->Evaluate(req.input(), &r);
  EXPECT_EQ(r.tags, 0b1000u);
  EXPECT_FALSE(r.log);
}

TEST(PolicyEvaluate, RateLimitSpecsAndKeys) {
  auto p = MustCompile(kRules);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(p->rate_limits().size(), 2u);
  const RateLimitSpec& login = p->rate_limits()[0];
  EXPECT_EQ(login.rule, 2);
  EXPECT_EQ(login.rule_name, "login limit");
  EXPECT_EQ(login.key_text, "ip.src");
  EXPECT_EQ(login.limit, 5);
  EXPECT_EQ(login.window_ms, 60000);
  EXPECT_EQ(login.burst, 2);
  const RateLimitSpec& api = p->rate_limits()[1];
  EXPECT_EQ(api.key_text, "http.header[\"x-api-key\"]");
  EXPECT_EQ(api.limit, 100);
  EXPECT_EQ(api.window_ms, 1000);
  EXPECT_EQ(api.burst, 0);

  Req req;
  req.path = "/login";
  req.ip = "2001:db8::7";
  PolicyResult r = p->Evaluate(req.input());
  EXPECT_EQ(r.action, Action::kAllow);  // rate_limit is not terminal
  EXPECT_EQ(r.rate_limits, 0b01u);
  RateLimitKey key = p->RateLimitKeyFor(0, req.input());
  EXPECT_EQ(key.kind, RateLimitKey::Kind::kIp);
  EXPECT_EQ(key.ip.ToString(), "2001:db8::7");
  EXPECT_EQ(p->Describe(r), "allow default tags=[late] rate_limits=[login limit]");
  // A later terminal rule still decides; the limit still applies.
  req.waf_score = 5;
  r = p->Evaluate(req.input());
  EXPECT_EQ(r.action, Action::kChallenge);
  EXPECT_EQ(r.rate_limits, 0b01u);

  req.path = "/api/orders";
  req.headers = {{"X-Api-Key", "k-123"}};
  r = p->Evaluate(req.input());
  EXPECT_EQ(r.rate_limits, 0b10u);
  key = p->RateLimitKeyFor(1, req.input());
  EXPECT_EQ(key.kind, RateLimitKey::Kind::kString);
  EXPECT_EQ(key.text, "k-123");
}

TEST(PolicyEvaluate, NumberRateLimitKey) {
  auto p = MustCompile("rule \"a\" { when true then rate_limit(time.hour, 1 per 1h) }");
  ASSERT_NE(p, nullptr);
  Req req;
  req.unix_time_s = 3600 * 5 + 10;
  RateLimitKey key = p->RateLimitKeyFor(0, req.input());
  EXPECT_EQ(key.kind, RateLimitKey::Kind::kNumber);
  EXPECT_EQ(key.number, 5);
}

TEST(PolicyEvaluate, DefaultActionCarriesNoRuleButKeepsTags) {
  auto p = MustCompile(R"(
    default challenge
    rule "t" { when true then tag("seen") }
  )");
  ASSERT_NE(p, nullptr);
  Req req;
  PolicyResult r = p->Evaluate(req.input());
  EXPECT_EQ(r.action, Action::kChallenge);
  EXPECT_EQ(r.matched_rule, -1);
  EXPECT_EQ(r.tags, 1u);
  EXPECT_EQ(p->default_result().action, Action::kChallenge);
  EXPECT_EQ(p->default_result().tags, 0u);
}

TEST(PolicyEvaluate, ShortCircuitsAndOr) {
  // The regex would match; the `and` must stop at the false operand before it.
  auto p = MustCompile(R"(
    rule "a" { when false and http.path matches "x" then block }
    rule "b" { when true or http.path matches "x" then tag("b") }
  )");
  ASSERT_NE(p, nullptr);
  Req req;
  req.path = "x";
  PolicyResult r = p->Evaluate(req.input());
  EXPECT_EQ(r.action, Action::kAllow);
  EXPECT_EQ(r.tags, 1u);
}

TEST(PolicyEvaluate, SharedPolicyOutlivesTheSource) {
  std::shared_ptr<const CompiledPolicy> p;
  {
    std::string source = "rule \"x\" { when http.path == \"/gone\" then divert(\"other\") }";
    p = MustCompile(source);
    source.assign(source.size(), '#');
  }
  ASSERT_NE(p, nullptr);
  Req req;
  req.path = "/gone";
  PolicyResult r = p->Evaluate(req.input());
  EXPECT_EQ(r.divert_pool_name, "other");
  EXPECT_EQ(r.matched_rule_name, "x");
}

// DefaultWafCategories() must list libs/detect's category names in enum order, or bit i of
// PolicyInput::waf_categories would mean different things to detect and policy. Read from the
// source so this library does not link the detection engine.
TEST(PolicyEvaluate, DefaultWafCategoriesMirrorTheDetectionEngine) {
  std::ifstream file(std::string(SHIELDX_SOURCE_ROOT) + "/libs/detect/finding.cc");
  ASSERT_TRUE(file.good()) << "libs/detect/finding.cc not found";
  std::stringstream text;
  text << file.rdbuf();
  const std::string src = text.str();
  const std::size_t start = src.find("kCategoryNames[kCategoryCount] = {");
  ASSERT_NE(start, std::string::npos) << "detect's category table moved: update this test";
  const std::size_t end = src.find("};", start);
  std::vector<std::string> names;
  for (std::size_t q = src.find('"', start); q < end; q = src.find('"', q + 1)) {
    const std::size_t close = src.find('"', q + 1);
    names.push_back(src.substr(q + 1, close - q - 1));
    q = close;
  }
  EXPECT_EQ(names, DefaultWafCategories());
}

}  // namespace
}  // namespace shieldx::policy
