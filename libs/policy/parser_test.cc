// Every construct of the language parses and means what the README says; every syntax error
// names its line and column.
#include <random>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/policy/policy.h"
#include "libs/policy/policy_test_util.h"

namespace shieldx::policy {
namespace {

using testing::Cat;
using testing::CompileError;
using ::testing::HasSubstr;
using testing::Holds;
using testing::MustCompile;
using testing::Req;
using ::testing::StartsWith;

// `rule "r" { when ` is 16 bytes: a condition starts at column 17.
std::string R(std::string_view cond) {
  return "rule \"r\" { when " + std::string(cond) + " then block }";
}

TEST(PolicyParser, EmptySourceAllowsEverything) {
  auto p = MustCompile("  # nothing here\n// nor here\n");
  ASSERT_NE(p, nullptr);
  Req req;
  PolicyResult r = p->Evaluate(req.input());
  EXPECT_EQ(r.action, Action::kAllow);
  EXPECT_EQ(r.matched_rule, -1);
  EXPECT_TRUE(r.matched_rule_name.empty());
  EXPECT_TRUE(p->rules().empty());
}

TEST(PolicyParser, StringFields) {
  Req req;
  req.method = "POST";
  req.host = "shop.example.com";
  req.path = "/cart/add";
  req.query = "id=7&x=1";
  req.tenant_id = "acme";
  req.route_id = "shop";
  EXPECT_TRUE(Holds("http.method == \"POST\"", req));
  EXPECT_FALSE(Holds("http.method == \"post\"", req));
  EXPECT_TRUE(Holds("http.host == \"shop.example.com\"", req));
  EXPECT_TRUE(Holds("http.path == \"/cart/add\"", req));
  EXPECT_TRUE(Holds("http.query == \"id=7&x=1\"", req));
  EXPECT_TRUE(Holds("tenant.id == \"acme\"", req));
  EXPECT_TRUE(Holds("route.id != \"admin\"", req));
  EXPECT_TRUE(Holds("http.path == http.path", req));
  EXPECT_FALSE(Holds("http.host == http.path", req));
}

TEST(PolicyParser, KeyedFieldsTakeTheFirstMatchAndMissingReadsEmpty) {
  Req req;
  req.args = {{"id", "7"}, {"id", "8"}, {"ID", "9"}};
  req.headers = {{"user-agent", "curl/8.0"}, {"x-forwarded-for", "1.1.1.1"}};
  req.cookies = {{"session", "abc"}, {"Session", "xyz"}};
  EXPECT_TRUE(Holds("http.args[\"id\"] == \"7\"", req));
  EXPECT_TRUE(Holds("http.args[\"ID\"] == \"9\"", req));  // argument names are exact
  EXPECT_TRUE(Holds("http.header[\"User-Agent\"] == \"curl/8.0\"", req));  // case-insensitive
  EXPECT_TRUE(Holds("http.header[\"USER-AGENT\"] starts_with \"curl\"", req));
  EXPECT_TRUE(Holds("http.cookie[\"session\"] == \"abc\"", req));
  EXPECT_TRUE(Holds("http.cookie[\"Session\"] == \"xyz\"", req));  // cookie names are exact
  EXPECT_TRUE(Holds("http.header[\"referer\"] == \"\"", req));
  EXPECT_TRUE(Holds("exists(http.header[\"X-Forwarded-For\"])", req));
  EXPECT_FALSE(Holds("exists(http.header[\"referer\"])", req));
  EXPECT_TRUE(Holds("exists(http.args[\"id\"]) and not exists(http.cookie[\"beta\"])", req));
  // A present header with an empty value exists.
  req.headers.push_back({"x-empty", ""});
  EXPECT_TRUE(Holds("exists(http.header[\"x-empty\"])", req));
}

TEST(PolicyParser, NumberFieldsAndAllComparisons) {
  Req req;
  req.waf_score = 5;
  req.auth_risk = 0.75;
  EXPECT_TRUE(Holds("waf.score == 5", req));
  EXPECT_TRUE(Holds("waf.score != 4", req));
  EXPECT_TRUE(Holds("waf.score < 5.5", req));
  EXPECT_TRUE(Holds("waf.score <= 5", req));
  EXPECT_TRUE(Holds("waf.score > 4.99", req));
  EXPECT_TRUE(Holds("waf.score >= 5", req));
  EXPECT_FALSE(Holds("waf.score > 5", req));
  EXPECT_FALSE(Holds("waf.score < 5", req));
  EXPECT_TRUE(Holds("auth.risk > 0.7", req));
  EXPECT_TRUE(Holds("auth.risk > -1", req));
  EXPECT_TRUE(Holds("-1 < auth.risk", req));
  EXPECT_TRUE(Holds("len(http.path) == 1", req));
}

TEST(PolicyParser, RateCountersAreReadBySlot) {
  auto p = MustCompile(R"(
    rule "a" { when rate["login"] > 10 then block(429) }
    rule "b" { when rate["api"] > 100 and rate["login"] > 0 then tarpit(100) }
  )");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->rate_counter_names(), (std::vector<std::string>{"login", "api"}));
  Req req;
  req.rate_counters = {11, 0};
  EXPECT_EQ(p->Evaluate(req.input()).status, 429);
  req.rate_counters = {1, 101};
  EXPECT_EQ(p->Evaluate(req.input()).action, Action::kTarpit);
  req.rate_counters = {};  // missing slots read 0
  EXPECT_EQ(p->Evaluate(req.input()).action, Action::kAllow);
}

TEST(PolicyParser, ConfiguredRateCountersFixTheSlots) {
  CompileOptions options;
  options.rate_counters = {"api", "login"};
  auto p = MustCompile(R"(rule "a" { when rate["login"] > 10 then block })", options);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->rate_counter_names(), options.rate_counters);
  Req req;
  req.rate_counters = {0, 11};
  EXPECT_EQ(p->Evaluate(req.input()).action, Action::kBlock);
}

TEST(PolicyParser, TimeFieldsAreUtc) {
  Req req;
  req.unix_time_s = 1714554000 + 30 * 60;  // Wed 2024-05-01 09:30:00 UTC
  EXPECT_TRUE(Holds("time.hour == 9", req));
  EXPECT_TRUE(Holds("time.minute == 30", req));
  EXPECT_TRUE(Holds("time.weekday == 3", req));  // ISO: Monday 1 .. Sunday 7
  req.unix_time_s = 1714867200;                  // Sun 2024-05-05 00:00:00 UTC
  EXPECT_TRUE(Holds("time.weekday == 7 and time.hour == 0", req));
  req.unix_time_s = -1;  // 1969-12-31 23:59:59, a Wednesday
  EXPECT_TRUE(Holds("time.hour == 23 and time.minute == 59 and time.weekday == 3", req));
}

TEST(PolicyParser, IpComparisonsAndSetLiterals) {
  Req req;
  req.ip = "203.0.113.9";
  EXPECT_TRUE(Holds("ip.src == \"203.0.113.9\"", req));
  EXPECT_TRUE(Holds("\"203.0.113.9\" == ip.src", req));
  EXPECT_TRUE(Holds("ip.src == \"::ffff:203.0.113.9\"", req));
  EXPECT_TRUE(Holds("ip.src != \"203.0.113.10\"", req));
  EXPECT_TRUE(Holds("ip.src in {\"203.0.113.0/24\", \"2001:db8::/32\"}", req));
  EXPECT_FALSE(Holds("ip.src in {\"10.0.0.0/8\"}", req));
  EXPECT_TRUE(Holds("ip.src not in {\"10.0.0.0/8\",}", req));  // trailing comma
  req.ip = "::ffff:203.0.113.9";  // an IPv4 client seen on a dual-stack socket
  EXPECT_TRUE(Holds("ip.src in {\"203.0.113.0/24\"}", req));
  req.ip = "2001:db8::5";
  EXPECT_TRUE(Holds("ip.src in {\"203.0.113.0/24\", \"2001:db8::/32\"}", req));
  EXPECT_FALSE(Holds("ip.src in {}", req));
}

TEST(PolicyParser, StringAndNumberSets) {
  Req req;
  req.method = "DELETE";
  req.waf_score = -2;
  EXPECT_TRUE(Holds("http.method in {\"PUT\", \"DELETE\"}", req));
  EXPECT_FALSE(Holds("http.method in {\"PUT\", \"delete\"}", req));
  EXPECT_TRUE(Holds("http.method not in {\"GET\", \"HEAD\"}", req));
  EXPECT_TRUE(Holds("waf.score in {1, -2, 3.5}", req));
  EXPECT_FALSE(Holds("waf.score in {2}", req));
}

TEST(PolicyParser, NamedListsAreTypedByTheLeftSide) {
  CompileOptions options;
  options.lists["office"] = {"10.0.0.0/8", "2001:db8::/32", "198.51.100.7"};
  options.lists["methods"] = {"PUT", "DELETE"};
  options.lists["scores"] = {"3", "7.5"};
  Req req;
  req.ip = "10.20.30.40";
  req.method = "PUT";
  req.waf_score = 7.5;
  EXPECT_TRUE(Holds("ip.src in $office", req, options));
  EXPECT_TRUE(Holds("http.method in $methods", req, options));
  EXPECT_TRUE(Holds("waf.score in $scores", req, options));
  req.ip = "::ffff:10.1.1.1";
  EXPECT_TRUE(Holds("ip.src in $office", req, options));
  req.ip = "2001:db8:1::1";
  EXPECT_TRUE(Holds("ip.src in $office", req, options));
  req.ip = "11.0.0.1";
  EXPECT_FALSE(Holds("ip.src in $office", req, options));
  EXPECT_TRUE(Holds("not ip.src in $office", req, options));
  EXPECT_TRUE(Holds("ip.src not in $office", req, options));
  // The same list used twice (and as strings for another field) compiles once per type.
  EXPECT_TRUE(
      Holds("ip.src not in $office and not (ip.src in $office) and "
            "http.path not in $office",
            req, options));
}

TEST(PolicyParser, WafCategoryMembership) {
  Req req;
  req.waf_categories = Cat("sqli") | Cat("xss");
  EXPECT_TRUE(Holds("\"sqli\" in waf.category", req));
  EXPECT_TRUE(Holds("waf.category contains \"xss\"", req));
  EXPECT_FALSE(Holds("\"cmdi\" in waf.category", req));
  EXPECT_TRUE(Holds("\"cmdi\" not in waf.category", req));
  EXPECT_TRUE(Holds("len(waf.category) == 2", req));
  req.waf_categories = 0;
  EXPECT_TRUE(Holds("len(waf.category) == 0", req));
}

TEST(PolicyParser, CustomWafCategoryNames) {
  CompileOptions options;
  options.waf_categories = {"alpha", "beta"};
  Req req;
  req.waf_categories = 2;
  EXPECT_TRUE(Holds("\"beta\" in waf.category", req, options));
  EXPECT_FALSE(Holds("\"alpha\" in waf.category", req, options));
}

TEST(PolicyParser, StringOperators) {
  Req req;
  req.path = "/admin/users.php";
  req.headers = {{"x-prefix", "/admin"}};
  EXPECT_TRUE(Holds("http.path contains \"users\"", req));
  EXPECT_TRUE(Holds("http.path starts_with \"/admin\"", req));
  EXPECT_TRUE(Holds("http.path ends_with \".php\"", req));
  EXPECT_FALSE(Holds("http.path ends_with \".PHP\"", req));
  EXPECT_TRUE(Holds("http.path starts_with http.header[\"x-prefix\"]", req));
  EXPECT_TRUE(Holds("http.path contains \"\"", req));
  EXPECT_TRUE(Holds("http.path matches r\"^/admin/\\w+\\.php$\"", req));
  EXPECT_TRUE(Holds("http.path matches \"^/admin/\\\\w+\\\\.php$\"", req));  // escaped
  EXPECT_TRUE(Holds("http.path matches \"(?i)USERS\"", req));
  EXPECT_FALSE(Holds("http.path matches \"^users\"", req));  // unanchored unless ^
}

TEST(PolicyParser, StringLiteralEscapes) {
  Req req;
  req.headers = {{"x", "a\"b\\c\n\t\r\x01"}};
  EXPECT_TRUE(Holds("http.header[\"x\"] == \"a\\\"b\\\\c\\n\\t\\r\\x01\"", req));
}

TEST(PolicyParser, BooleanLogicPrecedenceAndParentheses) {
  Req req;
  EXPECT_TRUE(Holds("true", req));
  EXPECT_FALSE(Holds("false", req));
  EXPECT_TRUE(Holds("true or false and false", req));  // and binds tighter than or
  EXPECT_FALSE(Holds("(true or false) and false", req));
  EXPECT_TRUE(Holds("not false and true", req));  // not binds tighter than and
  EXPECT_FALSE(Holds("not (false or true)", req));
  EXPECT_TRUE(Holds("not not true", req));
  EXPECT_TRUE(Holds("true == true", req));
  EXPECT_TRUE(Holds("(http.method == \"GET\") != false", req));
  EXPECT_TRUE(Holds("true and true and true or false", req));
}

TEST(PolicyParser, AllActions) {
  auto p = MustCompile(R"(
    rule "allow"     { when http.path == "/a" then allow }
    rule "block"     { when http.path == "/b" then block }
    rule "block451"  { when http.path == "/c" then block(451) }
    rule "challenge" { when http.path == "/d" then challenge }
    rule "tarpit"    { when http.path == "/e" then tarpit(250) }
    rule "tarpit2s"  { when http.path == "/f" then tarpit(2s) }
    rule "divert"    { when http.path == "/g" then divert("canary") }
    rule "limit"     { when http.path == "/h" then rate_limit(ip.src, 10 per 1m, burst 5) }
    rule "log"       { when http.path == "/i" then log }
    rule "tag"       { when http.path == "/j" then tag("x") }
  )");
  ASSERT_NE(p, nullptr);
  Req req;
  auto eval = [&](const char* path) {
    req.path = path;
    return p->Evaluate(req.input());
  };
  EXPECT_EQ(eval("/a").action, Action::kAllow);
  EXPECT_EQ(eval("/a").matched_rule_name, "allow");
  EXPECT_EQ(eval("/b").status, 403);
  EXPECT_EQ(eval("/c").status, 451);
  EXPECT_EQ(eval("/d").action, Action::kChallenge);
  EXPECT_EQ(eval("/e").tarpit_ms, 250u);
  EXPECT_EQ(eval("/f").tarpit_ms, 2000u);
  PolicyResult g = eval("/g");
  EXPECT_EQ(g.action, Action::kDivert);
  EXPECT_EQ(g.divert_pool_name, "canary");
  ASSERT_EQ(p->divert_pools().size(), 1u);
  EXPECT_EQ(p->divert_pools()[g.divert_pool], "canary");
  PolicyResult h = eval("/h");
  EXPECT_EQ(h.action, Action::kAllow);
  EXPECT_EQ(h.matched_rule, -1);
  EXPECT_EQ(h.rate_limits, 1u);
  EXPECT_TRUE(eval("/i").log);
  EXPECT_EQ(eval("/j").tags, 1u);
  EXPECT_EQ(eval("/j").rules_matched, 1u);
  EXPECT_EQ(p->rules().size(), 10u);
  EXPECT_TRUE(p->rules()[2].terminal);
  EXPECT_EQ(p->rules()[2].action, Action::kBlock);
  EXPECT_FALSE(p->rules()[8].terminal);
  EXPECT_EQ(p->rules()[3].line, 5);
}

TEST(PolicyParser, DefaultActionIsConfigurable) {
  auto p = MustCompile(R"(
    default block(503)
    rule "ok" { when http.path == "/health" then allow }
  )");
  ASSERT_NE(p, nullptr);
  Req req;
  req.path = "/other";
  PolicyResult r = p->Evaluate(req.input());
  EXPECT_EQ(r.action, Action::kBlock);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.matched_rule, -1);
  req.path = "/health";
  EXPECT_EQ(p->Evaluate(req.input()).action, Action::kAllow);
  auto q = MustCompile("default divert(\"maintenance\")");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->Evaluate(req.input()).divert_pool_name, "maintenance");
}

