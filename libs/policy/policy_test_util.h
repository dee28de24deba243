// Test helpers for libs/policy: compile-or-fail, and a request with owned storage.
#ifndef SHIELDX_LIBS_POLICY_POLICY_TEST_UTIL_H_
#define SHIELDX_LIBS_POLICY_POLICY_TEST_UTIL_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "libs/policy/policy.h"

namespace shieldx::policy::testing {

// Compiles or fails the current test with the compiler's message.
inline std::shared_ptr<const CompiledPolicy> MustCompile(std::string_view src,
                                                         const CompileOptions& options = {}) {
  auto p = CompiledPolicy::Compile(src, options);
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? *p : nullptr;
}

// The error message of a compile that must fail ("" if it compiled).
inline std::string CompileError(std::string_view src, const CompileOptions& options = {}) {
  auto p = CompiledPolicy::Compile(src, options);
  if (p.ok()) return "";
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(p.status().message());
}

// A request with owned storage; input() returns views into it.
struct Req {
  std::string method = "GET";
  std::string host = "example.com";
  std::string path = "/";
  std::string query;
  std::vector<std::pair<std::string, std::string>> args, headers, cookies;
  std::string ip = "198.51.100.7";
  double waf_score = 0;
  uint64_t waf_categories = 0;
  double auth_risk = 0;
  std::vector<double> rate_counters;
  std::string tenant_id, route_id;
  int64_t unix_time_s = 0;

  const PolicyInput& input() {
    auto views = [](const std::vector<std::pair<std::string, std::string>>& pairs,
                    std::vector<KeyValue>* out) {
      out->clear();
      for (const auto& [k, v] : pairs) out->push_back(KeyValue{k, v});
    };
    views(args, &args_);
    views(headers, &headers_);
    views(cookies, &cookies_);
    in_ = PolicyInput{};
    in_.method = method;
    in_.host = host;
    in_.path = path;
    in_.query = query;
    in_.args = args_;
    in_.headers = headers_;
    in_.cookies = cookies_;
    auto parsed = IpAddress::Parse(ip);
    EXPECT_TRUE(parsed.has_value()) << ip;
    if (parsed) in_.ip_src = *parsed;
    in_.waf_score = waf_score;
    in_.waf_categories = waf_categories;
    in_.auth_risk = auth_risk;
    in_.rate_counters = rate_counters;
    in_.tenant_id = tenant_id;
    in_.route_id = route_id;
    in_.unix_time_s = unix_time_s;
    return in_;
  }

 private:
  std::vector<KeyValue> args_, headers_, cookies_;
  PolicyInput in_;
};

// Bit of a default WAF category name.
inline uint64_t Cat(std::string_view name) {
  const auto& names = DefaultWafCategories();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return uint64_t{1} << i;
  }
  ADD_FAILURE() << "no category " << name;
  return 0;
}

// Whether `condition` holds for `req` (compiled as the only rule, blocking).
inline bool Holds(std::string_view condition, Req& req, const CompileOptions& options = {}) {
  auto p = MustCompile(std::string("rule \"r\" { when ") + std::string(condition) + " then block }",
                       options);
  if (!p) return false;
  return p->Evaluate(req.input()).action == Action::kBlock;
}

}  // namespace shieldx::policy::testing

#endif  // SHIELDX_LIBS_POLICY_POLICY_TEST_UTIL_H_
