// Type checking happens at compile time; every type error names its line and column.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/policy/policy_test_util.h"

namespace shieldx::policy {
namespace {

using testing::CompileError;
using ::testing::StartsWith;

// A condition starts at column 17 (see parser_test.cc).
std::string R(std::string_view cond) {
  return "rule \"r\" { when " + std::string(cond) + " then block }";
}

TEST(PolicyTypes, StringOperatorsNeedStrings) {
  EXPECT_THAT(CompileError(R("waf.score starts_with \"x\"")),
              StartsWith("policy:1:27: 'starts_with' needs a string on its left, got number"));
  EXPECT_THAT(CompileError(R("ip.src contains \"1\"")),
              StartsWith("policy:1:24: 'contains' needs a string on its left, got ip"));
  EXPECT_THAT(CompileError(R("http.path ends_with 5")),
              StartsWith("policy:1:37: 'ends_with' needs a string on its right, got number"));
  EXPECT_THAT(CompileError(R("http.header[\"x\"] contains true")),
              StartsWith("policy:1:43: 'contains' needs a string on its right, got bool"));
  EXPECT_THAT(CompileError(R("waf.score matches \"x\"")),
              StartsWith("policy:1:27: 'matches' needs a string on its left, got number"));
}

TEST(PolicyTypes, ComparisonsNeedMatchingTypes) {
  EXPECT_THAT(CompileError(R("http.path == 3")),
              StartsWith("policy:1:27: cannot compare string with number using '=='"));
  EXPECT_THAT(CompileError(R("waf.score != \"5\"")),
              StartsWith("policy:1:27: cannot compare number with string using '!='"));
  EXPECT_THAT(CompileError(R("auth.risk == true")),
              StartsWith("policy:1:27: cannot compare number with bool"));
  EXPECT_THAT(CompileError(R("ip.src == waf.score")),
              StartsWith("policy:1:24: cannot compare ip with number"));
}

TEST(PolicyTypes, OrderingNeedsNumbers) {
  EXPECT_THAT(CompileError(R("http.path > \"a\"")),
              StartsWith("policy:1:27: '>' needs numbers, got string"));
  EXPECT_THAT(CompileError(R("ip.src <= \"10.0.0.1\"")),
              StartsWith("policy:1:24: '<=' needs numbers, got ip"));
  EXPECT_THAT(CompileError(R("true < false")),
              StartsWith("policy:1:22: '<' needs numbers, got bool"));
}

TEST(PolicyTypes, IpLiteralsMustParse) {
  EXPECT_THAT(CompileError(R("ip.src == \"not-an-ip\"")),
              StartsWith("policy:1:27: \"not-an-ip\" is not an IPv4 or IPv6 address"));
  EXPECT_THAT(CompileError(R("ip.src == \"10.0.0.0/8\"")),
              StartsWith("policy:1:27: \"10.0.0.0/8\" is not an IPv4 or IPv6 address (for a CIDR "
                         "use: ip.src in {\"...\"})"));
  EXPECT_THAT(CompileError(R("ip.src in {\"10.0.0.0/8\", \"10.0.0.300\"}")),
              StartsWith("policy:1:42: invalid CIDR: \"10.0.0.300\" is not an IPv4 or IPv6"));
  EXPECT_THAT(CompileError(R("ip.src in {\"10.0.0.0/40\"}")),
              StartsWith("policy:1:28: invalid CIDR: prefix length \"40\" is not in 0..32"));
  EXPECT_THAT(CompileError(R("ip.src in {10}")),
              StartsWith("policy:1:28: set elements must be strings to match ip, got a number"));
}

TEST(PolicyTypes, SetElementsFollowTheLeftSide) {
  EXPECT_THAT(CompileError(R("waf.score in {\"a\"}")),
              StartsWith("policy:1:31: set elements must be numbers to match a number, got a "
                         "string"));
  EXPECT_THAT(CompileError(R("http.path in {1}")),
              StartsWith("policy:1:31: set elements must be strings to match string"));
  EXPECT_THAT(CompileError(R("true in {\"a\"}")),
              StartsWith("policy:1:17: 'in' a set needs a string, number or ip on its left, got "
                         "bool"));
  CompileOptions options;
  options.lists["x"] = {"a"};
  EXPECT_THAT(CompileError(R("waf.category in $x"), options),
              StartsWith("policy:1:17: 'in' a set needs a string, number or ip on its left, got "
                         "category set"));
}

TEST(PolicyTypes, InNeedsASetAListOrTheCategorySet) {
  EXPECT_THAT(CompileError(R("http.path in waf.score")),
              StartsWith("policy:1:27: 'in' needs a set literal {...}, a list $name or "
                         "waf.category on its right, got number"));
  EXPECT_THAT(CompileError(R("waf.score in waf.category")),
              StartsWith("policy:1:17: left of 'in waf.category' must be a category name, got "
                         "number"));
  EXPECT_THAT(CompileError(R("http.path in waf.category")),
              StartsWith("policy:1:17: the category must be a string literal"));
  EXPECT_THAT(CompileError(R("waf.category contains 5")),
              StartsWith("policy:1:39: waf.category contains needs a category name, got number"));
  EXPECT_THAT(CompileError(R("waf.category == \"sqli\"")),
              StartsWith("policy:1:30: waf.category is a set: use '\"sqli\" in waf.category'"));
}

TEST(PolicyTypes, LogicNeedsBools) {
  EXPECT_THAT(CompileError(R("http.path")),
              StartsWith("policy:1:17: a rule condition must be bool, got string"));
  EXPECT_THAT(CompileError(R("not http.path")),
              StartsWith("policy:1:21: operand of 'not' must be bool, got string"));
  EXPECT_THAT(CompileError(R("true and waf.score")),
              StartsWith("policy:1:26: operand of 'and' must be bool, got number"));
  EXPECT_THAT(CompileError(R("ip.src or true")),
              StartsWith("policy:1:17: operand of 'or' must be bool, got ip"));
  EXPECT_THAT(CompileError(R("(http.path)")),
              StartsWith("policy:1:17: a rule condition must be bool, got string"));
}

TEST(PolicyTypes, FunctionsCheckTheirArgument) {
  EXPECT_THAT(CompileError(R("len(waf.score) > 1")),
              StartsWith("policy:1:21: len() takes a string or waf.category, got number"));
  EXPECT_THAT(CompileError(R("exists(rate[\"x\"])")),
              StartsWith("policy:1:24: exists() takes http.args"));
  EXPECT_THAT(CompileError(R("len(http.path)")),
              StartsWith("policy:1:17: a rule condition must be bool, got number"));
}

TEST(PolicyTypes, RateLimitKeyMustBeStringIpOrNumber) {
  EXPECT_THAT(CompileError("rule \"a\" { when true then rate_limit(true, 1 per 1s) }"),
              StartsWith("policy:1:38: a rate_limit key must be a string, ip or number, got "
                         "bool"));
  EXPECT_THAT(CompileError("rule \"a\" { when true then rate_limit(waf.category, 1 per 1s) }"),
              StartsWith("policy:1:38: a rate_limit key must be a string, ip or number, got "
                         "category set"));
}

}  // namespace
}  // namespace shieldx::policy