TEST(PolicyParser, MultilineRulesAndComments) {
  auto p = MustCompile(
      "# leading comment\n"
      "rule \"multi\" {  // trailing comment\n"
      "  when http.path == \"/x\"   # why\n"
      "       or http.path == \"/y\"\n"
      "  then\n"
      "    tag(\"t\"),\n"
      "    block\n"
      "}\n");
  ASSERT_NE(p, nullptr);
  Req req;
  req.path = "/y";
  EXPECT_EQ(p->Evaluate(req.input()).action, Action::kBlock);
}

TEST(PolicyParser, RuleNamesMayHoldAnyPrintableText) {
  auto p = MustCompile("rule \"Block /admin (ticket #42): ünïcode\" { when true then block }");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->rules()[0].name, "Block /admin (ticket #42): ünïcode");
}

// ---- errors -------------------------------------------------------------------------------

TEST(PolicyParserErrors, MessageHasPositionSnippetAndCaret) {
  std::string msg = CompileError("rule \"a\" {\n  when http.path == \"/x\" then blok\n}\n");
  EXPECT_EQ(msg,
            "policy:2:31: unknown action 'blok' (allow, block, challenge, tarpit, divert, "
            "rate_limit, log, tag)\n"
            "    when http.path == \"/x\" then blok\n"
            "                                ^");
}

