// The ShieldX policy language: ordered rules whose conditions are typed expressions over
// request fields and signals, and whose actions decide what happens to a request.
//
//   rule "admin only from the office" {
//     when http.path starts_with "/admin" and ip.src not in $office
//     then tag("admin"), block(403)
//   }
//
// The grammar, fields, actions and semantics are documented in libs/policy/README.md.
//
// Lifecycle: a rule set version is compiled once (CompiledPolicy::Compile) into an immutable
// CompiledPolicy shared through std::shared_ptr<const CompiledPolicy>. Compilation parses,
// type-checks, resolves named lists and compiles every regex; any failure is an
// InvalidArgument status whose message starts with "<name>:<line>:<column>: " and ends with the
// offending source line and a caret. A policy that fails to compile never exists, so a caller
// keeps serving the previous version.
//
// Evaluation: Evaluate() is const, thread-safe and allocation-free: the caller supplies a
// PolicyInput of views into its own request model and gets a PolicyResult of plain values
// (names are string_views into the CompiledPolicy, valid while it lives). The one caveat is
// RE2: its lazy DFA may allocate a cache state the first time a regex meets a new input shape
// (bounded by the regex's memory budget); everything else never touches the heap.
#ifndef SHIELDX_LIBS_POLICY_POLICY_H_
#define SHIELDX_LIBS_POLICY_POLICY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/policy/ip.h"
#include "libs/policy/limits.h"

namespace shieldx::policy {

namespace internal {
struct Program;
}  // namespace internal

// Terminal actions: exactly one decides each request (a rule's, or the default).
enum class Action : uint8_t {
  kAllow,
  kBlock,      // answer `status` (400..599)
  kChallenge,  // step-up: the caller serves its challenge
  kTarpit,     // the proxy waits `tarpit_ms`, then forwards
  kDivert,     // forward to pool `divert_pool` instead of the route's pool
};
const char* ActionName(Action a);  // "allow", "block", ...

// Compile-time limits; defaults are the named constants in libs/policy/limits.h.
struct PolicyLimits {
  std::size_t max_source_bytes = limits::kMaxSourceBytes;
  std::size_t max_rules = limits::kMaxRules;
  std::size_t max_tests = limits::kMaxTests;
  int max_expression_depth = limits::kMaxExpressionDepth;
  std::size_t max_expression_nodes = limits::kMaxExpressionNodes;
  std::size_t max_set_elements = limits::kMaxSetElements;
  std::size_t max_list_entries = limits::kMaxListEntries;
  std::size_t max_string_literal_bytes = limits::kMaxStringLiteralBytes;
  std::size_t max_regex_pattern_bytes = limits::kMaxRegexPatternBytes;
  int64_t max_regex_mem_bytes = limits::kMaxRegexMemBytes;
  std::size_t max_regexes = limits::kMaxRegexes;
  std::size_t max_name_bytes = limits::kMaxNameBytes;
  std::size_t max_actions_per_rule = limits::kMaxActionsPerRule;
};

// The WAF category names of libs/detect (detect::CategoryName order): bit i of
// PolicyInput::waf_categories is category i. Callers that use libs/detect should still pass
// their own list (CompileOptions::waf_categories) built from detect::CategoryName so the two
// can never drift.
const std::vector<std::string>& DefaultWafCategories();

struct CompileOptions {
  // Shown in error messages ("<name>:3:14: ...") and in test reports.
  std::string name = "policy";
  // Named lists for `in $name`, resolved at compile time. Entries are typed by the left side:
  // IPs/CIDRs for ip.src, numbers for numeric fields, exact strings otherwise.
  std::map<std::string, std::vector<std::string>> lists;
  // Bit i of PolicyInput::waf_categories is waf_categories[i] (at most 64 names).
  std::vector<std::string> waf_categories = DefaultWafCategories();
  // When non-empty, `rate["name"]` must name one of these and its slot in
  // PolicyInput::rate_counters is its index here (stable across versions). When empty, slots
  // are assigned in order of first use (see CompiledPolicy::rate_counter_names()).
  std::vector<std::string> rate_counters;
  // When non-empty, `divert("pool")` must name one of these.
  std::vector<std::string> pools;
  PolicyLimits limits;
};

// One name/value pair of the request (argument, header or cookie), as views.
struct KeyValue {
  std::string_view name;
  std::string_view value;
};

// The request and its signals, as views owned by the caller; nothing is copied. Keep every
// view alive for the duration of Evaluate().
struct PolicyInput {
  std::string_view method;  // as sent, e.g. "GET"
  std::string_view host;    // lowercase, without port (the caller normalises)
  std::string_view path;    // decoded path, without the query
  std::string_view query;   // raw query string, without '?'
  // Arguments (query and body), headers and cookies. Lookups take the first pair whose name
  // matches: exactly for args and cookies, ASCII case-insensitively for headers (passing
  // lowercase header names is fastest).
  std::span<const KeyValue> args;
  std::span<const KeyValue> headers;
  std::span<const KeyValue> cookies;
  IpAddress ip_src;             // client address; IPv4 as ::ffff:a.b.c.d (IpAddress::Parse does it)
  double waf_score = 0;         // detection anomaly score
  uint64_t waf_categories = 0;  // bit i: CompileOptions::waf_categories[i] was found
  double auth_risk = 0;         // behavioural risk 0..1
  // Rate counters by slot (CompiledPolicy::rate_counter_names()); a missing slot reads 0.
  std::span<const double> rate_counters;
  std::string_view tenant_id;
  std::string_view route_id;
  int64_t unix_time_s = 0;  // request time, for time.hour / time.minute / time.weekday (UTC)
};

// The decision. Names point into the CompiledPolicy (valid while it lives).
struct PolicyResult {
  Action action = Action::kAllow;
  int status = 0;                      // kBlock: 400..599; 0 otherwise
  uint32_t tarpit_ms = 0;              // kTarpit
  int divert_pool = -1;                // kDivert: index into CompiledPolicy::divert_pools()
  std::string_view divert_pool_name;   // kDivert
  int matched_rule = -1;               // rule whose terminal action decided; -1: the default
  std::string_view matched_rule_name;  // "" for the default
  uint64_t tags = 0;                   // bit i: tag_names()[i], from every matched rule
  uint64_t rate_limits = 0;            // bit i: rate_limits()[i] applies to this request
  bool log = false;                    // some matched rule asked for `log`
  uint32_t rules_matched = 0;          // rules whose condition held (up to the deciding one)
};

// A `rate_limit(key, N per window, burst B)` action. The policy only says which limits apply
// (PolicyResult::rate_limits); the caller counts, keyed by tenant, rule_name and the key value
// (RateLimitKeyFor), and answers 429 when `limit` per `window_ms` (+ `burst`) is exceeded and
// the final action would let the request through.
struct RateLimitSpec {
  int rule = -1;          // index of the rule that declares it
  std::string rule_name;  //
  std::string key_text;   // the key expression as written, e.g. "ip.src"
  int64_t limit = 0;      // requests per window
  int64_t window_ms = 0;  //
  int64_t burst = 0;      // extra requests tolerated above `limit` in short spikes
};

// The value of a rate-limit key for one request; views into the PolicyInput.
struct RateLimitKey {
  enum class Kind : uint8_t { kString, kIp, kNumber } kind = Kind::kString;
  std::string_view text;  // kString
  IpAddress ip;           // kIp
  double number = 0;      // kNumber
};

struct RuleInfo {
  std::string name;
  int line = 0;                    // where `rule` starts
  bool terminal = false;           // has a terminal action
  Action action = Action::kAllow;  // when terminal
};

// Outcome of one test case carried by the rule set.
struct TestResult {
  std::string name;
  int line = 0;
  bool passed = false;
  std::string diff;  // empty when passed; otherwise one "expected ..., got ..." line per mismatch
};

class CompiledPolicy {
 public:
  // Compiles `source`. Errors: InvalidArgument with "<name>:<line>:<col>: <what>" plus a
  // caret snippet (syntax, types, unknown names, duplicates, invalid regexes, limits).
  static absl::StatusOr<std::shared_ptr<const CompiledPolicy>> Compile(
      std::string_view source, const CompileOptions& options = {});

