// Every named limit is enforced with a message that names the limit and the number.
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/policy/policy_test_util.h"

namespace shieldx::policy {
namespace {

using testing::CompileError;
using ::testing::HasSubstr;
using testing::MustCompile;
using ::testing::StartsWith;

std::string R(std::string_view cond) {
  return "rule \"r\" { when " + std::string(cond) + " then block }";
}

std::string Repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(PolicyLimits, SourceSize) {
  CompileOptions options;
  options.limits.max_source_bytes = 100;
  EXPECT_EQ(CompileError(std::string(101, ' '), options),
            "policy: source is 101 bytes, over the limit of 100");
  EXPECT_EQ(CompileError(std::string(100, ' '), options), "");
  EXPECT_THAT(CompileError(std::string(limits::kMaxSourceBytes + 1, '#')),
              HasSubstr("over the limit of 1048576"));
}

TEST(PolicyLimits, RuleCount) {
  CompileOptions options;
  options.limits.max_rules = 3;
  std::string src;
  for (int i = 0; i < 4; ++i) src += absl::StrCat("rule \"r", i, "\" { when true then log }\n");
  EXPECT_THAT(CompileError(src, options), StartsWith("policy:4:1: more than 3 rules (the limit)"));
  std::string thousand;
  for (std::size_t i = 0; i < limits::kMaxRules; ++i) {
    thousand += absl::StrCat("rule \"r", i, "\" { when waf.score > ", i, " then log }\n");
  }
  auto p = MustCompile(thousand);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->rules().size(), limits::kMaxRules);
  EXPECT_THAT(CompileError(thousand + "rule \"one more\" { when true then log }"),
              HasSubstr("more than 1000 rules"));
}

TEST(PolicyLimits, ExpressionDepth) {
  // The condition is depth 1; each '(' or 'not' adds one.
  const int max = limits::kMaxExpressionDepth;
  EXPECT_EQ(CompileError(R(Repeat("(", max - 1) + "true" + Repeat(")", max - 1))), "");
  EXPECT_THAT(CompileError(R(Repeat("(", max) + "true" + Repeat(")", max))),
              HasSubstr("expression nested deeper than the limit of 64"));
  EXPECT_THAT(CompileError(R(Repeat("not ", 100) + "true")),
              HasSubstr("expression nested deeper than the limit of 64"));
  EXPECT_THAT(CompileError(R("len(" + Repeat("(", max) + "http.path" + Repeat(")", max) + ") > 1")),
              HasSubstr("nested deeper"));
  // Long and/or chains are flat, not deep.
  std::string chain = "true";
  for (int i = 0; i < 5000; ++i) chain += i % 2 ? " and true" : " or false";
  EXPECT_EQ(CompileError(R(chain)), "");
}

TEST(PolicyLimits, ExpressionNodes) {
  CompileOptions options;
  options.limits.max_expression_nodes = 10;
  EXPECT_THAT(CompileError(R(Repeat("true and ", 20) + "true"), options),
              HasSubstr("more than 10 expression nodes in the rule set (the limit)"));
}

TEST(PolicyLimits, SetElements) {
  CompileOptions options;
  options.limits.max_set_elements = 3;
  EXPECT_EQ(CompileError(R("waf.score in {1, 2, 3}"), options), "");
  EXPECT_THAT(CompileError(R("waf.score in {1, 2, 3, 4}"), options),
              StartsWith("policy:1:40: set literal has more than 3 elements (the limit)"));
  std::string big = "0";
  for (std::size_t i = 1; i <= limits::kMaxSetElements; ++i) big += absl::StrCat(", ", i);
  EXPECT_THAT(CompileError(R("waf.score in {" + big + "}")), HasSubstr("more than 10000 elements"));
}

TEST(PolicyLimits, ListEntries) {
  CompileOptions options;
  options.limits.max_list_entries = 2;
  options.lists["l"] = {"1.1.1.1", "2.2.2.2", "3.3.3.3"};
  EXPECT_THAT(CompileError(R("ip.src in $l"), options),
              StartsWith("policy:1:27: list $l has 3 entries, over the limit of 2"));
  options.limits.max_list_entries = 3;
  options.limits.max_string_literal_bytes = 8;
  options.lists["l"][1] = "10.0.0.0/8";
  EXPECT_THAT(CompileError(R("ip.src in $l"), options),
              StartsWith("policy:1:27: list $l entry 2 is 10 bytes, over the limit of 8"));
}

TEST(PolicyLimits, LargeIpListsCompileIntoRanges) {
  CompileOptions options;
  auto& list = options.lists["big"];
  for (int i = 0; i < 65536; ++i)
    list.push_back(absl::StrCat("10.", i / 256, ".", i % 256, ".0/24"));
  auto p = MustCompile(R("ip.src in $big"), options);
  ASSERT_NE(p, nullptr);
  testing::Req req;
  req.ip = "10.200.3.4";
  EXPECT_EQ(p->Evaluate(req.input()).action, Action::kBlock);
  req.ip = "11.0.0.1";
  EXPECT_EQ(p->Evaluate(req.input()).action, Action::kAllow);
}

TEST(PolicyLimits, StringLiteralLength) {
  const std::string ok(limits::kMaxStringLiteralBytes, 'a');
  EXPECT_EQ(CompileError(R("http.path == \"" + ok + "\"")), "");
  EXPECT_THAT(CompileError(R("http.path == \"" + ok + "a\"")),
              StartsWith("policy:1:30: string literal longer than the limit of 4096 bytes"));
  EXPECT_THAT(CompileError(R("http.path == r\"" + ok + "a\"")),
              StartsWith("policy:1:30: string literal longer than the limit of 4096 bytes"));
}

TEST(PolicyLimits, RegexPatternSizeAndMemory) {
  CompileOptions options;
  options.limits.max_regex_pattern_bytes = 8;
  EXPECT_THAT(CompileError(R("http.path matches \"abcdefghi\""), options),
              StartsWith("policy:1:35: regex is 9 bytes, over the limit of 8"));
  // 300 counted repetitions of a class: far more program than a 1 MiB budget allows.
  const std::string huge = Repeat("[a-z]{1000}", 300);
  ASSERT_LE(huge.size(), limits::kMaxRegexPatternBytes);
  EXPECT_THAT(CompileError(R("http.path matches \"" + huge + "\"")),
              StartsWith("policy:1:35: regex is too large for the RE2 memory budget of 1048576 "
                         "bytes"));
  options = {};
  options.limits.max_regex_mem_bytes = 64 * 1024;
  EXPECT_THAT(CompileError(R("http.path matches \"" + Repeat("[a-z]{1000}", 8) + "\""), options),
              HasSubstr("too large for the RE2 memory budget of 65536 bytes"));
  EXPECT_EQ(CompileError(R("http.path matches \"[a-z]{10}\""), options), "");
}

TEST(PolicyLimits, RegexCountCountsDistinctPatterns) {
  CompileOptions options;
  options.limits.max_regexes = 2;
  EXPECT_EQ(CompileError(R("http.path matches \"a\" or http.host matches \"b\" or "
                           "http.query matches \"a\""),
                         options),
            "");
  EXPECT_THAT(CompileError(R("http.path matches \"a\" or http.host matches \"b\" or "
                             "http.query matches \"c\""),
                           options),
              HasSubstr("more than 2 distinct regexes (the limit)"));
}

TEST(PolicyLimits, NameLength) {
  const std::string ok(limits::kMaxNameBytes, 'n');
  EXPECT_EQ(CompileError("rule \"" + ok + "\" { when true then log }"), "");
  EXPECT_THAT(CompileError("rule \"" + ok + "n\" { when true then log }"),
              StartsWith("policy:1:6: rule name is 129 bytes, over the limit of 128"));
  EXPECT_THAT(CompileError("rule \"r\" { when true then divert(\"" + ok + "n\") }"),
              HasSubstr("pool name is 129 bytes"));
}

TEST(PolicyLimits, ActionsPerRule) {
  std::string actions = "log";
  for (std::size_t i = 1; i < limits::kMaxActionsPerRule; ++i) actions += ", log";
  EXPECT_EQ(CompileError("rule \"r\" { when true then " + actions + " }"), "");
  EXPECT_THAT(CompileError("rule \"r\" { when true then " + actions + ", log }"),
              HasSubstr("more than 16 actions in one rule (the limit)"));
}

TEST(PolicyLimits, DistinctTags) {
  std::string src;
  for (int i = 0; i < limits::kMaxTags; ++i) {
    src += absl::StrCat("rule \"r", i, "\" { when true then tag(\"t", i, "\") }\n");
  }
  auto p = MustCompile(src);
  ASSERT_NE(p, nullptr);
  testing::Req req;
  EXPECT_EQ(p->Evaluate(req.input()).tags, ~uint64_t{0});
  EXPECT_THAT(CompileError(src + "rule \"x\" { when true then tag(\"t0\"), tag(\"new\") }"),
              StartsWith("policy:65:42: more than 64 distinct tags (the limit)"));
}

TEST(PolicyLimits, RateLimitActions) {
  std::string src;
  for (int i = 0; i < limits::kMaxRateLimits; ++i) {
    src += absl::StrCat("rule \"r", i, "\" { when true then rate_limit(ip.src, ", i + 1,
                        " per 1s) }\n");
  }
  auto p = MustCompile(src);
  ASSERT_NE(p, nullptr);
  testing::Req req;
  EXPECT_EQ(p->Evaluate(req.input()).rate_limits, ~uint64_t{0});
  EXPECT_THAT(CompileError(src + "rule \"x\" { when true then rate_limit(ip.src, 1 per 1s) }"),
              HasSubstr("more than 64 rate_limit actions (the limit)"));
}

TEST(PolicyLimits, RateCountersAndPools) {
  std::string cond = "false";
  for (int i = 0; i <= limits::kMaxRateCounters; ++i)
    cond += absl::StrCat(" or rate[\"c", i, "\"] > 1");
  EXPECT_THAT(CompileError(R(cond)), HasSubstr("more than 256 rate counters (the limit)"));
  std::string src;
  for (int i = 0; i <= limits::kMaxDivertPools; ++i) {
    src += absl::StrCat("rule \"r", i, "\" { when true then divert(\"p", i, "\") }\n");
  }
  EXPECT_THAT(CompileError(src), HasSubstr("more than 256 distinct divert pools (the limit)"));
}

TEST(PolicyLimits, TestCount) {
  CompileOptions options;
  options.limits.max_tests = 1;
  const std::string t = "test \"a\" { request { } expect allow }\n";
  EXPECT_EQ(CompileError(t, options), "");
  EXPECT_THAT(CompileError(t + "test \"b\" { request { } expect allow }", options),
              StartsWith("policy:2:1: more than 1 tests (the limit)"));
}

TEST(PolicyLimits, WafCategoryCount) {
  CompileOptions options;
  options.waf_categories.clear();
  for (int i = 0; i <= limits::kMaxWafCategories; ++i)
    options.waf_categories.push_back(absl::StrCat("c", i));
  EXPECT_EQ(CompileError("", options),
            "policy: 65 WAF categories configured, over the limit of 64");
}

}  // namespace
}  // namespace shieldx::policy