TEST(PolicyParserErrors, NameFromOptionsPrefixesTheMessage) {
  CompileOptions options;
  options.name = "acme/v7";
  EXPECT_THAT(CompileError("nope", options), StartsWith("acme/v7:1:1: expected 'rule'"));
}

TEST(PolicyParserErrors, LexicalErrors) {
  EXPECT_THAT(CompileError(R("http.path @ \"x\"")),
              StartsWith("policy:1:27: unexpected character '@'"));
  EXPECT_THAT(CompileError(R("http.path = \"x\"")),
              StartsWith("policy:1:27: unexpected '=': use '=='"));
  EXPECT_THAT(CompileError(R("! true")), StartsWith("policy:1:17: unexpected '!'"));
  EXPECT_THAT(CompileError(R("http.path == \"x")),
              StartsWith("policy:1:30: unterminated string literal"));
  EXPECT_THAT(CompileError(R("http.path == \"a\\qb\"")),
              StartsWith("policy:1:32: unknown escape '\\q'"));
  EXPECT_THAT(CompileError(R("http.path == \"\\x4\"")),
              StartsWith("policy:1:31: \\x needs two hex digits"));
  EXPECT_THAT(CompileError(R("http.path matches r\"abc")),
              StartsWith("policy:1:35: unterminated raw string literal"));
  EXPECT_THAT(CompileError("rule \"a\" { when true then tarpit(5q) }"),
              StartsWith("policy:1:35: unknown duration unit \"q\""));
  EXPECT_THAT(CompileError(R("ip.src in $")), StartsWith("policy:1:27: expected a list name"));
  EXPECT_THAT(CompileError("rule \"a\xff\" {"), HasSubstr("\\xff"));
}

