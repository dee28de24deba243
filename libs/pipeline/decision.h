// The interface between ShieldX's front ends (SPOE agent, forward-auth HTTP, Envoy ext_authz,
// native gRPC Evaluate) and the decision pipeline (DESIGN.md §3). Every front end decodes its
// protocol into a detect::HttpRequest view plus a RequestContext, calls Decider::Decide, and
// encodes the Decision back into its protocol. The same pipeline runs in the orchestrator,
// the shadow evaluator and the digital twin, so they decide exactly as production does.
#ifndef SHIELDX_LIBS_PIPELINE_DECISION_H_
#define SHIELDX_LIBS_PIPELINE_DECISION_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libs/detect/finding.h"
#include "libs/detect/request.h"

namespace shieldx::pipeline {

enum class Action : uint8_t {
  kAllow,
  kBlock,      // answer `status` (403 by default)
  kChallenge,  // step-up: the proxy answers a challenge (status 401/403 + challenge header)
  kTarpit,     // the proxy waits `tarpit_ms` before forwarding (or answering, if blocked)
  kDivert,     // forward to `upstream`, chosen from the divert pool
  kRateLimit,  // answer 429 with Retry-After: `retry_after_s`
};

// "allow", "block", "challenge", "tarpit", "divert", "rate_limit".
const char* ActionName(Action action);

// Which front end asked (for metrics and the decision log).
enum class FrontEnd : uint8_t { kGrpc, kSpoe, kForwardAuth, kExtAuthz, kShadow, kTwin };
const char* FrontEndName(FrontEnd front_end);

// Facts about the request that are not in the HTTP message itself.
struct RequestContext {
  FrontEnd front_end = FrontEnd::kGrpc;
  std::string_view host;        // effective host (Host header, :authority or SNI)
  std::string_view session_id;  // contauth session, when the front end extracted it
  std::string_view request_id;  // the proxy's id when it has one; else the pipeline makes one
  bool tls = false;
  // Monotonic time the front end received the request (ns); 0: now.
  int64_t received_ns = 0;
  // Added for the native gRPC front end (all optional for the others):
  // When set, the host must resolve to a site of this tenant; otherwise the decision is the
  // configured unknown-host answer (the gRPC adapter checks this first and answers NOT_FOUND).
  std::string_view tenant_id;
  // When set, the request is decided on this site (of `tenant_id`) instead of by host.
  std::string_view site_id;
  // No side effects: rate-limit counters, credits usage, decision events and evidence are left
  // untouched (shadow, twin, EvaluateBatch with dry_run).
  bool dry_run = false;
};

struct Decision {
  Action action = Action::kAllow;
  int status = 200;                     // HTTP status the proxy answers for non-forwarding actions
  int tarpit_ms = 0;                    // kTarpit
  int retry_after_s = 0;                // kRateLimit
  std::string upstream;                 // "host:port" the proxy forwards to (allow, tarpit, divert)
  std::string pool;                     // name of the pool `upstream` came from
  int score = 0;                        // WAF anomaly score
  std::vector<std::string> categories;  // WAF categories found ("sqli", ...)
  std::string rule_id;                  // policy rule that decided, if any
  std::string tenant_id;                // resolved tenant ("" when no site matched)
  std::string route_id;
  std::string request_id;
  std::string explanation;    // one line a human can act on; never request bytes
  bool monitor_only = false;  // the route is in monitor mode: `action` is what WOULD happen
  uint64_t config_version = 0;
  // Added by the pipeline (issue 5); front ends may ignore them.
  std::string site_id;
  std::string member_id;    // pool member behind `upstream`
  std::string rule_set_id;  // rule set that decided ("" when none)
  int64_t rule_set_version = 0;
  // Non-terminal tags of matched rules, pipeline flags, and "exclusion:<id>" for each route
  // detection exclusion that dropped findings (at most kMaxExclusionTags of those).
  std::vector<std::string> tags;
  double auth_risk = -1;                  // contauth session risk used, -1 when unknown
  std::vector<detect::Finding> findings;  // strongest first, at most kMaxDecisionFindings
  int64_t latency_ns = 0;                 // time spent in Decide
};

// Findings copied into a Decision.
inline constexpr std::size_t kMaxDecisionFindings = 32;
// "exclusion:<id>" tags added to a Decision.
inline constexpr std::size_t kMaxExclusionTags = 8;

// What happened upstream after a forwarding decision, reported by front ends that see the
// response (the SPOE agent on `on-http-response`, Envoy, the gRPC Evaluate caller). Feeds the
// least-outstanding counts, the P2C latency EWMA and the circuit breaker.
struct UpstreamOutcome {
  std::string_view tenant_id;   // Decision::tenant_id
  std::string_view pool;        // Decision::pool
  std::string_view member_id;   // Decision::member_id
  int status = 0;               // HTTP status from the upstream; 0 when it never answered
  bool connect_failed = false;  // connection refused / reset / timed out
  int64_t latency_us = 0;       // time to the response headers
};

// Implemented by the pipeline. Thread-safe: called concurrently by every front end thread.
class Decider {
 public:
  virtual ~Decider() = default;
  // Never fails: configuration or dependency problems become the configured fail-open /
  // fail-closed decision, with an explanation.
  virtual Decision Decide(const detect::HttpRequest& request, const RequestContext& context) = 0;
  // Optional feedback after a forwarded request completes; cheap, never blocks. The default
  // ignores it (deciders without routing).
  virtual void ReportOutcome(const UpstreamOutcome& outcome) { (void)outcome; }
};

}  // namespace shieldx::pipeline

#endif  // SHIELDX_LIBS_PIPELINE_DECISION_H_
