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
};

struct Decision {
  Action action = Action::kAllow;
  int status = 200;          // HTTP status the proxy answers for non-forwarding actions
  int tarpit_ms = 0;         // kTarpit
  int retry_after_s = 0;     // kRateLimit
  std::string upstream;      // "host:port" the proxy forwards to (allow, tarpit, divert)
  std::string pool;          // name of the pool `upstream` came from
  int score = 0;             // WAF anomaly score
  std::vector<std::string> categories;  // WAF categories found ("sqli", ...)
  std::string rule_id;       // policy rule that decided, if any
  std::string tenant_id;     // resolved tenant ("" when no site matched)
  std::string route_id;
  std::string request_id;
  std::string explanation;   // one line a human can act on; never request bytes
  bool monitor_only = false; // the route is in monitor mode: `action` is what WOULD happen
  uint64_t config_version = 0;
};

// Implemented by the pipeline. Thread-safe: called concurrently by every front end thread.
class Decider {
 public:
  virtual ~Decider() = default;
  // Never fails: configuration or dependency problems become the configured fail-open /
  // fail-closed decision, with an explanation.
  virtual Decision Decide(const detect::HttpRequest& request, const RequestContext& context) = 0;
};

}  // namespace shieldx::pipeline

#endif  // SHIELDX_LIBS_PIPELINE_DECISION_H_