TEST(PolicyParserErrors, StatementErrors) {
  EXPECT_THAT(CompileError("\n\n   allow"),
              StartsWith("policy:3:4: expected 'rule', 'default' or 'test', got 'allow'"));
  EXPECT_THAT(CompileError("rule { when true then block }"),
              StartsWith("policy:1:6: expected a string (the rule name) after 'rule', got '{'"));
  EXPECT_THAT(CompileError("rule \"a\" when true then block }"),
              StartsWith("policy:1:10: expected '{' after the rule name, got 'when'"));
  EXPECT_THAT(CompileError("rule \"a\" { true then block }"),
              StartsWith("policy:1:12: expected 'when' to start the rule's condition"));
  EXPECT_THAT(CompileError("rule \"a\" { when true block }"),
              StartsWith("policy:1:22: expected 'then' after the condition, got 'block'"));
  EXPECT_THAT(CompileError("rule \"a\" { when true then block"),
              StartsWith("policy:1:32: expected '}' to close the rule, got end of input"));
  EXPECT_THAT(
      CompileError("rule \"a\" { when true then block\nrule \"b\" { when true then allow }"),
      StartsWith("policy:2:1: expected '}' to close the rule, got 'rule'"));
  EXPECT_THAT(CompileError("rule \"\" { when true then block }"),
              StartsWith("policy:1:6: rule name must be non-empty printable text"));
  EXPECT_THAT(CompileError("rule \"a\\nb\" { when true then block }"),
              StartsWith("policy:1:6: rule name must be non-empty printable text"));
}

