// A pipeline::Decider test double with a fixed script, for front-end and proxy tests until
// (and beside) the real pipeline. It decides by path:
//   /sqli...        block 403, score 12, category "sqli"  (also any target containing "' OR ")
//   /block/<NNN>... block with status NNN
//   /challenge...   challenge 401
//   /tarpit...      tarpit `tarpit_ms`, forwarded to upstream A
//   /divert...      divert to upstream B (pool "b")
//   /monitor...     block in monitor mode (enforced as allow, upstream A)
//   /rl...          allow for the first `rate_limit_n` requests, then rate_limit with
//                   Retry-After `retry_after_s`
//   anything else   allow to upstream A (pool "a")
// Request ids are the proxy's when it sent one, else "scripted-<n>". Every request seen is
// recorded (copied) for tests to inspect.
//
// Thread-safety: thread-safe.
#ifndef SHIELDX_SERVICES_ORCHESTRATOR_FRONTENDS_TESTING_SCRIPTED_DECIDER_H_
#define SHIELDX_SERVICES_ORCHESTRATOR_FRONTENDS_TESTING_SCRIPTED_DECIDER_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "libs/detect/request.h"
#include "libs/pipeline/decision.h"

namespace shieldx::orchestrator::frontends::testing {

// An outcome report (Decider::ReportOutcome), copied.
struct SeenOutcome {
  std::string tenant_id;
  std::string pool;
  std::string member_id;
  int status = 0;
  bool connect_failed = false;
  int64_t latency_us = 0;
};

struct SeenRequest {
  detect::OwnedHttpRequest request;
  pipeline::FrontEnd front_end = pipeline::FrontEnd::kGrpc;
  std::string host;
  std::string request_id;
  bool tls = false;
};

class ScriptedDecider final : public pipeline::Decider {
 public:
  struct Script {
    std::string upstream_a;  // "127.0.0.1:port"
    std::string upstream_b;
    int tarpit_ms = 300;
    int rate_limit_n = 3;
    int retry_after_s = 7;
  };

  explicit ScriptedDecider(Script script) : script_(std::move(script)) {}

  pipeline::Decision Decide(const detect::HttpRequest& request,
                            const pipeline::RequestContext& context) override;
  void ReportOutcome(const pipeline::UpstreamOutcome& outcome) override;

  // Outcome reports so far, oldest first; at most kMaxRecorded are kept.
  std::vector<SeenOutcome> outcomes() const;

  // Requests decided so far (copies), oldest first; at most kMaxRecorded are kept.
  std::vector<SeenRequest> seen() const;
  std::optional<SeenRequest> last() const;
  void ResetRateLimit() { rate_limited_count_.store(0); }

  static constexpr std::size_t kMaxRecorded = 1000;

 private:
  Script script_;
  std::atomic<int> rate_limited_count_{0};
  std::atomic<uint64_t> next_id_{0};
  mutable std::mutex mu_;
  std::vector<SeenRequest> seen_;      // guarded by mu_
  std::vector<SeenOutcome> outcomes_;  // guarded by mu_
};

}  // namespace shieldx::orchestrator::frontends::testing

#endif  // SHIELDX_SERVICES_ORCHESTRATOR_FRONTENDS_TESTING_SCRIPTED_DECIDER_H_
