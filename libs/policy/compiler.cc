// The compiler: one recursive-descent pass that parses, type-checks and resolves names, and
// emits nodes into a Program. The first error wins and carries its source position.
#include "libs/policy/compiler.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "libs/base/status_macros.h"
#include "libs/policy/lexer.h"

namespace shieldx::policy::internal {
namespace {

struct FieldSpec {
  const char* name;
  Field field;
  Type type;
  bool keyed;
};

constexpr FieldSpec kFields[] = {
    {"http.method", Field::kMethod, Type::kString, false},
    {"http.host", Field::kHost, Type::kString, false},
    {"http.path", Field::kPath, Type::kString, false},
    {"http.query", Field::kQuery, Type::kString, false},
    {"http.args", Field::kArg, Type::kString, true},
    {"http.header", Field::kHeader, Type::kString, true},
    {"http.cookie", Field::kCookie, Type::kString, true},
    {"ip.src", Field::kIpSrc, Type::kIp, false},
    {"waf.score", Field::kWafScore, Type::kNumber, false},
    {"waf.category", Field::kWafCategory, Type::kCategorySet, false},
    {"auth.risk", Field::kAuthRisk, Type::kNumber, false},
    {"rate", Field::kRate, Type::kNumber, true},
    {"tenant.id", Field::kTenantId, Type::kString, false},
    {"route.id", Field::kRouteId, Type::kString, false},
    {"time.hour", Field::kTimeHour, Type::kNumber, false},
    {"time.minute", Field::kTimeMinute, Type::kNumber, false},
    {"time.weekday", Field::kTimeWeekday, Type::kNumber, false},
};

// Short names accepted in a test's request block.
constexpr std::pair<const char*, const char*> kTestAliases[] = {
    {"method", "http.method"}, {"host", "http.host"},     {"path", "http.path"},
    {"query", "http.query"},   {"ip", "ip.src"},          {"tenant", "tenant.id"},
    {"route", "route.id"},     {"header", "http.header"}, {"arg", "http.args"},
    {"cookie", "http.cookie"},
};

const FieldSpec* FindField(std::string_view name) {
  for (const FieldSpec& f : kFields) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

// Words that start or separate constructs; never field names.
bool IsReserved(std::string_view w) {
  static constexpr const char* kWords[] = {
      "rule", "when",    "then",     "and",         "or",        "not",     "in",
      "true", "false",   "contains", "starts_with", "ends_with", "matches", "default",
      "test", "request", "expect",   "per",         "burst",     "exists",  "len"};
  for (const char* k : kWords) {
    if (w == k) return true;
  }
  return false;
}

bool IsValidName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

// Tag names become metric labels and log fields: keep them tame.
bool IsValidTag(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
          c == ':')) {
      return false;
    }
  }
  return true;
}

absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool IsInteger(double v) { return std::isfinite(v) && v == std::floor(v); }

struct Expr {
  int32_t node = -1;
  Type type = Type::kBool;
  uint32_t offset = 0;  // first byte in the source
  bool is_const_string = false;
};

// A name used by a test that can only be resolved once every rule is known.
struct PendingName {
  std::string name;
  uint32_t offset = 0;
};

struct PendingTest {
  std::size_t index = 0;  // in Program::tests
  std::optional<PendingName> rule;
  std::vector<PendingName> tags_present, tags_absent, rate_limits;
  std::vector<std::pair<PendingName, double>> rate_counters;
};

class Compiler {
 public:
  Compiler(std::string_view source, const CompileOptions& options, Program* p)
      : src_(source), opt_(options), lim_(options.limits), map_(options.name, source), p_(p) {}

  absl::Status Run() {
    if (opt_.waf_categories.size() > static_cast<std::size_t>(limits::kMaxWafCategories)) {
      return absl::InvalidArgumentError(absl::StrCat(
          opt_.name, ": ", opt_.waf_categories.size(),
          " WAF categories configured, over the limit of ", limits::kMaxWafCategories));
    }
    p_->name = opt_.name;
    p_->waf_categories = opt_.waf_categories;
    p_->rate_counter_names = opt_.rate_counters;
    p_->default_result.action = Action::kAllow;
    SHIELDX_RETURN_IF_ERROR(Tokenize(src_, map_, lim_.max_string_literal_bytes, &toks_));
    while (Peek().kind != Tok::kEnd) {
      const Token& t = Peek();
      if (IsWord("rule")) {
        SHIELDX_RETURN_IF_ERROR(ParseRule());
      } else if (IsWord("default")) {
        SHIELDX_RETURN_IF_ERROR(ParseDefault());
      } else if (IsWord("test")) {
        SHIELDX_RETURN_IF_ERROR(ParseTest());
      } else {
        return Err(t, absl::StrCat("expected 'rule', 'default' or 'test', got ", Describe(t)));
      }
    }
    for (PendingTest& pt : pending_tests_) SHIELDX_RETURN_IF_ERROR(ResolveTest(pt));
    return absl::OkStatus();
  }

 private:
  // ---- tokens ---------------------------------------------------------------------------