TEST(PolicyParserErrors, DuplicateRuleNamesPointAtTheFirst) {
  EXPECT_THAT(CompileError("rule \"a\" { when true then log }\n"
                           "rule \"b\" { when true then log }\n"
                           "rule \"a\" { when true then block }\n"),
              StartsWith("policy:3:6: duplicate rule name \"a\" (first defined at line 1)"));
}

TEST(PolicyParserErrors, DefaultErrors) {
  EXPECT_THAT(CompileError("default allow\ndefault block"),
              StartsWith("policy:2:1: a second 'default' (the first is at line 1)"));
  EXPECT_THAT(CompileError("default log"),
              StartsWith("policy:1:9: 'default' needs a terminal action"));
  EXPECT_THAT(CompileError("default tarpit"),
              StartsWith("policy:1:15: expected '(' after 'tarpit' (tarpit(ms)), got end of "
                         "input"));
}

TEST(PolicyParserErrors, ActionArgumentErrors) {
  const std::string p = "rule \"a\" { when true then ";  // actions start at column 27
  EXPECT_THAT(CompileError(p + "block(399) }"),
              StartsWith("policy:1:33: block status must be a whole number in 400..599, got 399"));
  EXPECT_THAT(CompileError(p + "block(600) }"), StartsWith("policy:1:33: block status"));
  EXPECT_THAT(CompileError(p + "block(403.5) }"), StartsWith("policy:1:33: block status"));
  EXPECT_THAT(CompileError(p + "block(\"403\") }"),
              StartsWith("policy:1:33: expected block status, got a string"));
  EXPECT_THAT(CompileError(p + "block(403 }"),
              StartsWith("policy:1:37: expected ')' after the block status, got '}'"));
  EXPECT_THAT(CompileError(p + "tarpit(0) }"),
              StartsWith("policy:1:34: tarpit delay in ms must be a whole number in 1..60000"));
  EXPECT_THAT(CompileError(p + "tarpit(61s) }"), StartsWith("policy:1:34: tarpit delay"));
  EXPECT_THAT(CompileError(p + "divert(pool) }"),
              StartsWith("policy:1:34: expected a string (the pool name), got 'pool'"));
  EXPECT_THAT(CompileError(p + "tag(\"has space\") }"),
              StartsWith("policy:1:31: tag names are 1..128 characters of [A-Za-z0-9_.:-]"));
  EXPECT_THAT(CompileError(p + "block, allow }"),
              StartsWith("policy:1:34: rule \"a\" already has the terminal action 'block'"));
  EXPECT_THAT(CompileError(p + "log tag(\"x\") }"),
              StartsWith("policy:1:31: expected '}' to close the rule, got 'tag'"));
  EXPECT_THAT(CompileError(p + "}"), StartsWith("policy:1:27: expected an action, got '}'"));
}