  ~CompiledPolicy();
  CompiledPolicy(const CompiledPolicy&) = delete;
  CompiledPolicy& operator=(const CompiledPolicy&) = delete;

  // Runs the rules in order: every matched rule adds its tags, log flag and rate limits; the
  // first matched rule with a terminal action decides; when none does, the default action
  // decides. Thread-safe, allocation-free (see the file comment for RE2).
  void Evaluate(const PolicyInput& input, PolicyResult* result) const;
  PolicyResult Evaluate(const PolicyInput& input) const {
    PolicyResult r;
    Evaluate(input, &r);
    return r;
  }

  // The key of rate_limits()[spec] for `input`. REQUIRES: 0 <= spec < rate_limits().size().
  RateLimitKey RateLimitKeyFor(int spec, const PolicyInput& input) const;

  // Runs every test case of the rule set. A version may be activated only when all pass.
  std::vector<TestResult> RunTests() const;
  static bool AllPassed(const std::vector<TestResult>& results);

  const std::string& name() const;
  const std::vector<RuleInfo>& rules() const;
  const std::vector<std::string>& tag_names() const;
  const std::vector<std::string>& divert_pools() const;
  const std::vector<RateLimitSpec>& rate_limits() const;
  const std::vector<std::string>& rate_counter_names() const;
  const std::vector<std::string>& waf_categories() const;
  std::size_t test_count() const;
  // The default action as a result (matched_rule -1).
  const PolicyResult& default_result() const;

  // "block(403) rule=\"admin\" tags=[admin,scanner] log rate_limits=[login]" for logs and test
  // diffs.
  std::string Describe(const PolicyResult& result) const;

 private:
  explicit CompiledPolicy(std::unique_ptr<internal::Program> program);
  std::unique_ptr<internal::Program> program_;
};

}  // namespace shieldx::policy

#endif  // SHIELDX_LIBS_POLICY_POLICY_H_
