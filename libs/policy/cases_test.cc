// Test cases carried by a rule set: syntax, pass/fail with diffs, and compile-time checks.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/policy/policy_test_util.h"

namespace shieldx::policy {
namespace {

using testing::CompileError;
using ::testing::HasSubstr;
using testing::MustCompile;
using ::testing::StartsWith;

constexpr char kPolicy[] = R"policy(
rule "office admin" {
  when http.path starts_with "/admin" and ip.src not in $office
  then tag("admin"), block(403)
}
rule "scanner" { when http.header["user-agent"] matches r"(?i)sqlmap" then tag("scanner"), log }
rule "sqli" { when "sqli" in waf.category and waf.score >= 5 then challenge }
rule "login" { when http.path == "/login" then rate_limit(ip.src, 5 per 1m) }
rule "brute" { when rate["login_fail"] > 10 then tarpit(1500) }
rule "beta" { when http.cookie["beta"] == "1" then divert("canary") }
rule "night" { when time.hour < 6 and tenant.id == "acme" then block(503) }

test "blocks admin from outside" {
  request { method "GET" path "/admin" ip "203.0.113.9" }
  expect block(403)
  expect rule "office admin"
  expect tag "admin"
}
test "lets the office in" {
  request { path "/admin" ip "::ffff:10.1.2.3" }
  expect allow
  expect default
  expect not tag "admin"
}
test "flags sqlmap" {
  request { http.path "/" http.header["User-Agent"] "sqlmap/1.7" }
  expect allow
  expect tag "scanner"
  expect log
}
test "challenges sqli" {
  request { waf.score 7 waf.category "sqli" waf.category "xss" auth.risk 0.2 }
  expect challenge
}
test "limits logins" {
  request { path "/login" }
  expect allow
  expect rate_limit "login"
}
test "tarpits brute force" {
  request { rate["login_fail"] 11 }
  expect tarpit(1500)
}
test "diverts beta" {
  request { cookie["beta"] "1" arg["x"] "y" query "x=y" host "example.com" route "r1" }
  expect divert("canary")
}
test "night block" {
  request { tenant "acme" time "2024-05-01T03:00:00Z" }
  expect block
}
)policy";

CompileOptions Office() {
  CompileOptions options;
  options.lists["office"] = {"10.0.0.0/8"};
  return options;
}

TEST(PolicyCases, AllCasesOfAConsistentPolicyPass) {
  auto p = MustCompile(kPolicy, Office());
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->test_count(), 8u);
  std::vector<TestResult> results = p->RunTests();
  ASSERT_EQ(results.size(), 8u);
  for (const TestResult& r : results) {
    EXPECT_TRUE(r.passed) << r.name << ":\n" << r.diff;
    EXPECT_TRUE(r.diff.empty());
  }
  EXPECT_TRUE(CompiledPolicy::AllPassed(results));
  EXPECT_EQ(results[0].name, "blocks admin from outside");
  EXPECT_EQ(results[0].line, 13);
}

TEST(PolicyCases, AChangedRuleFailsItsCasesWithADiff) {
  // The office list now covers the outside address: the first case no longer blocks.
  CompileOptions options = Office();
  options.lists["office"].push_back("203.0.113.0/24");
  auto p = MustCompile(kPolicy, options);
  ASSERT_NE(p, nullptr);
  std::vector<TestResult> results = p->RunTests();
  EXPECT_FALSE(CompiledPolicy::AllPassed(results));
  EXPECT_FALSE(results[0].passed);
  EXPECT_EQ(results[0].diff,
            "action: expected block(403), got allow from the default\n"
            "decided by: expected rule \"office admin\", got the default\n"
            "tag \"admin\": expected, missing");
  for (std::size_t i = 1; i < results.size(); ++i) EXPECT_TRUE(results[i].passed) << i;
}