TEST(PolicyParserErrors, RateLimitErrors) {
  const std::string p = "rule \"a\" { when true then rate_limit(";  // arguments at column 38
  EXPECT_THAT(CompileError(p + "ip.src 10 per 60s) }"),
              StartsWith("policy:1:45: expected ',' after the rate_limit key, got a number"));
  EXPECT_THAT(CompileError(p + "ip.src, 10 in 60s) }"),
              StartsWith("policy:1:49: expected 'per' after the rate limit count"));
  EXPECT_THAT(CompileError(p + "ip.src, 10 per 60) }"),
              StartsWith("policy:1:53: expected a duration such as 60s after 'per', got a "
                         "number"));
  EXPECT_THAT(CompileError(p + "ip.src, 10 per 500ms) }"),
              StartsWith("policy:1:53: rate limit window in ms must be a whole number in "
                         "1000..86400000, got 500ms"));
  EXPECT_THAT(CompileError(p + "ip.src, 0 per 1s) }"),
              StartsWith("policy:1:46: rate limit count must be a whole number in 1.."));
  EXPECT_THAT(CompileError(p + "ip.src, 10 per 1s, 5) }"),
              StartsWith("policy:1:57: expected 'burst' after ','"));
  EXPECT_THAT(CompileError(p + "ip.src, 10 per 1s, burst -1) }"),
              StartsWith("policy:1:63: expected rate limit burst, got '-'"));
  EXPECT_THAT(CompileError(p + "ip.src, 1 per 1s), rate_limit(ip.src, 2 per 1s) }"),
              StartsWith("policy:1:57: rule \"a\" already has a rate_limit"));
}

