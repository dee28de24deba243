#include "libs/policy/policy.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/base/check.h"
#include "libs/policy/compiler.h"
#include "libs/policy/program.h"

namespace shieldx::policy {
namespace {

std::string TerminalText(const internal::Program& p, Action action, int status, uint32_t tarpit_ms,
                         int pool, bool with_args) {
  std::string out = ActionName(action);
  if (!with_args) return out;
  switch (action) {
    case Action::kBlock:
      absl::StrAppend(&out, "(", status, ")");
      break;
    case Action::kTarpit:
      absl::StrAppend(&out, "(", tarpit_ms, ")");
      break;
    case Action::kDivert:
      if (pool >= 0) absl::StrAppend(&out, "(\"", p.divert_pools[pool], "\")");
      break;
    default:
      break;
  }
  return out;
}

std::string RuleText(const internal::Program& p, int rule) {
  return rule < 0 ? std::string("the default")
                  : absl::StrCat("rule \"", p.rule_info[rule].name, "\"");
}

// Compares one result with a test's expectations; one line per mismatch.
std::string Diff(const internal::Program& p, const internal::TestExpectation& e,
                 const PolicyResult& r) {
  std::vector<std::string> lines;
  const bool action_ok = e.act.action == r.action &&
                         (!e.check_status || e.act.status == r.status) &&
                         (!e.check_tarpit || e.act.tarpit_ms == r.tarpit_ms) &&
                         (e.act.action != Action::kDivert || e.act.divert_pool < 0 ||
                          e.act.divert_pool == r.divert_pool);
  if (!action_ok) {
    const bool with_args = e.check_status || e.check_tarpit ||
                           (e.act.action == Action::kDivert && e.act.divert_pool >= 0);
    lines.push_back(absl::StrCat(
        "action: expected ",
        TerminalText(p, e.act.action, e.act.status, e.act.tarpit_ms, e.act.divert_pool, with_args),
        ", got ", TerminalText(p, r.action, r.status, r.tarpit_ms, r.divert_pool, true), " from ",
        RuleText(p, r.matched_rule)));
  }
  if (e.rule != -2 && e.rule != r.matched_rule) {
    lines.push_back(absl::StrCat("decided by: expected ", RuleText(p, e.rule), ", got ",
                                 RuleText(p, r.matched_rule)));
  }
  for (int t : e.tags_present) {
    if (!(r.tags >> t & 1)) {
      lines.push_back(absl::StrCat("tag \"", p.tag_names[t], "\": expected, missing"));
    }
  }
  for (int t : e.tags_absent) {
    if (r.tags >> t & 1) {
      lines.push_back(absl::StrCat("tag \"", p.tag_names[t], "\": not expected, present"));
    }
  }
  if (e.expect_log && !r.log) lines.push_back("log: expected, not requested by any matched rule");
  for (int s : e.rate_limits_present) {
    if (!(r.rate_limits >> s & 1)) {
      lines.push_back(absl::StrCat("rate_limit of rule \"", p.rate_limit_specs[s].rule_name,
                                   "\": expected to apply, does not"));
    }
  }
  return absl::StrJoin(lines, "\n");
}

}  // namespace

const char* ActionName(Action a) {
  switch (a) {
    case Action::kAllow:
      return "allow";
    case Action::kBlock:
      return "block";
    case Action::kChallenge:
      return "challenge";
    case Action::kTarpit:
      return "tarpit";
    case Action::kDivert:
      return "divert";
  }
  return "unknown";
}

const std::vector<std::string>& DefaultWafCategories() {
  // Mirrors detect::CategoryName in libs/detect/finding.cc, in enum order.
  static const std::vector<std::string>* names = new std::vector<std::string>{"sqli",
                                                                              "xss",
                                                                              "cmdi",
                                                                              "code-injection",
                                                                              "path-traversal",
                                                                              "lfi",
                                                                              "rfi",
                                                                              "ssrf",
                                                                              "xxe",
                                                                              "ssti",
                                                                              "jndi",
                                                                              "nosqli",
                                                                              "ldapi",
                                                                              "protocol",
                                                                              "scanner",
                                                                              "session-fixation",
                                                                              "mail-injection",
                                                                              "api-abuse",
                                                                              "custom"};
  return *names;
}

absl::StatusOr<std::shared_ptr<const CompiledPolicy>> CompiledPolicy::Compile(
    std::string_view source, const CompileOptions& options) {
  auto program = std::make_unique<internal::Program>();
  absl::Status status = internal::CompileProgram(source, options, program.get());
  if (!status.ok()) return status;
  return std::shared_ptr<const CompiledPolicy>(new CompiledPolicy(std::move(program)));
}

CompiledPolicy::CompiledPolicy(std::unique_ptr<internal::Program> program)
    : program_(std::move(program)) {
  SHIELDX_CHECK(program_ != nullptr);
}

CompiledPolicy::~CompiledPolicy() = default;

void CompiledPolicy::Evaluate(const PolicyInput& input, PolicyResult* result) const {
  internal::EvaluateProgram(*program_, input, result);
}

RateLimitKey CompiledPolicy::RateLimitKeyFor(int spec, const PolicyInput& input) const {
  return internal::EvaluateRateLimitKey(*program_, spec, input);
}

std::vector<TestResult> CompiledPolicy::RunTests() const {
  std::vector<TestResult> results;
  results.reserve(program_->tests.size());
  for (const internal::TestCase& tc : program_->tests) {
    const internal::TestRequest& req = tc.request;
    auto views = [](const std::vector<std::pair<std::string, std::string>>& pairs) {
      std::vector<KeyValue> out;
      out.reserve(pairs.size());
      for (const auto& [k, v] : pairs) out.push_back(KeyValue{k, v});
      return out;
    };
    const std::vector<KeyValue> args = views(req.args);
    const std::vector<KeyValue> headers = views(req.headers);
    const std::vector<KeyValue> cookies = views(req.cookies);
    PolicyInput in;
    in.method = req.method;
    in.host = req.host;
    in.path = req.path;
    in.query = req.query;
    in.args = args;
    in.headers = headers;
    in.cookies = cookies;
    in.ip_src = req.ip_src;
    in.waf_score = req.waf_score;
    in.waf_categories = req.waf_categories;
    in.auth_risk = req.auth_risk;
    in.rate_counters = req.rate_counters;
    in.tenant_id = req.tenant_id;
    in.route_id = req.route_id;
    in.unix_time_s = req.unix_time_s;
    const PolicyResult r = Evaluate(in);
    TestResult out;
    out.name = tc.name;
    out.line = tc.line;
    out.diff = Diff(*program_, tc.expect, r);
    out.passed = out.diff.empty();
    results.push_back(std::move(out));
  }
  return results;
}

bool CompiledPolicy::AllPassed(const std::vector<TestResult>& results) {
  for (const TestResult& r : results) {
    if (!r.passed) return false;
  }
  return true;
}

const std::string& CompiledPolicy::name() const { return program_->name; }
const std::vector<RuleInfo>& CompiledPolicy::rules() const { return program_->rule_info; }
const std::vector<std::string>& CompiledPolicy::tag_names() const { return program_->tag_names; }
const std::vector<std::string>& CompiledPolicy::divert_pools() const {
  return program_->divert_pools;
}
const std::vector<RateLimitSpec>& CompiledPolicy::rate_limits() const {
  return program_->rate_limit_specs;
}
const std::vector<std::string>& CompiledPolicy::rate_counter_names() const {
  return program_->rate_counter_names;
}
const std::vector<std::string>& CompiledPolicy::waf_categories() const {
  return program_->waf_categories;
}
std::size_t CompiledPolicy::test_count() const { return program_->tests.size(); }
const PolicyResult& CompiledPolicy::default_result() const { return program_->default_result; }

std::string CompiledPolicy::Describe(const PolicyResult& r) const {
  const internal::Program& p = *program_;
  std::string out = TerminalText(p, r.action, r.status, r.tarpit_ms, r.divert_pool, true);
  absl::StrAppend(&out, r.matched_rule < 0
                            ? " default"
                            : absl::StrCat(" rule=\"", std::string(r.matched_rule_name), "\""));
  std::vector<std::string> tags;
  for (std::size_t i = 0; i < p.tag_names.size(); ++i) {
    if (r.tags >> i & 1) tags.push_back(p.tag_names[i]);
  }
  if (!tags.empty()) absl::StrAppend(&out, " tags=[", absl::StrJoin(tags, ","), "]");
  if (r.log) absl::StrAppend(&out, " log");
  std::vector<std::string> limits;
  for (std::size_t i = 0; i < p.rate_limit_specs.size(); ++i) {
    if (r.rate_limits >> i & 1) limits.push_back(p.rate_limit_specs[i].rule_name);
  }
  if (!limits.empty()) absl::StrAppend(&out, " rate_limits=[", absl::StrJoin(limits, ","), "]");
  return out;
}

}  // namespace shieldx::policy
