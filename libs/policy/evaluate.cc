// The evaluator: a tree walk over the immutable node array. Nothing here allocates; every
// string is a view into the PolicyInput or the Program.
#include <algorithm>
#include <bit>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "libs/base/check.h"
#include "libs/policy/program.h"

namespace shieldx::policy::internal {
namespace {

constexpr int64_t kSecondsPerDay = 86400;

absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Floor division, so times before 1970 still give hours 0..23.
int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

const KeyValue* FindExact(std::span<const KeyValue> pairs, std::string_view name) {
  for (const KeyValue& kv : pairs) {
    if (kv.name == name) return &kv;
  }
  return nullptr;
}

const KeyValue* FindIgnoreCase(std::span<const KeyValue> pairs, std::string_view name) {
  for (const KeyValue& kv : pairs) {
    if (kv.name.size() == name.size() && absl::EqualsIgnoreCase(ToAbsl(kv.name), ToAbsl(name))) {
      return &kv;
    }
  }
  return nullptr;
}

class Evaluator {
 public:
  Evaluator(const Program& p, const PolicyInput& in) : p_(p), in_(in) {}

  bool Bool(int32_t n) const {
    const Node& node = p_.nodes[n];
    switch (node.op) {
      case Op::kConstBool:
        return node.boolean;
      case Op::kAnd:
        for (uint32_t i = 0; i < node.count; ++i) {
          if (!Bool(p_.children[node.first + i])) return false;
        }
        return true;
      case Op::kOr:
        for (uint32_t i = 0; i < node.count; ++i) {
          if (Bool(p_.children[node.first + i])) return true;
        }
        return false;
      case Op::kNot:
        return !Bool(node.a);
      case Op::kEq:
      case Op::kNe:
      case Op::kLt:
      case Op::kLe:
      case Op::kGt:
      case Op::kGe:
        return Compare(node);
      case Op::kInStrings:
        return p_.string_sets[node.index].contains(ToAbsl(String(node.a)));
      case Op::kInNumbers: {
        const std::vector<double>& set = p_.number_sets[node.index];
        return std::binary_search(set.begin(), set.end(), Number(node.a));
      }
      case Op::kInIps:
        return p_.ip_sets[node.index].Contains(Ip(node.a));
      case Op::kHasCategory:
        return (Mask(node.a) & node.mask) != 0;
      case Op::kContains:
        return String(node.a).find(String(node.b)) != std::string_view::npos;
      case Op::kStartsWith:
        return String(node.a).starts_with(String(node.b));
      case Op::kEndsWith:
        return String(node.a).ends_with(String(node.b));
      case Op::kMatches: {
        std::string_view s = String(node.a);
        return re2::RE2::PartialMatch(re2::StringPiece(s.data(), s.size()),
                                      *p_.regexes[node.index]);
      }
      case Op::kExists:
        return Lookup(p_.nodes[node.a]) != nullptr;
      default:
        SHIELDX_CHECK_MSG(false, "policy: node is not boolean");
    }
    return false;
  }

  std::string_view String(int32_t n) const {
    const Node& node = p_.nodes[n];
    if (node.op == Op::kConstString) return p_.strings[node.index];
    SHIELDX_CHECK(node.op == Op::kField);
    switch (node.field) {
      case Field::kMethod:
        return in_.method;
      case Field::kHost:
        return in_.host;
      case Field::kPath:
        return in_.path;
      case Field::kQuery:
        return in_.query;
      case Field::kTenantId:
        return in_.tenant_id;
      case Field::kRouteId:
        return in_.route_id;
      case Field::kArg:
      case Field::kHeader:
      case Field::kCookie: {
        const KeyValue* kv = Lookup(node);
        return kv ? kv->value : std::string_view();
      }
      default:
        SHIELDX_CHECK_MSG(false, "policy: field is not a string");
    }
    return {};
  }

  double Number(int32_t n) const {
    const Node& node = p_.nodes[n];
    if (node.op == Op::kConstNumber) return node.number;
    if (node.op == Op::kLen) {
      const Node& arg = p_.nodes[node.a];
      if (arg.type == Type::kCategorySet) return std::popcount(Mask(node.a));
      return static_cast<double>(String(node.a).size());
    }
    SHIELDX_CHECK(node.op == Op::kField);
    switch (node.field) {
      case Field::kWafScore:
        return in_.waf_score;
      case Field::kAuthRisk:
        return in_.auth_risk;
      case Field::kRate:
        return static_cast<std::size_t>(node.index) < in_.rate_counters.size()
                   ? in_.rate_counters[node.index]
                   : 0.0;
      case Field::kTimeHour:
        return static_cast<double>(FloorMod(in_.unix_time_s, kSecondsPerDay) / 3600);
      case Field::kTimeMinute:
        return static_cast<double>(FloorMod(in_.unix_time_s, 3600) / 60);
      case Field::kTimeWeekday:
        // 1970-01-01 was a Thursday (ISO weekday 4); ISO: Monday 1 .. Sunday 7.
        return static_cast<double>(FloorMod(FloorDiv(in_.unix_time_s, kSecondsPerDay) + 3, 7) + 1);
      default:
        SHIELDX_CHECK_MSG(false, "policy: field is not a number");
    }
    return 0;
  }