TEST(PolicyParserErrors, FieldErrors) {
  EXPECT_THAT(CompileError(R("http.pth == \"/\"")),
              StartsWith("policy:1:17: unknown field 'http.pth'"));
  EXPECT_THAT(CompileError(R("http. == \"/\"")),
              StartsWith("policy:1:23: expected a field name after 'http.'"));
  EXPECT_THAT(CompileError(R("http.header == \"x\"")),
              StartsWith("policy:1:29: http.header needs a key: http.header[\"name\"]"));
  EXPECT_THAT(CompileError(R("http.header[x] == \"x\"")),
              StartsWith("policy:1:29: expected a string as the key of http.header, got 'x'"));
  EXPECT_THAT(CompileError(R("http.header[\"\"] == \"x\"")),
              StartsWith("policy:1:29: the key of http.header is empty"));
  EXPECT_THAT(CompileError(R("http.header[\"a\" == \"x\"")),
              StartsWith("policy:1:33: expected ']' after the key"));
  EXPECT_THAT(CompileError(R("http.path[\"a\"] == \"x\"")),
              StartsWith("policy:1:26: http.path takes no key"));
  EXPECT_THAT(CompileError(R("exists(http.path)")),
              StartsWith("policy:1:24: exists() takes http.args[\"k\"]"));
}

TEST(PolicyParserErrors, ExpressionErrors) {
  EXPECT_THAT(CompileError(R("{\"a\"} == http.path")),
              StartsWith("policy:1:17: a set literal {...} can only follow 'in'"));
  EXPECT_THAT(CompileError(R("$office")),
              StartsWith("policy:1:17: a list ($office) can only follow 'in'"));
  EXPECT_THAT(CompileError("rule \"r\" { when then block }"),
              StartsWith("policy:1:17: expected an expression, got 'then'"));
  EXPECT_THAT(CompileError(R("(true")),
              StartsWith("policy:1:23: expected ')' to close '(', got 'then'"));
  EXPECT_THAT(CompileError(R("waf.score > 1s")),
              StartsWith("policy:1:29: durations are only allowed in action arguments"));
  EXPECT_THAT(CompileError(R("waf.score > 1 > 0")),
              StartsWith("policy:1:31: comparisons do not chain"));
  EXPECT_THAT(CompileError(R("- true")), StartsWith("policy:1:19: expected a number after '-'"));
  EXPECT_THAT(CompileError(R("http.path in {\"a\" \"b\"}")),
              StartsWith("policy:1:35: expected '}' to close the set literal, got a string"));
}