  const Token& Peek(std::size_t k = 0) const { return toks_[std::min(pos_ + k, toks_.size() - 1)]; }
  const Token& Advance() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool IsWord(std::string_view w, std::size_t k = 0) const {
    return Peek(k).kind == Tok::kIdent && Peek(k).text == w;
  }
  bool AcceptWord(std::string_view w) {
    if (!IsWord(w)) return false;
    Advance();
    return true;
  }
  bool Accept(Tok kind) {
    if (Peek().kind != kind) return false;
    Advance();
    return true;
  }
  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case Tok::kIdent:
        return absl::StrCat("'", t.text, "'");
      case Tok::kString:
        return "a string";
      case Tok::kNumber:
        return "a number";
      case Tok::kDuration:
        return "a duration";
      case Tok::kListRef:
        return absl::StrCat("$", t.text);
      default:
        return TokName(t.kind);
    }
  }
  absl::Status Err(const Token& t, std::string_view msg) const { return map_.Error(t.offset, msg); }
  absl::Status Err(uint32_t offset, std::string_view msg) const { return map_.Error(offset, msg); }
  absl::Status Expect(Tok kind, std::string_view context) {
    if (Peek().kind == kind) {
      Advance();
      return absl::OkStatus();
    }
    return Err(Peek(), absl::StrCat("expected ", TokName(kind), " ", AV(context), ", got ",
                                    Describe(Peek())));
  }
  absl::Status ExpectWord(std::string_view w, std::string_view context) {
    if (AcceptWord(w)) return absl::OkStatus();
    return Err(Peek(),
               absl::StrCat("expected '", AV(w), "' ", AV(context), ", got ", Describe(Peek())));
  }
  absl::Status ExpectString(std::string_view context, std::string* out,
                            uint32_t* offset = nullptr) {
    if (Peek().kind != Tok::kString) {
      return Err(Peek(),
                 absl::StrCat("expected a string ", AV(context), ", got ", Describe(Peek())));
    }
    if (offset) *offset = Peek().offset;
    *out = Advance().text;
    return absl::OkStatus();
  }
  // An integer literal in [lo, hi]; durations are accepted (as ms) when `allow_duration`.
  absl::Status ExpectInteger(std::string_view what, int64_t lo, int64_t hi, bool allow_duration,
                             int64_t* out) {
    const Token& t = Peek();
    if (t.kind != Tok::kNumber && !(allow_duration && t.kind == Tok::kDuration)) {
      return Err(t, absl::StrCat("expected ", AV(what), ", got ", Describe(t)));
    }
    if (!IsInteger(t.number) || t.number < static_cast<double>(lo) ||
        t.number > static_cast<double>(hi)) {
      return Err(t, absl::StrCat(AV(what), " must be a whole number in ", lo, "..", hi, ", got ",
                                 std::string(src_.substr(t.offset, t.length))));
    }
    *out = static_cast<int64_t>(t.number);
    Advance();
    return absl::OkStatus();
  }
  // End offset of the last consumed token.
  uint32_t PrevEnd() const {
    const Token& t = toks_[pos_ == 0 ? 0 : pos_ - 1];
    return t.offset + t.length;
  }

  absl::Status CheckName(const Token& t, std::string_view what, std::string_view name) const {
    if (!IsValidName(name)) {
      return Err(t, absl::StrCat(AV(what), " must be non-empty printable text"));
    }
    if (name.size() > lim_.max_name_bytes) {
      return Err(t, absl::StrCat(AV(what), " is ", name.size(), " bytes, over the limit of ",
                                 lim_.max_name_bytes));
    }
    return absl::OkStatus();
  }

  // ---- statements -----------------------------------------------------------------------

  absl::Status ParseRule() {
    const Token& rule_tok = Advance();  // rule
    if (p_->rules.size() >= lim_.max_rules) {
      return Err(rule_tok, absl::StrCat("more than ", lim_.max_rules, " rules (the limit)"));
    }
    const Token& name_tok = Peek();
    RuleInfo info;
    SHIELDX_RETURN_IF_ERROR(ExpectString("(the rule name) after 'rule'", &info.name));
    SHIELDX_RETURN_IF_ERROR(CheckName(name_tok, "rule name", info.name));
    if (auto it = rule_lines_.find(info.name); it != rule_lines_.end()) {
      return Err(name_tok, absl::StrCat("duplicate rule name \"", info.name,
                                        "\" (first defined at line ", it->second, ")"));
    }
    info.line = map_.Line(rule_tok.offset);
    SHIELDX_RETURN_IF_ERROR(Expect(Tok::kLBrace, "after the rule name"));
    SHIELDX_RETURN_IF_ERROR(ExpectWord("when", "to start the rule's condition"));
    Expr cond;
    SHIELDX_RETURN_IF_ERROR(ParseExpr(1, &cond));
    if (cond.type != Type::kBool) {
      return Err(cond.offset,
                 absl::StrCat("a rule condition must be bool, got ", TypeName(cond.type)));
    }
    SHIELDX_RETURN_IF_ERROR(ExpectWord("then", "after the condition"));
    const int rule_index = static_cast<int>(p_->rules.size());
    rule_lines_.emplace(info.name, info.line);
    Rule rule;
    rule.condition = cond.node;
    std::string terminal_name;
    std::size_t actions = 0;
    do {
      if (++actions > lim_.max_actions_per_rule) {
        return Err(Peek(), absl::StrCat("more than ", lim_.max_actions_per_rule,
                                        " actions in one rule (the limit)"));
      }
      SHIELDX_RETURN_IF_ERROR(ParseAction(rule_index, info.name, &rule, &terminal_name));
    } while (Accept(Tok::kComma));
    SHIELDX_RETURN_IF_ERROR(Expect(Tok::kRBrace, "to close the rule"));
    info.terminal = rule.terminal;
    info.action = rule.act.action;
    p_->rules.push_back(rule);
    p_->rule_info.push_back(std::move(info));
    return absl::OkStatus();
  }

  absl::Status ParseDefault() {
    const Token& t = Advance();
    if (has_default_) {
      return Err(t, absl::StrCat("a second 'default' (the first is at line ", default_line_, ")"));
    }
    has_default_ = true;
    default_line_ = map_.Line(t.offset);
    TerminalAction act;
    bool has_args = false;
    if (!IsTerminalWord()) {
      return Err(Peek(), absl::StrCat("'default' needs a terminal action (allow, block, "
                                      "challenge, tarpit, divert), got ",
                                      Describe(Peek())));
    }
    SHIELDX_RETURN_IF_ERROR(ParseTerminal(/*in_expect=*/false, &act, &has_args));
    PolicyResult& d = p_->default_result;
    d.action = act.action;
    d.status = act.status;
    d.tarpit_ms = act.tarpit_ms;
    d.divert_pool = act.divert_pool;
    if (act.divert_pool >= 0) d.divert_pool_name = p_->divert_pools[act.divert_pool];
    return absl::OkStatus();
  }

  bool IsTerminalWord() const {
    return IsWord("allow") || IsWord("block") || IsWord("challenge") || IsWord("tarpit") ||
           IsWord("divert");
  }

  // allow | block [(status)] | challenge | tarpit(ms) | divert("pool"). In a test's expect,
  // arguments are optional (block alone matches any status) and `has_args` says whether given.
  absl::Status ParseTerminal(bool in_expect, TerminalAction* act, bool* has_args) {
    const Token& t = Advance();
    *has_args = false;
    if (t.text == "allow") {
      act->action = Action::kAllow;
    } else if (t.text == "challenge") {
      act->action = Action::kChallenge;
    } else if (t.text == "block") {
      act->action = Action::kBlock;
      act->status = limits::kDefaultBlockStatus;
      if (Accept(Tok::kLParen)) {
        int64_t status = 0;
        SHIELDX_RETURN_IF_ERROR(ExpectInteger("block status", limits::kMinBlockStatus,
                                              limits::kMaxBlockStatus, false, &status));
        act->status = static_cast<int>(status);
        *has_args = true;
        SHIELDX_RETURN_IF_ERROR(Expect(Tok::kRParen, "after the block status"));
      }
    } else if (t.text == "tarpit") {
      act->action = Action::kTarpit;
      if (Peek().kind == Tok::kLParen || !in_expect) {
        SHIELDX_RETURN_IF_ERROR(Expect(Tok::kLParen, "after 'tarpit' (tarpit(ms))"));
        int64_t ms = 0;
        SHIELDX_RETURN_IF_ERROR(
            ExpectInteger("tarpit delay in ms", 1, limits::kMaxTarpitMs, true, &ms));
        act->tarpit_ms = static_cast<uint32_t>(ms);
        *has_args = true;
        SHIELDX_RETURN_IF_ERROR(Expect(Tok::kRParen, "after the tarpit delay"));
      }
    } else if (t.text == "divert") {
      act->action = Action::kDivert;
      if (Peek().kind == Tok::kLParen || !in_expect) {
        SHIELDX_RETURN_IF_ERROR(Expect(Tok::kLParen, "after 'divert' (divert(\"pool\"))"));
        const Token& pool_tok = Peek();
        std::string pool;
        SHIELDX_RETURN_IF_ERROR(ExpectString("(the pool name)", &pool));
        SHIELDX_RETURN_IF_ERROR(CheckName(pool_tok, "pool name", pool));
        if (in_expect) {
          auto it = std::find(p_->divert_pools.begin(), p_->divert_pools.end(), pool);
          if (it == p_->divert_pools.end()) {
            return Err(pool_tok, absl::StrCat("no rule diverts to pool \"", pool, "\""));
          }
          act->divert_pool = static_cast<int>(it - p_->divert_pools.begin());
        } else {
          SHIELDX_RETURN_IF_ERROR(InternPool(pool_tok, pool, &act->divert_pool));
        }
        *has_args = true;
        SHIELDX_RETURN_IF_ERROR(Expect(Tok::kRParen, "after the pool name"));
      }
    } else {
      return Err(t, absl::StrCat("unknown action ", Describe(t)));
    }
    return absl::OkStatus();
  }

  absl::Status InternPool(const Token& t, const std::string& pool, int* index) {
    if (!opt_.pools.empty() &&
        std::find(opt_.pools.begin(), opt_.pools.end(), pool) == opt_.pools.end()) {
      return Err(t, absl::StrCat("unknown pool \"", pool,
                                 "\" (known: ", absl::StrJoin(opt_.pools, ", "), ")"));
    }
    auto it = std::find(p_->divert_pools.begin(), p_->divert_pools.end(), pool);
    if (it != p_->divert_pools.end()) {
      *index = static_cast<int>(it - p_->divert_pools.begin());
      return absl::OkStatus();
    }
    if (p_->divert_pools.size() >= static_cast<std::size_t>(limits::kMaxDivertPools)) {
      return Err(t, absl::StrCat("more than ", limits::kMaxDivertPools,
                                 " distinct divert pools (the limit)"));
    }
    *index = static_cast<int>(p_->divert_pools.size());
    p_->divert_pools.push_back(pool);
    return absl::OkStatus();
  }

  absl::Status InternTag(const Token& t, const std::string& tag, int* index) {
    if (!IsValidTag(tag) || tag.size() > lim_.max_name_bytes) {
      return Err(t, absl::StrCat("tag names are 1..", lim_.max_name_bytes,
                                 " characters of [A-Za-z0-9_.:-]"));
    }
    auto it = std::find(p_->tag_names.begin(), p_->tag_names.end(), tag);
    if (it != p_->tag_names.end()) {
      *index = static_cast<int>(it - p_->tag_names.begin());
      return absl::OkStatus();
    }
    if (p_->tag_names.size() >= static_cast<std::size_t>(limits::kMaxTags)) {
      return Err(t, absl::StrCat("more than ", limits::kMaxTags, " distinct tags (the limit)"));
    }
    *index = static_cast<int>(p_->tag_names.size());
    p_->tag_names.push_back(tag);
    return absl::OkStatus();
  }

  absl::Status ParseAction(int rule_index, const std::string& rule_name, Rule* rule,
                           std::string* terminal_name) {
    const Token& t = Peek();
    if (t.kind != Tok::kIdent) {
      return Err(t, absl::StrCat("expected an action, got ", Describe(t)));
    }
    if (IsTerminalWord()) {
      if (rule->terminal) {
        return Err(t, absl::StrCat("rule \"", rule_name, "\" already has the terminal action '",
                                   *terminal_name, "'; a rule has at most one"));
      }
      bool has_args = false;
      *terminal_name = t.text;
      SHIELDX_RETURN_IF_ERROR(ParseTerminal(false, &rule->act, &has_args));
      rule->terminal = true;
      return absl::OkStatus();
    }
    if (t.text == "log") {
      Advance();
      rule->log = true;
      return absl::OkStatus();
    }
    if (t.text == "tag") {
      Advance();
      SHIELDX_RETURN_IF_ERROR(Expect(Tok::kLParen, "after 'tag' (tag(\"name\"))"));
      const Token& tag_tok = Peek();
      std::string tag;
      SHIELDX_RETURN_IF_ERROR(ExpectString("(the tag name)", &tag));
      int index = 0;
      SHIELDX_RETURN_IF_ERROR(InternTag(tag_tok, tag, &index));
      rule->tags |= uint64_t{1} << index;
      return Expect(Tok::kRParen, "after the tag name");
    }
    if (t.text == "rate_limit") return ParseRateLimit(rule_index, rule_name, rule);
    return Err(t, absl::StrCat("unknown action ", Describe(t),
                               " (allow, block, challenge, tarpit, divert, rate_limit, log, tag)"));
  }

  // rate_limit(key, N per window [, burst B])
  absl::Status ParseRateLimit(int rule_index, const std::string& rule_name, Rule* rule) {
    const Token& t = Advance();
    if (rule->rate_limits != 0) {
      return Err(t, absl::StrCat("rule \"", rule_name, "\" already has a rate_limit"));
    }
    if (p_->rate_limit_specs.size() >= static_cast<std::size_t>(limits::kMaxRateLimits)) {
      return Err(
          t, absl::StrCat("more than ", limits::kMaxRateLimits, " rate_limit actions (the limit)"));
    }
    SHIELDX_RETURN_IF_ERROR(
        Expect(Tok::kLParen, "after 'rate_limit' (rate_limit(key, N per 60s, burst B))"));
    Expr key;
    SHIELDX_RETURN_IF_ERROR(ParseExpr(1, &key));
    if (key.type != Type::kString && key.type != Type::kIp && key.type != Type::kNumber) {
      return Err(key.offset, absl::StrCat("a rate_limit key must be a string, ip or number, got ",
                                          TypeName(key.type)));
    }
    RateLimitSpec spec;
    spec.rule = rule_index;
    spec.rule_name = rule_name;
    spec.key_text = std::string(src_.substr(key.offset, PrevEnd() - key.offset));
    SHIELDX_RETURN_IF_ERROR(Expect(Tok::kComma, "after the rate_limit key"));
    SHIELDX_RETURN_IF_ERROR(
        ExpectInteger("rate limit count", 1, limits::kMaxRateLimitCount, false, &spec.limit));
    SHIELDX_RETURN_IF_ERROR(ExpectWord("per", "after the rate limit count (N per 60s)"));
    const Token& window_tok = Peek();
    if (window_tok.kind != Tok::kDuration) {
      return Err(window_tok, absl::StrCat("expected a duration such as 60s after 'per', got ",
                                          Describe(window_tok)));
    }
    SHIELDX_RETURN_IF_ERROR(ExpectInteger("rate limit window in ms", limits::kMinRateWindowMs,
                                          limits::kMaxRateWindowMs, true, &spec.window_ms));
    if (Accept(Tok::kComma)) {
      SHIELDX_RETURN_IF_ERROR(ExpectWord("burst", "after ',' (burst B)"));
      SHIELDX_RETURN_IF_ERROR(
          ExpectInteger("rate limit burst", 0, limits::kMaxRateLimitCount, false, &spec.burst));
    }
    SHIELDX_RETURN_IF_ERROR(Expect(Tok::kRParen, "to close rate_limit(...)"));
    const int index = static_cast<int>(p_->rate_limit_specs.size());
    rule->rate_limits |= uint64_t{1} << index;
    p_->rate_limit_specs.push_back(std::move(spec));
    p_->rate_limit_keys.push_back(RateLimit{key.node, key.type});
    return absl::OkStatus();
  }

  // ---- tests ----------------------------------------------------------------------------

  absl::Status ParseTest() {
    const Token& test_tok = Advance();
    if (p_->tests.size() >= lim_.max_tests) {
      return Err(test_tok, absl::StrCat("more than ", lim_.max_tests, " tests (the limit)"));
    }
    TestCase tc;
    const Token& name_tok = Peek();
    SHIELDX_RETURN_IF_ERROR(ExpectString("(the test name) after 'test'", &tc.name));
    SHIELDX_RETURN_IF_ERROR(CheckName(name_tok, "test name", tc.name));
    if (auto it = test_lines_.find(tc.name); it != test_lines_.end()) {
      return Err(name_tok, absl::StrCat("duplicate test name \"", tc.name,
                                        "\" (first defined at line ", it->second, ")"));
    }
    tc.line = map_.Line(test_tok.offset);
    test_lines_.emplace(tc.name, tc.line);
    PendingTest pending;
    pending.index = p_->tests.size();
    SHIELDX_RETURN_IF_ERROR(Expect(Tok::kLBrace, "after the test name"));
    SHIELDX_RETURN_IF_ERROR(ExpectWord("request", "to start the test ('request { ... }')"));
    SHIELDX_RETURN_IF_ERROR(ParseTestRequest(&tc.request, &pending));
    bool has_action = false;
    while (AcceptWord("expect")) {
      SHIELDX_RETURN_IF_ERROR(ParseExpect(&tc.expect, &pending, &has_action));
    }
    if (!has_action) {
      return Err(name_tok, absl::StrCat("test \"", tc.name,
                                        "\" has no 'expect <action>' (e.g. expect block)"));
    }
    SHIELDX_RETURN_IF_ERROR(Expect(Tok::kRBrace, "to close the test"));
    p_->tests.push_back(std::move(tc));
    pending_tests_.push_back(std::move(pending));
    return absl::OkStatus();
  }

  absl::Status ParseTestRequest(TestRequest* req, PendingTest* pending) {
    SHIELDX_RETURN_IF_ERROR(Expect(Tok::kLBrace, "after 'request'"));
    std::vector<std::string> seen;
    while (!Accept(Tok::kRBrace)) {
      const Token& t = Peek();
      if (t.kind != Tok::kIdent) {
        return Err(t, absl::StrCat("expected a request field or '}', got ", Describe(t)));
      }
      if (t.text == "time" && Peek(1).kind != Tok::kDot) {
        Advance();
        std::string text;
        const Token& value_tok = Peek();
        SHIELDX_RETURN_IF_ERROR(ExpectString("(an RFC 3339 time) after 'time'", &text));
        absl::Time when;
        std::string error;
        if (!absl::ParseTime(absl::RFC3339_full, text, &when, &error)) {
          return Err(value_tok, absl::StrCat("invalid time \"", text,
                                             "\" (want RFC 3339, e.g. 2024-05-01T09:30:00Z)"));
        }
        req->unix_time_s = absl::ToUnixSeconds(when);
        continue;
      }
      // A field reference, as in expressions (aliases allowed).
      std::string name = Advance().text;
      for (const auto& [alias, full] : kTestAliases) {
        if (name == alias) name = full;
      }
      while (Peek().kind == Tok::kDot && Peek(1).kind == Tok::kIdent) {
        Advance();
        name = absl::StrCat(name, ".", Advance().text);
      }
      const FieldSpec* spec = FindField(name);
      if (spec == nullptr || spec->field == Field::kTimeHour || spec->field == Field::kTimeMinute ||
          spec->field == Field::kTimeWeekday) {
        return Err(t, absl::StrCat("unknown request field '", name,
                                   "' (see README: method, path, header[\"k\"], ip, waf.score, "
                                   "time, ...)"));
      }
      std::string key;
      if (spec->keyed) {
        SHIELDX_RETURN_IF_ERROR(
            Expect(Tok::kLBracket, absl::StrCat("after ", name, " ([\"key\"])")));
        SHIELDX_RETURN_IF_ERROR(ExpectString("(the key)", &key));
        SHIELDX_RETURN_IF_ERROR(Expect(Tok::kRBracket, "after the key"));
      } else if (spec->field != Field::kWafCategory) {
        if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
          return Err(t, absl::StrCat("request field '", name, "' given twice"));
        }
        seen.push_back(name);
      }
      SHIELDX_RETURN_IF_ERROR(ParseTestValue(*spec, t, key, req, pending));
    }
    return absl::OkStatus();
  }

  absl::Status ParseTestValue(const FieldSpec& spec, const Token& field_tok, const std::string& key,
                              TestRequest* req, PendingTest* pending) {
    const Token& v = Peek();
    if (spec.type == Type::kNumber) {
      double sign = 1;
      if (Accept(Tok::kMinus)) sign = -1;
      if (Peek().kind != Tok::kNumber) {
        return Err(Peek(),
                   absl::StrCat("expected a number for ", spec.name, ", got ", Describe(Peek())));
      }
      const double value = sign * Advance().number;
      switch (spec.field) {
        case Field::kWafScore:
          req->waf_score = value;
          break;
        case Field::kAuthRisk:
          req->auth_risk = value;
          break;
        default:  // kRate
          pending->rate_counters.push_back({PendingName{key, field_tok.offset}, value});
          break;
      }
      return absl::OkStatus();
    }
    std::string text;
    SHIELDX_RETURN_IF_ERROR(ExpectString(absl::StrCat("for ", spec.name), &text));
    switch (spec.field) {
      case Field::kMethod:
        req->method = text;
        break;
      case Field::kHost:
        req->host = text;
        break;
      case Field::kPath:
        req->path = text;
        break;
      case Field::kQuery:
        req->query = text;
        break;
      case Field::kTenantId:
        req->tenant_id = text;
        break;
      case Field::kRouteId:
        req->route_id = text;
        break;
      case Field::kArg:
        req->args.emplace_back(key, text);
        break;
      case Field::kHeader:
        req->headers.emplace_back(absl::AsciiStrToLower(key), text);
        break;
      case Field::kCookie:
        req->cookies.emplace_back(key, text);
        break;
      case Field::kIpSrc: {
        std::optional<IpAddress> ip = IpAddress::Parse(text);
        if (!ip) return Err(v, absl::StrCat("\"", text, "\" is not an IPv4 or IPv6 address"));
        req->ip_src = *ip;
        break;
      }
      case Field::kWafCategory: {
        int bit = 0;
        SHIELDX_RETURN_IF_ERROR(CategoryBit(v.offset, text, &bit));
        req->waf_categories |= uint64_t{1} << bit;
        break;
      }
      default:
        return Err(field_tok, absl::StrCat("field ", spec.name, " cannot be set in a test"));
    }
    return absl::OkStatus();
  }

  absl::Status ParseExpect(TestExpectation* e, PendingTest* pending, bool* has_action) {
    const Token& t = Peek();
    if (IsTerminalWord()) {
      if (*has_action) return Err(t, "a test expects one action; this is the second");
      *has_action = true;
      bool has_args = false;
      SHIELDX_RETURN_IF_ERROR(ParseTerminal(/*in_expect=*/true, &e->act, &has_args));
      e->check_status = e->act.action == Action::kBlock && has_args;
      e->check_tarpit = e->act.action == Action::kTarpit && has_args;
      if (e->act.action == Action::kDivert && !has_args) e->act.divert_pool = -1;
      return absl::OkStatus();
    }
    if (AcceptWord("default")) {
      e->rule = -1;
      return absl::OkStatus();
    }
    if (AcceptWord("rule")) {
      PendingName n;
      n.offset = Peek().offset;
      SHIELDX_RETURN_IF_ERROR(ExpectString("(the rule name) after 'expect rule'", &n.name));
      pending->rule = std::move(n);
      return absl::OkStatus();
    }
    if (AcceptWord("log")) {
      e->expect_log = true;
      return absl::OkStatus();
    }
    const bool negated = AcceptWord("not");
    if (AcceptWord("tag")) {
      PendingName n;
      n.offset = Peek().offset;
      SHIELDX_RETURN_IF_ERROR(ExpectString("(the tag name) after 'tag'", &n.name));
      (negated ? pending->tags_absent : pending->tags_present).push_back(std::move(n));
      return absl::OkStatus();
    }
    if (negated) return Err(Peek(), "expected 'tag' after 'expect not'");
    if (AcceptWord("rate_limit")) {
      PendingName n;
      n.offset = Peek().offset;
      SHIELDX_RETURN_IF_ERROR(ExpectString("(the rule name) after 'expect rate_limit'", &n.name));
      pending->rate_limits.push_back(std::move(n));
      return absl::OkStatus();
    }
    return Err(t, absl::StrCat("expected an action, 'rule', 'default', 'tag', 'not tag', 'log' "
                               "or 'rate_limit' after 'expect', got ",
                               Describe(t)));
  }

  absl::Status ResolveTest(const PendingTest& pt) {
    TestCase& tc = p_->tests[pt.index];
    auto tag_index = [&](const PendingName& n, int* out) -> absl::Status {
      auto it = std::find(p_->tag_names.begin(), p_->tag_names.end(), n.name);
      if (it == p_->tag_names.end()) {
        return Err(n.offset, absl::StrCat("no rule sets tag \"", n.name, "\""));
      }
      *out = static_cast<int>(it - p_->tag_names.begin());
      return absl::OkStatus();
    };
    if (pt.rule) {
      auto it = std::find_if(p_->rule_info.begin(), p_->rule_info.end(),
                             [&](const RuleInfo& r) { return r.name == pt.rule->name; });
      if (it == p_->rule_info.end()) {
        return Err(pt.rule->offset, absl::StrCat("no rule is named \"", pt.rule->name, "\""));
      }
      tc.expect.rule = static_cast<int>(it - p_->rule_info.begin());
    }
    for (const PendingName& n : pt.tags_present) {
      int i = 0;
      SHIELDX_RETURN_IF_ERROR(tag_index(n, &i));
      tc.expect.tags_present.push_back(i);
    }
    for (const PendingName& n : pt.tags_absent) {
      int i = 0;
      SHIELDX_RETURN_IF_ERROR(tag_index(n, &i));
      tc.expect.tags_absent.push_back(i);
    }
    for (const PendingName& n : pt.rate_limits) {
      auto it = std::find_if(p_->rate_limit_specs.begin(), p_->rate_limit_specs.end(),
                             [&](const RateLimitSpec& s) { return s.rule_name == n.name; });
      if (it == p_->rate_limit_specs.end()) {
        return Err(n.offset, absl::StrCat("no rule named \"", n.name, "\" has a rate_limit"));
      }
      tc.expect.rate_limits_present.push_back(static_cast<int>(it - p_->rate_limit_specs.begin()));
    }
    for (const auto& [n, value] : pt.rate_counters) {
      auto it = std::find(p_->rate_counter_names.begin(), p_->rate_counter_names.end(), n.name);
      if (it == p_->rate_counter_names.end()) {
        return Err(n.offset, absl::StrCat("rate[\"", n.name, "\"] is not read by any rule",
                                          opt_.rate_counters.empty() ? "" : " nor configured"));
      }
      const std::size_t slot = static_cast<std::size_t>(it - p_->rate_counter_names.begin());
      if (tc.request.rate_counters.size() <= slot) tc.request.rate_counters.resize(slot + 1, 0.0);
      tc.request.rate_counters[slot] = value;
    }
    return absl::OkStatus();
  }

  // ---- expressions ----------------------------------------------------------------------

  int32_t AddNode(const Node& n) {
    p_->nodes.push_back(n);
    return static_cast<int32_t>(p_->nodes.size() - 1);
  }

  absl::Status CheckDepth(int depth, const Token& t) const {
    if (depth > lim_.max_expression_depth) {
      return Err(t, absl::StrCat("expression nested deeper than the limit of ",
                                 lim_.max_expression_depth));
    }
    return absl::OkStatus();
  }

  absl::Status ParseExpr(int depth, Expr* out) { return ParseLogical(depth, "or", Op::kOr, out); }

  // or_expr = and_expr { "or" and_expr }; and_expr = not_expr { "and" not_expr }
  absl::Status ParseLogical(int depth, std::string_view word, Op op, Expr* out) {
    SHIELDX_RETURN_IF_ERROR(CheckDepth(depth, Peek()));
    auto operand = [&](Expr* e) {
      return op == Op::kOr ? ParseLogical(depth, "and", Op::kAnd, e) : ParseNot(depth, e);
    };
    Expr first;
    SHIELDX_RETURN_IF_ERROR(operand(&first));
    if (!IsWord(word)) {
      *out = first;
      return absl::OkStatus();
    }
    std::vector<int32_t> kids;
    Expr cur = first;
    while (true) {
      if (cur.type != Type::kBool) {
        return Err(cur.offset, absl::StrCat("operand of '", AV(word), "' must be bool, got ",
                                            TypeName(cur.type)));
      }
      kids.push_back(cur.node);
      if (!AcceptWord(word)) break;
      SHIELDX_RETURN_IF_ERROR(operand(&cur));
    }
    Node n;
    n.op = op;
    n.type = Type::kBool;
    n.first = static_cast<uint32_t>(p_->children.size());
    n.count = static_cast<uint32_t>(kids.size());
    p_->children.insert(p_->children.end(), kids.begin(), kids.end());
    out->node = AddNode(n);
    out->type = Type::kBool;
    out->offset = first.offset;
    out->is_const_string = false;
    return absl::OkStatus();
  }

  absl::Status ParseNot(int depth, Expr* out) {
    if (!IsWord("not")) return ParseComparison(depth, out);
    const Token& t = Advance();
    SHIELDX_RETURN_IF_ERROR(CheckDepth(depth + 1, t));
    Expr inner;
    SHIELDX_RETURN_IF_ERROR(ParseNot(depth + 1, &inner));
    if (inner.type != Type::kBool) {
      return Err(inner.offset,
                 absl::StrCat("operand of 'not' must be bool, got ", TypeName(inner.type)));
    }
    Node n;
    n.op = Op::kNot;
    n.type = Type::kBool;
    n.a = inner.node;
    *out = Expr{AddNode(n), Type::kBool, t.offset, false};
    return absl::OkStatus();
  }

  static bool IsCompareTok(Tok k) {
    return k == Tok::kEq || k == Tok::kNe || k == Tok::kLt || k == Tok::kLe || k == Tok::kGt ||
           k == Tok::kGe;
  }
  bool AtComparisonOperator() const {
    return IsCompareTok(Peek().kind) || IsWord("in") || (IsWord("not") && IsWord("in", 1)) ||
           IsWord("contains") || IsWord("starts_with") || IsWord("ends_with") || IsWord("matches");
  }

  absl::Status ParseComparison(int depth, Expr* out) {
    Expr lhs;
    SHIELDX_RETURN_IF_ERROR(ParsePrimary(depth, &lhs));
    if (!AtComparisonOperator()) {
      *out = lhs;
      return absl::OkStatus();
    }
    const Token op_tok = Peek();
    if (IsCompareTok(op_tok.kind)) {
      Advance();
      Expr rhs;
      SHIELDX_RETURN_IF_ERROR(ParsePrimary(depth, &rhs));
      SHIELDX_RETURN_IF_ERROR(BuildCompare(op_tok, &lhs, &rhs, out));
    } else if (IsWord("in") || IsWord("not")) {
      const bool negate = IsWord("not");
      if (negate) Advance();
      Advance();  // in
      SHIELDX_RETURN_IF_ERROR(ParseIn(depth, op_tok, lhs, out));
      if (negate) {
        Node n;
        n.op = Op::kNot;
        n.type = Type::kBool;
        n.a = out->node;
        out->node = AddNode(n);
      }
    } else {
      Advance();
      SHIELDX_RETURN_IF_ERROR(ParseStringOp(depth, op_tok, lhs, out));
    }
    out->offset = lhs.offset;
    if (AtComparisonOperator()) {
      return Err(Peek(), "comparisons do not chain: join them with 'and' or use parentheses");
    }
    return absl::OkStatus();
  }

  // Turns a string literal into an IP literal when compared with an ip.
  absl::Status CoerceToIp(Expr* e) {
    if (e->type != Type::kString || !e->is_const_string) return absl::OkStatus();
    Node& n = p_->nodes[e->node];
    const std::string& text = p_->strings[n.index];
    std::optional<IpAddress> ip = IpAddress::Parse(text);
    if (!ip) {
      return Err(e->offset, absl::StrCat("\"", text, "\" is not an IPv4 or IPv6 address",
                                         text.find('/') != std::string::npos
                                             ? " (for a CIDR use: ip.src in {\"...\"})"
                                             : ""));
    }
    n.op = Op::kConstIp;
    n.type = Type::kIp;
    n.index = static_cast<int32_t>(p_->ips.size());
    p_->ips.push_back(*ip);
    e->type = Type::kIp;
    e->is_const_string = false;
    return absl::OkStatus();
  }

  absl::Status BuildCompare(const Token& op_tok, Expr* lhs, Expr* rhs, Expr* out) {
    if (lhs->type == Type::kIp) SHIELDX_RETURN_IF_ERROR(CoerceToIp(rhs));
    if (rhs->type == Type::kIp) SHIELDX_RETURN_IF_ERROR(CoerceToIp(lhs));
    const std::string op_text(src_.substr(op_tok.offset, op_tok.length));
    if (lhs->type == Type::kCategorySet || rhs->type == Type::kCategorySet) {
      return Err(op_tok,
                 "waf.category is a set: use '\"sqli\" in waf.category' or "
                 "'waf.category contains \"sqli\"'");
    }
    if (lhs->type != rhs->type) {
      return Err(op_tok, absl::StrCat("cannot compare ", TypeName(lhs->type), " with ",
                                      TypeName(rhs->type), " using '", op_text, "'"));
    }
    const bool ordering = op_tok.kind != Tok::kEq && op_tok.kind != Tok::kNe;
    if (ordering && lhs->type != Type::kNumber) {
      return Err(op_tok, absl::StrCat("'", op_text, "' needs numbers, got ", TypeName(lhs->type)));
    }
    Node n;
    switch (op_tok.kind) {
      case Tok::kEq:
        n.op = Op::kEq;
        break;
      case Tok::kNe:
        n.op = Op::kNe;
        break;
      case Tok::kLt:
        n.op = Op::kLt;
        break;
      case Tok::kLe:
        n.op = Op::kLe;
        break;
      case Tok::kGt:
        n.op = Op::kGt;
        break;
      default:
        n.op = Op::kGe;
        break;
    }
    n.type = Type::kBool;
    n.operand_type = lhs->type;
    n.a = lhs->node;
    n.b = rhs->node;
    *out = Expr{AddNode(n), Type::kBool, lhs->offset, false};
    return absl::OkStatus();
  }

  absl::Status CategoryBit(uint32_t offset, const std::string& name, int* bit) const {
    auto it = std::find(opt_.waf_categories.begin(), opt_.waf_categories.end(), name);
    if (it == opt_.waf_categories.end()) {
      return Err(offset, absl::StrCat("unknown WAF category \"", name, "\" (known: ",
                                      absl::StrJoin(opt_.waf_categories, ", "), ")"));
    }
    *bit = static_cast<int>(it - opt_.waf_categories.begin());
    return absl::OkStatus();
  }

  absl::Status HasCategory(const Expr& set, const Expr& name, Expr* out) {
    if (!name.is_const_string) {
      return Err(name.offset, "the category must be a string literal, e.g. \"sqli\"");
    }
    const std::string& text = p_->strings[p_->nodes[name.node].index];
    int bit = 0;
    SHIELDX_RETURN_IF_ERROR(CategoryBit(name.offset, text, &bit));
    Node n;
    n.op = Op::kHasCategory;
    n.type = Type::kBool;
    n.a = set.node;
    n.mask = uint64_t{1} << bit;
    *out = Expr{AddNode(n), Type::kBool, 0, false};
    return absl::OkStatus();
  }

  absl::Status ParseIn(int depth, const Token& op_tok, const Expr& lhs, Expr* out) {
    if (Peek().kind == Tok::kLBrace) return ParseSetLiteral(lhs, out);
    if (Peek().kind == Tok::kListRef) return ResolveList(Advance(), lhs, out);
    Expr rhs;
    SHIELDX_RETURN_IF_ERROR(ParsePrimary(depth, &rhs));
    if (rhs.type == Type::kCategorySet) {
      if (lhs.type != Type::kString) {
        return Err(lhs.offset, absl::StrCat("left of 'in waf.category' must be a category name, "
                                            "got ",
                                            TypeName(lhs.type)));
      }
      return HasCategory(rhs, lhs, out);
    }
    return Err(op_tok, absl::StrCat("'in' needs a set literal {...}, a list $name or "
                                    "waf.category on its right, got ",
                                    TypeName(rhs.type)));
  }

  // Adds one typed element to the set under construction.
  struct SetBuilder {
    Type type;
    absl::flat_hash_set<std::string> strings;
    std::vector<double> numbers;
    IpRangeSet ips;
    std::size_t count = 0;
  };

  absl::Status SetElementType(const Expr& lhs) const {
    if (lhs.type == Type::kString || lhs.type == Type::kNumber || lhs.type == Type::kIp) {
      return absl::OkStatus();
    }
    return Err(lhs.offset, absl::StrCat("'in' a set needs a string, number or ip on its left, "
                                        "got ",
                                        TypeName(lhs.type)));
  }

  absl::Status ParseSetLiteral(const Expr& lhs, Expr* out) {
    SHIELDX_RETURN_IF_ERROR(SetElementType(lhs));
    Advance();  // {
    SetBuilder b{lhs.type};
    if (Peek().kind != Tok::kRBrace) {
      do {
        if (++b.count > lim_.max_set_elements) {
          return Err(Peek(), absl::StrCat("set literal has more than ", lim_.max_set_elements,
                                          " elements (the limit)"));
        }
        const Token& t = Peek();
        if (lhs.type == Type::kNumber) {
          double sign = 1;
          if (Accept(Tok::kMinus)) sign = -1;
          if (Peek().kind != Tok::kNumber) {
            return Err(Peek(), absl::StrCat("set elements must be numbers to match ",
                                            "a number, got ", Describe(Peek())));
          }
          b.numbers.push_back(sign * Advance().number);
          continue;
        }
        if (t.kind != Tok::kString) {
          return Err(t, absl::StrCat("set elements must be strings to match ", TypeName(lhs.type),
                                     ", got ", Describe(t)));
        }
        std::string text = Advance().text;
        if (lhs.type == Type::kIp) {
          std::string error;
          std::optional<Cidr> cidr = Cidr::Parse(text, &error);
          if (!cidr) return Err(t, absl::StrCat("invalid CIDR: ", error));
          b.ips.Add(*cidr);
        } else {
          b.strings.insert(std::move(text));
        }
      } while (Accept(Tok::kComma) && Peek().kind != Tok::kRBrace);
    }
    SHIELDX_RETURN_IF_ERROR(Expect(Tok::kRBrace, "to close the set literal"));
    *out = EmitSet(lhs, std::move(b));
    return absl::OkStatus();
  }

  Expr EmitSet(const Expr& lhs, SetBuilder b) {
    Node n;
    n.type = Type::kBool;
    n.a = lhs.node;
    switch (b.type) {
      case Type::kNumber:
        std::sort(b.numbers.begin(), b.numbers.end());
        n.op = Op::kInNumbers;
        n.index = static_cast<int32_t>(p_->number_sets.size());
        p_->number_sets.push_back(std::move(b.numbers));
        break;
      case Type::kIp:
        b.ips.Build();
        n.op = Op::kInIps;
        n.index = static_cast<int32_t>(p_->ip_sets.size());
        p_->ip_sets.push_back(std::move(b.ips));
        break;
      default:
        n.op = Op::kInStrings;
        n.index = static_cast<int32_t>(p_->string_sets.size());
        p_->string_sets.push_back(std::move(b.strings));
        break;
    }
    return Expr{AddNode(n), Type::kBool, lhs.offset, false};
  }

  absl::Status ResolveList(const Token& t, const Expr& lhs, Expr* out) {
    SHIELDX_RETURN_IF_ERROR(SetElementType(lhs));
    auto it = opt_.lists.find(t.text);
    if (it == opt_.lists.end()) {
      return Err(t, absl::StrCat("unknown list $", t.text,
                                 opt_.lists.empty() ? " (no lists are configured)" : ""));
    }
    const std::vector<std::string>& entries = it->second;
    if (entries.size() > lim_.max_list_entries) {
      return Err(t, absl::StrCat("list $", t.text, " has ", entries.size(),
                                 " entries, over the limit of ", lim_.max_list_entries));
    }
    // Reuse a list already built for the same type.
    const auto cache_key = std::make_pair(t.text, lhs.type);
    if (auto c = list_cache_.find(cache_key); c != list_cache_.end()) {
      Node n = p_->nodes[c->second];
      n.a = lhs.node;
      *out = Expr{AddNode(n), Type::kBool, lhs.offset, false};
      return absl::OkStatus();
    }
    SetBuilder b{lhs.type};
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const std::string& e = entries[i];
      if (e.size() > lim_.max_string_literal_bytes) {
        return Err(t, absl::StrCat("list $", t.text, " entry ", i + 1, " is ", e.size(),
                                   " bytes, over the limit of ", lim_.max_string_literal_bytes));
      }
      if (lhs.type == Type::kIp) {
        std::string error;
        std::optional<Cidr> cidr = Cidr::Parse(e, &error);
        if (!cidr) {
          return Err(t, absl::StrCat("list $", t.text, " entry ", i + 1, ": ", error));
        }
        b.ips.Add(*cidr);
      } else if (lhs.type == Type::kNumber) {
        double v = 0;
        if (!absl::SimpleAtod(e, &v) || !std::isfinite(v)) {
          return Err(t, absl::StrCat("list $", t.text, " entry ", i + 1, " (\"", e,
                                     "\") is not a number"));
        }
        b.numbers.push_back(v);
      } else {
        b.strings.insert(e);
      }
    }
    *out = EmitSet(lhs, std::move(b));
    list_cache_.emplace(cache_key, out->node);
    return absl::OkStatus();
  }

  // contains / starts_with / ends_with / matches
  absl::Status ParseStringOp(int depth, const Token& op_tok, const Expr& lhs, Expr* out) {
    const std::string& op = op_tok.text;
    if (op == "matches") return ParseMatches(op_tok, lhs, out);
    Expr rhs;
    SHIELDX_RETURN_IF_ERROR(ParsePrimary(depth, &rhs));
    if (op == "contains" && lhs.type == Type::kCategorySet) {
      if (rhs.type != Type::kString) {
        return Err(rhs.offset, absl::StrCat("waf.category contains needs a category name, got ",
                                            TypeName(rhs.type)));
      }
      SHIELDX_RETURN_IF_ERROR(HasCategory(lhs, rhs, out));
      out->offset = lhs.offset;
      return absl::OkStatus();
    }
    if (lhs.type != Type::kString) {
      return Err(op_tok,
                 absl::StrCat("'", op, "' needs a string on its left, got ", TypeName(lhs.type)));
    }
    if (rhs.type != Type::kString) {
      return Err(rhs.offset,
                 absl::StrCat("'", op, "' needs a string on its right, got ", TypeName(rhs.type)));
    }
    Node n;
    n.op = op == "contains" ? Op::kContains : op == "starts_with" ? Op::kStartsWith : Op::kEndsWith;
    n.type = Type::kBool;
    n.a = lhs.node;
    n.b = rhs.node;
    *out = Expr{AddNode(n), Type::kBool, lhs.offset, false};
    return absl::OkStatus();
  }

  absl::Status ParseMatches(const Token& op_tok, const Expr& lhs, Expr* out) {
    if (lhs.type != Type::kString) {
      return Err(op_tok,
                 absl::StrCat("'matches' needs a string on its left, got ", TypeName(lhs.type)));
    }
    const Token& t = Peek();
    if (t.kind != Tok::kString) {
      return Err(t, absl::StrCat("'matches' needs a regex string literal, got ", Describe(t)));
    }
    Advance();
    const std::string& pattern = t.text;
    if (pattern.size() > lim_.max_regex_pattern_bytes) {
      return Err(t, absl::StrCat("regex is ", pattern.size(), " bytes, over the limit of ",
                                 lim_.max_regex_pattern_bytes));
    }
    int32_t index = -1;
    if (auto it = regex_index_.find(pattern); it != regex_index_.end()) {
      index = it->second;
    } else {
      if (p_->regexes.size() >= lim_.max_regexes) {
        return Err(t,
                   absl::StrCat("more than ", lim_.max_regexes, " distinct regexes (the limit)"));
      }
      re2::RE2::Options options;
      options.set_log_errors(false);
      options.set_max_mem(lim_.max_regex_mem_bytes);
      auto re = std::make_unique<re2::RE2>(pattern, options);
      if (!re->ok()) {
        if (re->error_code() == re2::RE2::ErrorPatternTooLarge) {
          return Err(t, absl::StrCat("regex is too large for the RE2 memory budget of ",
                                     lim_.max_regex_mem_bytes, " bytes"));
        }
        std::string where;
        if (!re->error_arg().empty()) {
          const std::size_t at = pattern.find(re->error_arg());
          where = at == std::string::npos
                      ? absl::StrCat(" in \"", re->error_arg(), "\"")
                      : absl::StrCat(" at pattern offset ", at, " (\"", re->error_arg(), "\")");
        }
        return Err(t, absl::StrCat("invalid regex: ", re->error(), where));
      }
      // Build the lazy DFA now, not on the first request.
      re2::RE2::PartialMatch("", *re);
      index = static_cast<int32_t>(p_->regexes.size());
      p_->regexes.push_back(std::move(re));
      regex_index_.emplace(pattern, index);
    }
    Node n;
    n.op = Op::kMatches;
    n.type = Type::kBool;
    n.a = lhs.node;
    n.index = index;
    *out = Expr{AddNode(n), Type::kBool, lhs.offset, false};
    return absl::OkStatus();
  }

  int32_t InternString(const std::string& s) {
    auto it = string_index_.find(s);
    if (it != string_index_.end()) return it->second;
    const auto index = static_cast<int32_t>(p_->strings.size());
    p_->strings.push_back(s);
    string_index_.emplace(s, index);
    return index;
  }

  absl::Status ParsePrimary(int depth, Expr* out) {
    const Token& t = Peek();
    if (p_->nodes.size() >= lim_.max_expression_nodes) {
      return Err(t, absl::StrCat("more than ", lim_.max_expression_nodes,
                                 " expression nodes in the rule set (the limit)"));
    }
    Node n;
    switch (t.kind) {
      case Tok::kString:
        Advance();
        n.op = Op::kConstString;
        n.type = Type::kString;
        n.index = InternString(t.text);
        *out = Expr{AddNode(n), Type::kString, t.offset, true};
        return absl::OkStatus();
      case Tok::kMinus:
      case Tok::kNumber: {
        double sign = 1;
        if (Accept(Tok::kMinus)) sign = -1;
        if (Peek().kind != Tok::kNumber) {
          return Err(Peek(), absl::StrCat("expected a number after '-', got ", Describe(Peek())));
        }
        n.op = Op::kConstNumber;
        n.type = Type::kNumber;
        n.number = sign * Advance().number;
        *out = Expr{AddNode(n), Type::kNumber, t.offset, false};
        return absl::OkStatus();
      }
      case Tok::kDuration:
        return Err(t, "durations are only allowed in action arguments (tarpit, rate_limit)");
      case Tok::kLParen: {
        Advance();
        SHIELDX_RETURN_IF_ERROR(CheckDepth(depth + 1, t));
        SHIELDX_RETURN_IF_ERROR(ParseExpr(depth + 1, out));
        SHIELDX_RETURN_IF_ERROR(Expect(Tok::kRParen, "to close '('"));
        out->offset = t.offset;
        return absl::OkStatus();
      }
      case Tok::kLBrace:
        return Err(t, "a set literal {...} can only follow 'in'");
      case Tok::kListRef:
        return Err(t, absl::StrCat("a list ($", t.text, ") can only follow 'in'"));
      case Tok::kIdent:
        break;
      default:
        return Err(t, absl::StrCat("expected an expression, got ", Describe(t)));
    }
    if (t.text == "true" || t.text == "false") {
      Advance();
      n.op = Op::kConstBool;
      n.type = Type::kBool;
      n.boolean = t.text == "true";
      *out = Expr{AddNode(n), Type::kBool, t.offset, false};
      return absl::OkStatus();
    }
    if ((t.text == "exists" || t.text == "len") && Peek(1).kind == Tok::kLParen) {
      return ParseFunction(depth, out);
    }
    if (IsReserved(t.text)) {
      return Err(t, absl::StrCat("expected an expression, got ", Describe(t)));
    }
    return ParseFieldRef(out);
  }

  absl::Status ParseFunction(int depth, Expr* out) {
    const Token& name = Advance();
    Advance();  // (
    SHIELDX_RETURN_IF_ERROR(CheckDepth(depth + 1, name));
    Expr arg;
    SHIELDX_RETURN_IF_ERROR(ParseExpr(depth + 1, &arg));
    SHIELDX_RETURN_IF_ERROR(Expect(Tok::kRParen, absl::StrCat("to close ", name.text, "(...)")));
    Node n;
    n.a = arg.node;
    if (name.text == "exists") {
      const Node& a = p_->nodes[arg.node];
      if (a.op != Op::kField ||
          !(a.field == Field::kArg || a.field == Field::kHeader || a.field == Field::kCookie)) {
        return Err(arg.offset,
                   "exists() takes http.args[\"k\"], http.header[\"k\"] or "
                   "http.cookie[\"k\"]");
      }
      n.op = Op::kExists;
      n.type = Type::kBool;
    } else {
      if (arg.type != Type::kString && arg.type != Type::kCategorySet) {
        return Err(arg.offset,
                   absl::StrCat("len() takes a string or waf.category, got ", TypeName(arg.type)));
      }
      n.op = Op::kLen;
      n.type = Type::kNumber;
    }
    *out = Expr{AddNode(n), n.type, name.offset, false};
    return absl::OkStatus();
  }

  absl::Status ParseFieldRef(Expr* out) {
    const Token& first = Advance();
    std::string name = first.text;
    while (Peek().kind == Tok::kDot) {
      Advance();
      if (Peek().kind != Tok::kIdent) {
        return Err(Peek(), absl::StrCat("expected a field name after '", name, ".'"));
      }
      name = absl::StrCat(name, ".", Advance().text);
    }
    const FieldSpec* spec = FindField(name);
    if (spec == nullptr) {
      return Err(first, absl::StrCat("unknown field '", name, "'"));
    }
    Node n;
    n.op = Op::kField;
    n.type = spec->type;
    n.field = spec->field;
    if (spec->keyed) {
      if (Peek().kind != Tok::kLBracket) {
        return Err(Peek(), absl::StrCat(name, " needs a key: ", name, "[\"name\"]"));
      }
      Advance();
      const Token& key_tok = Peek();
      std::string key;
      SHIELDX_RETURN_IF_ERROR(ExpectString(absl::StrCat("as the key of ", name), &key));
      if (key.empty()) return Err(key_tok, absl::StrCat("the key of ", name, " is empty"));
      SHIELDX_RETURN_IF_ERROR(Expect(Tok::kRBracket, "after the key"));
      if (spec->field == Field::kHeader) key = absl::AsciiStrToLower(key);
      if (spec->field == Field::kRate) {
        SHIELDX_RETURN_IF_ERROR(CounterSlot(key_tok, key, &n.index));
      } else {
        n.index = InternString(key);
      }
    } else if (Peek().kind == Tok::kLBracket) {
      return Err(Peek(), absl::StrCat(name, " takes no key"));
    }
    *out = Expr{AddNode(n), spec->type, first.offset, false};
    return absl::OkStatus();
  }

  absl::Status CounterSlot(const Token& t, const std::string& key, int32_t* slot) {
    auto& names = p_->rate_counter_names;
    auto it = std::find(names.begin(), names.end(), key);
    if (it != names.end()) {
      *slot = static_cast<int32_t>(it - names.begin());
      return absl::OkStatus();
    }
    if (!opt_.rate_counters.empty()) {
      return Err(t, absl::StrCat("unknown rate counter \"", key,
                                 "\" (known: ", absl::StrJoin(opt_.rate_counters, ", "), ")"));
    }
    if (names.size() >= static_cast<std::size_t>(limits::kMaxRateCounters)) {
      return Err(
          t, absl::StrCat("more than ", limits::kMaxRateCounters, " rate counters (the limit)"));
    }
    *slot = static_cast<int32_t>(names.size());
    names.push_back(key);
    return absl::OkStatus();
  }

  std::string_view src_;
  const CompileOptions& opt_;
  const PolicyLimits& lim_;
  SourceMap map_;
  Program* p_;
  std::vector<Token> toks_;
  std::size_t pos_ = 0;
  std::map<std::string, int> rule_lines_;
  std::map<std::string, int> test_lines_;
  bool has_default_ = false;
  int default_line_ = 0;
  std::map<std::string, int32_t> string_index_;
  std::map<std::string, int32_t> regex_index_;
  std::map<std::pair<std::string, Type>, int32_t> list_cache_;
  std::vector<PendingTest> pending_tests_;
};

}  // namespace

const char* TypeName(Type t) {
  switch (t) {
    case Type::kBool:
      return "bool";
    case Type::kString:
      return "string";
    case Type::kNumber:
      return "number";
    case Type::kIp:
      return "ip";
    case Type::kCategorySet:
      return "category set";
    case Type::kDuration:
      return "duration";
  }
  return "?";
}

absl::Status CompileProgram(std::string_view source, const CompileOptions& options,
                            Program* program) {
  if (source.size() > options.limits.max_source_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(options.name, ": source is ", source.size(),
                                                   " bytes, over the limit of ",
                                                   options.limits.max_source_bytes));
  }
  return Compiler(source, options, program).Run();
}

}  // namespace shieldx::policy::internal