TEST(PolicyCases, EveryKindOfMismatchIsReported) {
  auto p = MustCompile(R"(
    rule "a" { when http.path == "/a" then tag("t"), block(451) }
    rule "b" { when http.path == "/b" then tarpit(10) }
    rule "c" { when http.path == "/c" then divert("x") }
    rule "d" { when http.path == "/d" then divert("y"), log, tag("u") }
    rule "l" { when http.path == "/l" then rate_limit(ip.src, 1 per 1s) }
    test "status"   { request { path "/a" } expect block(403) }
    test "tarpit"   { request { path "/b" } expect tarpit(20) }
    test "pool"     { request { path "/c" } expect divert("y") }
    test "rule"     { request { path "/a" } expect block expect rule "d" }
    test "default"  { request { path "/a" } expect block expect default }
    test "not tag"  { request { path "/a" } expect block expect not tag "t" }
    test "log"      { request { path "/a" } expect block expect log }
    test "limit"    { request { path "/a" } expect block expect rate_limit "l" }
    test "any pool" { request { path "/d" } expect divert }
    test "any block"{ request { path "/a" } expect block }
  )");
  ASSERT_NE(p, nullptr);
  std::vector<TestResult> r = p->RunTests();
  ASSERT_EQ(r.size(), 10u);
  EXPECT_EQ(r[0].diff, "action: expected block(403), got block(451) from rule \"a\"");
  EXPECT_EQ(r[1].diff, "action: expected tarpit(20), got tarpit(10) from rule \"b\"");
  EXPECT_EQ(r[2].diff, "action: expected divert(\"y\"), got divert(\"x\") from rule \"c\"");
  EXPECT_EQ(r[3].diff, "decided by: expected rule \"d\", got rule \"a\"");
  EXPECT_EQ(r[4].diff, "decided by: expected the default, got rule \"a\"");
  EXPECT_EQ(r[5].diff, "tag \"t\": not expected, present");
  EXPECT_EQ(r[6].diff, "log: expected, not requested by any matched rule");
  EXPECT_EQ(r[7].diff, "rate_limit of rule \"l\": expected to apply, does not");
  EXPECT_TRUE(r[8].passed) << r[8].diff;
  EXPECT_TRUE(r[9].passed) << r[9].diff;
  for (int i = 0; i < 8; ++i) EXPECT_FALSE(r[i].passed) << i;
}

TEST(PolicyCases, ATestMayComeBeforeTheRulesItNames) {
  auto p = MustCompile(R"(
    test "early" { request { path "/x" } expect block expect rule "late" expect tag "t" }
    rule "late" { when http.path == "/x" then tag("t"), block }
  )");
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(CompiledPolicy::AllPassed(p->RunTests()));
}