TEST(PolicyParserErrors, UnknownNames) {
  EXPECT_THAT(CompileError(R("ip.src in $office")),
              StartsWith("policy:1:27: unknown list $office (no lists are configured)"));
  EXPECT_THAT(CompileError(R("\"sqlinjection\" in waf.category")),
              StartsWith("policy:1:17: unknown WAF category \"sqlinjection\" (known: sqli, xss"));
  EXPECT_THAT(CompileError(R("waf.category contains \"nope\"")),
              StartsWith("policy:1:39: unknown WAF category \"nope\""));
  CompileOptions options;
  options.pools = {"main", "canary"};
  options.rate_counters = {"login"};
  EXPECT_THAT(CompileError("rule \"a\" { when true then divert(\"canry\") }", options),
              StartsWith("policy:1:34: unknown pool \"canry\" (known: main, canary)"));
  EXPECT_THAT(CompileError(R("rate[\"logins\"] > 1"), options),
              StartsWith("policy:1:22: unknown rate counter \"logins\" (known: login)"));
}

TEST(PolicyParserErrors, BadListEntriesNameTheListAndEntry) {
  CompileOptions options;
  options.lists["office"] = {"10.0.0.0/8", "10.0.0.1/8"};
  options.lists["scores"] = {"1", "high"};
  EXPECT_THAT(CompileError(R("ip.src in $office"), options),
              StartsWith("policy:1:27: list $office entry 2: \"10.0.0.1/8\" has host bits set"));
  EXPECT_THAT(CompileError(R("waf.score in $scores"), options),
              StartsWith("policy:1:30: list $scores entry 2 (\"high\") is not a number"));
}

TEST(PolicyParserErrors, InvalidRegexIsRejectedWithItsPosition) {
  EXPECT_THAT(CompileError("rule \"a\" {\n  when http.path matches \"(abc\" then block\n}"),
              StartsWith("policy:2:26: invalid regex: missing ): (abc"));
  EXPECT_THAT(CompileError(R("http.path matches r\"a**\"")),
              StartsWith("policy:1:35: invalid regex: bad repetition operator: ** at pattern "
                         "offset 1"));
  EXPECT_THAT(CompileError(R("http.path matches r\"(?<name>x)\"")),
              StartsWith("policy:1:35: invalid regex"));
  EXPECT_THAT(CompileError(R("http.path matches http.host")),
              StartsWith("policy:1:35: 'matches' needs a regex string literal, got 'http'"));
}

// Rule sets come from tenants: no source, however mangled, may crash the compiler, and whatever
// compiles must evaluate and run its tests.
TEST(PolicyParserErrors, MutatedSourcesNeverCrash) {
  const std::string seed = R"policy(
default block(503)
rule "a" { when http.path starts_with "/admin" and ip.src not in $office then tag("x"), block }
rule "b" { when http.header["ua"] matches r"(?i)bot" or waf.score >= 5 then challenge }
rule "c" { when "sqli" in waf.category then rate_limit(ip.src, 5 per 1m, burst 2), log }
rule "d" { when len(http.query) > 10 and not exists(http.cookie["s"]) then tarpit(2s) }
rule "e" { when time.hour in {1, 2} and rate["r"] > -1 then divert("p") }
test "t" { request { path "/admin" ip "1.2.3.4" waf.category "sqli" time "2024-05-01T03:00:00Z" }
           expect block expect tag "x" expect not tag "x" expect rate_limit "c" }
)policy";
  CompileOptions options;
  options.lists["office"] = {"10.0.0.0/8"};
  std::mt19937 rng(12345);
  const std::string alphabet = "\"(){}[],.$-=!<>#/\\ \nrxs0123456789aeinotu_\x01\xff";
  int compiled = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string src = seed;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % (src.size() + 1);
      switch (rng() % 4) {
        case 0:
          if (at < src.size()) src.erase(at, 1 + rng() % 8);
          break;
        case 1:
          src.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 2:
          if (at < src.size()) src[at] = alphabet[rng() % alphabet.size()];
          break;
        default:
          src.resize(at);
          break;
      }
    }
    auto p = CompiledPolicy::Compile(src, options);
    if (!p.ok()) {
      ASSERT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << src;
      ASSERT_THAT(std::string(p.status().message()), StartsWith("policy:")) << src;
      continue;
    }
    ++compiled;
    Req req;
    (*p)->Evaluate(req.input());
    (*p)->RunTests();
  }
  EXPECT_GT(compiled, 100);  // the mutations also produced valid programs
}

}  // namespace
}  // namespace shieldx::policy