  const IpAddress& Ip(int32_t n) const {
    const Node& node = p_.nodes[n];
    if (node.op == Op::kConstIp) return p_.ips[node.index];
    SHIELDX_CHECK(node.op == Op::kField && node.field == Field::kIpSrc);
    return in_.ip_src;
  }

  uint64_t Mask(int32_t n) const {
    const Node& node = p_.nodes[n];
    SHIELDX_CHECK(node.op == Op::kField && node.field == Field::kWafCategory);
    return in_.waf_categories;
  }

 private:
  const KeyValue* Lookup(const Node& node) const {
    const std::string_view key = p_.strings[node.index];
    switch (node.field) {
      case Field::kArg:
        return FindExact(in_.args, key);
      case Field::kHeader:
        return FindIgnoreCase(in_.headers, key);
      case Field::kCookie:
        return FindExact(in_.cookies, key);
      default:
        SHIELDX_CHECK_MSG(false, "policy: field has no key");
    }
    return nullptr;
  }

  template <typename T>
  static bool Apply(Op op, const T& a, const T& b) {
    switch (op) {
      case Op::kEq:
        return a == b;
      case Op::kNe:
        return a != b;
      case Op::kLt:
        return a < b;
      case Op::kLe:
        return a <= b;
      case Op::kGt:
        return a > b;
      case Op::kGe:
        return a >= b;
      default:
        return false;
    }
  }

  bool Compare(const Node& node) const {
    switch (node.operand_type) {
      case Type::kString:
        return Apply(node.op, String(node.a), String(node.b));
      case Type::kNumber:
        return Apply(node.op, Number(node.a), Number(node.b));
      case Type::kBool:
        return Apply(node.op, Bool(node.a), Bool(node.b));
      case Type::kIp: {
        const bool equal = Ip(node.a) == Ip(node.b);
        return node.op == Op::kEq ? equal : !equal;
      }
      default:
        SHIELDX_CHECK_MSG(false, "policy: comparison of an uncomparable type");
    }
    return false;
  }

  const Program& p_;
  const PolicyInput& in_;
};

}  // namespace

void EvaluateProgram(const Program& p, const PolicyInput& in, PolicyResult* r) {
  const Evaluator eval(p, in);
  uint64_t tags = 0, rate_limits = 0;
  bool log = false;
  uint32_t matched = 0;
  for (std::size_t i = 0; i < p.rules.size(); ++i) {
    const Rule& rule = p.rules[i];
    if (!eval.Bool(rule.condition)) continue;
    ++matched;
    tags |= rule.tags;
    rate_limits |= rule.rate_limits;
    log = log || rule.log;
    if (!rule.terminal) continue;
    *r = PolicyResult{};
    r->action = rule.act.action;
    r->status = rule.act.status;
    r->tarpit_ms = rule.act.tarpit_ms;
    r->divert_pool = rule.act.divert_pool;
    if (rule.act.divert_pool >= 0) r->divert_pool_name = p.divert_pools[rule.act.divert_pool];
    r->matched_rule = static_cast<int>(i);
    r->matched_rule_name = p.rule_info[i].name;
    r->tags = tags;
    r->rate_limits = rate_limits;
    r->log = log;
    r->rules_matched = matched;
    return;
  }
  *r = p.default_result;
  r->tags = tags;
  r->rate_limits = rate_limits;
  r->log = log;
  r->rules_matched = matched;
}

RateLimitKey EvaluateRateLimitKey(const Program& p, int spec, const PolicyInput& in) {
  SHIELDX_CHECK(spec >= 0 && static_cast<std::size_t>(spec) < p.rate_limit_keys.size());
  const Evaluator eval(p, in);
  const RateLimit& rl = p.rate_limit_keys[spec];
  RateLimitKey key;
  switch (rl.key_type) {
    case Type::kIp:
      key.kind = RateLimitKey::Kind::kIp;
      key.ip = eval.Ip(rl.key);
      break;
    case Type::kNumber:
      key.kind = RateLimitKey::Kind::kNumber;
      key.number = eval.Number(rl.key);
      break;
    default:
      key.kind = RateLimitKey::Kind::kString;
      key.text = eval.String(rl.key);
      break;
  }
  return key;
}

}  // namespace shieldx::policy::internal
