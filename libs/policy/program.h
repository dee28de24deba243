// Internal: the compiled form of a rule set, shared by the compiler, the evaluator and the
// test runner. Not part of the public API.
#ifndef SHIELDX_LIBS_POLICY_PROGRAM_H_
#define SHIELDX_LIBS_POLICY_PROGRAM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "libs/policy/ip.h"
#include "libs/policy/policy.h"
#include "re2/re2.h"

namespace shieldx::policy::internal {

enum class Type : uint8_t { kBool, kString, kNumber, kIp, kCategorySet, kDuration };
const char* TypeName(Type t);

enum class Field : uint8_t {
  kMethod,
  kHost,
  kPath,
  kQuery,
  kArg,     // key in Node::index (strings)
  kHeader,  // key (lowercase) in Node::index
  kCookie,  // key in Node::index
  kIpSrc,
  kWafScore,
  kWafCategory,
  kAuthRisk,
  kRate,  // counter slot in Node::index
  kTenantId,
  kRouteId,
  kTimeHour,
  kTimeMinute,
  kTimeWeekday,
};

enum class Op : uint8_t {
  kConstBool,    // boolean
  kConstString,  // strings[index]
  kConstNumber,  // number
  kConstIp,      // ips[index]
  kField,        // field (+ index)
  kAnd,          // children[first, first + count)
  kOr,           // children[first, first + count)
  kNot,          // a
  kEq,           // a == b, operands of operand_type
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kInStrings,    // a in string_sets[index]
  kInNumbers,    // a in number_sets[index]
  kInIps,        // a in ip_sets[index]
  kHasCategory,  // (a & mask) != 0
  kContains,     // string a contains string b
  kStartsWith,   //
  kEndsWith,     //
  kMatches,      // regexes[index] matches a (unanchored)
  kExists,       // keyed field a is present
  kLen,          // bytes of string a, or categories in set a
};

struct Node {
  Op op = Op::kConstBool;
  Type type = Type::kBool;          // result type
  Type operand_type = Type::kBool;  // comparisons: type of both operands
  Field field = Field::kMethod;
  bool boolean = false;
  int32_t a = -1;
  int32_t b = -1;
  int32_t index = -1;
  uint32_t first = 0;  // and/or: children range
  uint32_t count = 0;
  double number = 0;
  uint64_t mask = 0;
};

struct TerminalAction {
  Action action = Action::kAllow;
  int status = 0;
  uint32_t tarpit_ms = 0;
  int divert_pool = -1;
};

struct Rule {
  int32_t condition = -1;
  bool terminal = false;
  TerminalAction act;
  uint64_t tags = 0;
  uint64_t rate_limits = 0;
  bool log = false;
};

struct RateLimit {
  int32_t key = -1;  // node
  Type key_type = Type::kString;
};

// A test request as owned storage; BuildInput() makes the view.
struct TestRequest {
  std::string method, host, path, query;
  std::vector<std::pair<std::string, std::string>> args, headers, cookies;
  IpAddress ip_src;
  double waf_score = 0;
  uint64_t waf_categories = 0;
  double auth_risk = 0;
  std::vector<double> rate_counters;
  std::string tenant_id, route_id;
  int64_t unix_time_s = 0;
};

struct TestExpectation {
  bool check_status = false;  // block(N) vs block
  bool check_tarpit = false;  // tarpit(ms) vs tarpit
  TerminalAction act;
  int rule = -2;  // -2: not checked; -1: expect the default; else the rule index
  std::vector<int> tags_present;
  std::vector<int> tags_absent;
  bool expect_log = false;
  std::vector<int> rate_limits_present;  // spec indices
};

struct TestCase {
  std::string name;
  int line = 0;
  TestRequest request;
  TestExpectation expect;
};

struct Program {
  std::string name;
  std::vector<Node> nodes;
  std::vector<int32_t> children;
  std::vector<std::string> strings;
  std::vector<IpAddress> ips;
  std::vector<absl::flat_hash_set<std::string>> string_sets;
  std::vector<std::vector<double>> number_sets;  // sorted
  std::vector<IpRangeSet> ip_sets;
  std::vector<std::unique_ptr<re2::RE2>> regexes;

  std::vector<Rule> rules;
  std::vector<RuleInfo> rule_info;
  PolicyResult default_result;
  std::vector<std::string> tag_names;
  std::vector<std::string> divert_pools;
  std::vector<RateLimitSpec> rate_limit_specs;
  std::vector<RateLimit> rate_limit_keys;
  std::vector<std::string> rate_counter_names;
  std::vector<std::string> waf_categories;
  std::vector<TestCase> tests;
};

// evaluate.cc
void EvaluateProgram(const Program& p, const PolicyInput& in, PolicyResult* r);
RateLimitKey EvaluateRateLimitKey(const Program& p, int spec, const PolicyInput& in);

}  // namespace shieldx::policy::internal

#endif  // SHIELDX_LIBS_POLICY_PROGRAM_H_
