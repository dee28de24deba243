// Named limits of the policy language. Every input the compiler accepts is bounded; the
// defaults below are what the orchestrator, shadow and twin use (PolicyLimits in policy.h
// carries them so tests can lower them).
#ifndef SHIELDX_LIBS_POLICY_LIMITS_H_
#define SHIELDX_LIBS_POLICY_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace shieldx::policy::limits {

// Source text of one rule set: large enough for thousands of rules, small enough to keep a
// compile well under a second.
inline constexpr std::size_t kMaxSourceBytes = 1024 * 1024;
// Rules in one rule set; evaluation is linear in the rules, so this bounds worst-case latency.
inline constexpr std::size_t kMaxRules = 1000;
// Test cases carried by one rule set.
inline constexpr std::size_t kMaxTests = 1000;
// Nesting depth of one expression (parentheses, not, function calls). Evaluation recurses
// once per level, so this bounds stack use.
inline constexpr int kMaxExpressionDepth = 64;
// Expression nodes in the whole rule set.
inline constexpr std::size_t kMaxExpressionNodes = 200000;
// Elements of one set literal `{...}`.
inline constexpr std::size_t kMaxSetElements = 10000;
// Entries of one named list `$name` (IP lists can be large: they become merged ranges).
inline constexpr std::size_t kMaxListEntries = 1000000;
// Bytes of one string literal after unescaping.
inline constexpr std::size_t kMaxStringLiteralBytes = 4096;
// Bytes of one regex pattern and the RE2 memory budget of one compiled regex (RE2 max_mem;
// a pattern whose program does not fit is rejected at compile time).
inline constexpr std::size_t kMaxRegexPatternBytes = 4096;
inline constexpr int64_t kMaxRegexMemBytes = 1024 * 1024;
// Distinct regexes in one rule set.
inline constexpr std::size_t kMaxRegexes = 1000;
// Rule names, tag names, pool names, list names, test names.
inline constexpr std::size_t kMaxNameBytes = 128;
// Actions after `then` in one rule.
inline constexpr std::size_t kMaxActionsPerRule = 16;

// Fixed by the result layout (bitmasks), not tunable:
// distinct tag names in one rule set (PolicyResult::tags is a 64-bit mask);
inline constexpr int kMaxTags = 64;
// rate_limit actions in one rule set (PolicyResult::rate_limits is a 64-bit mask);
inline constexpr int kMaxRateLimits = 64;
// WAF categories (PolicyInput::waf_categories is a 64-bit mask).
inline constexpr int kMaxWafCategories = 64;
// Distinct rate counters `rate["name"]` and divert pools in one rule set.
inline constexpr int kMaxRateCounters = 256;
inline constexpr int kMaxDivertPools = 256;

// Action argument ranges.
inline constexpr int kMinBlockStatus = 400;
inline constexpr int kMaxBlockStatus = 599;
inline constexpr int kDefaultBlockStatus = 403;
inline constexpr int64_t kMaxTarpitMs = 60 * 1000;
inline constexpr int64_t kMinRateWindowMs = 1000;
inline constexpr int64_t kMaxRateWindowMs = 24 * 3600 * 1000;
inline constexpr int64_t kMaxRateLimitCount = 1000000000;

}  // namespace shieldx::policy::limits

#endif  // SHIELDX_LIBS_POLICY_LIMITS_H_