TEST(PolicyCases, CompileTimeErrorsInTests) {
  const std::string rule = "rule \"r\" { when true then tag(\"t\"), block }\n";
  EXPECT_THAT(CompileError(rule + "test \"a\" { request { } }"),
              StartsWith("policy:2:6: test \"a\" has no 'expect <action>'"));
  EXPECT_THAT(CompileError(rule + "test \"a\" { expect block }"),
              StartsWith("policy:2:12: expected 'request' to start the test"));
  EXPECT_THAT(CompileError(rule + "test \"a\" { request { } expect block expect allow }"),
              StartsWith("policy:2:44: a test expects one action; this is the second"));
  EXPECT_THAT(CompileError(rule + "test \"a\" { request { } expect rule \"x\" expect block }"),
              StartsWith("policy:2:36: no rule is named \"x\""));
  EXPECT_THAT(CompileError(rule + "test \"a\" { request { } expect tag \"x\" expect block }"),
              StartsWith("policy:2:35: no rule sets tag \"x\""));
  EXPECT_THAT(CompileError(rule + "test \"a\" { request { } expect not \"x\" }"),
              StartsWith("policy:2:35: expected 'tag' after 'expect not'"));
  EXPECT_THAT(
      CompileError(rule + "test \"a\" { request { } expect rate_limit \"r\" expect block }"),
      StartsWith("policy:2:42: no rule named \"r\" has a rate_limit"));
  EXPECT_THAT(CompileError(rule + "test \"a\" { request { } expect divert(\"p\") }"),
              StartsWith("policy:2:38: no rule diverts to pool \"p\""));
  EXPECT_THAT(CompileError(rule + "test \"a\" { request { } expect maybe }"),
              StartsWith("policy:2:31: expected an action, 'rule', 'default'"));
  EXPECT_THAT(CompileError(rule + "test \"a\" { request { pth \"/\" } expect block }"),
              StartsWith("policy:2:22: unknown request field 'pth'"));
  EXPECT_THAT(CompileError(rule + "test \"a\" { request { time.hour 3 } expect block }"),
              StartsWith("policy:2:22: unknown request field 'time.hour'"));
  EXPECT_THAT(CompileError(rule + "test \"a\" { request { path \"/\" path \"/x\" } expect block }"),
              StartsWith("policy:2:31: request field 'http.path' given twice"));
  EXPECT_THAT(CompileError(rule + "test \"a\" { request { ip \"1.2.3\" } expect block }"),
              StartsWith("policy:2:25: \"1.2.3\" is not an IPv4 or IPv6 address"));
  EXPECT_THAT(CompileError(rule + "test \"a\" { request { waf.score \"7\" } expect block }"),
              StartsWith("policy:2:32: expected a number for waf.score, got a string"));
  EXPECT_THAT(CompileError(rule + "test \"a\" { request { waf.category \"nope\" } expect block }"),
              StartsWith("policy:2:35: unknown WAF category \"nope\""));
  EXPECT_THAT(CompileError(rule + "test \"a\" { request { rate[\"x\"] 1 } expect block }"),
              StartsWith("policy:2:22: rate[\"x\"] is not read by any rule"));
  EXPECT_THAT(CompileError(rule + "test \"a\" { request { time \"yesterday\" } expect block }"),
              StartsWith("policy:2:27: invalid time \"yesterday\""));
  EXPECT_THAT(CompileError(rule + "test \"a\" { request { header \"x\" \"y\" } expect block }"),
              StartsWith("policy:2:29: expected '[' after http.header ([\"key\"])"));
  EXPECT_THAT(CompileError(rule + "test \"a\" { request { } expect block }\n"
                                  "test \"a\" { request { } expect block }"),
              StartsWith("policy:3:6: duplicate test name \"a\" (first defined at line 2)"));
}

TEST(PolicyCases, HeaderNamesInTestsAreCaseInsensitiveLikeRequests) {
  auto p = MustCompile(R"(
    rule "r" { when http.header["X-Token"] == "s" then block }
    test "t" { request { header["x-TOKEN"] "s" } expect block }
  )");
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(CompiledPolicy::AllPassed(p->RunTests()));
}

TEST(PolicyCases, ConfiguredRateCounterSlotsAreUsedByTests) {
  CompileOptions options;
  options.rate_counters = {"a", "b", "c"};
  auto p = MustCompile(R"(
    rule "r" { when rate["c"] > 1 then block }
    test "t" { request { rate["c"] 2 rate["a"] 0 } expect block }
  )",
                       options);
  ASSERT_NE(p, nullptr);
  std::vector<TestResult> r = p->RunTests();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].passed) << r[0].diff;
}

TEST(PolicyCases, NoTestsMeansAllPassedIsVacuouslyTrue) {
  auto p = MustCompile("rule \"r\" { when true then block }");
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->RunTests().empty());
  EXPECT_TRUE(CompiledPolicy::AllPassed({}));
  EXPECT_FALSE(CompiledPolicy::AllPassed({TestResult{.name = "x", .passed = false}}));
}

}  // namespace
}  // namespace shieldx::policy
