// The HAProxy SPOE front end: turns the `shieldx-req` SPOE message into a pipeline request,
// asks the Decider, and answers with transaction variables that deploy/haproxy/haproxy.cfg
// enforces.
//
// The message (deploy/haproxy/spoe-shieldx.conf) carries these arguments, by name:
//   method=method  path=path  query=query  version=req.ver  headers=req.hdrs_bin
//   body=req.body  client_ip=src  unique_id=unique-id  tls=ssl_fc
// `method` and `path` are required; the others may be absent or NULL. `headers` is
// HAProxy's binary header block (libs/spoe/headers.h). `body` longer than max_body_bytes is
// inspected up to that many bytes (the rest is never seen by the pipeline).
//
// Answer: set-var actions in scope txn (HAProxy prefixes them with the agent's var-prefix,
// "shieldx", so they read as txn.shieldx.<name>):
//   action        string  allow | block | challenge | tarpit | divert | rate_limit (enforced:
//                         "allow" when the route is in monitor mode)
//   would_action  string  the pipeline's action, only in monitor mode
//   status        int     HTTP status for block / challenge / rate_limit (else 200)
//   upstream      string  "host:port" to forward to ("" / unset: HAProxy's default backend)
//   upstream_ip   ipv4/6  the upstream's address, when `upstream` is an IP literal
//   upstream_port int     the upstream's port
//   pool          string  the pool the upstream came from
//   score         int     WAF anomaly score
//   request_id    string  the decision's request id
//   tarpit_ms     int     tarpit delay (the ACK itself is held that long: HAProxy waits)
//   retry_after   int     seconds, for rate_limit
//   rule_id       string  the policy rule that decided, when one did
//   tenant        string  the decision's tenant   } only when a pool member was chosen: sent
//   member        string  the pool member's id    } back in `shieldx-res` for the balancer
//   sent          string  "<agent id>:<monotonic µs when the ACK leaves>"
//
// Outcome reports: the `shieldx-res` message (event on-http-response, only for requests
// forwarded to a member ShieldX chose) carries tenant=, pool=, member= (the variables above),
// status=status and sent=. It is answered with no actions and fed to Decider::ReportOutcome:
// the status drives the circuit breaker and ends the pick's "outstanding" count (least
// outstanding balancing); the time from `sent` to the response headers feeds the
// power-of-two-choices latency EWMA — only when the same agent process stamped `sent` (its
// monotonic clock), otherwise the latency is unknown and not used. Responses HAProxy makes
// itself (connection refused, timeouts) produce no event: the active health checks see those.
// A message that cannot be decoded (required argument missing, header block malformed or
// over a limit) is answered with action=block and status 400 / 414 / 431 without calling the
// pipeline, and counted in shieldx_frontend_errors_total{frontend="spoe"}.
//
// Thread-safety: Handle() is called concurrently from every agent worker; the Decider must
// be thread-safe (it is, by contract).
#ifndef SHIELDX_SERVICES_ORCHESTRATOR_FRONTENDS_SPOE_FRONTEND_H_
#define SHIELDX_SERVICES_ORCHESTRATOR_FRONTENDS_SPOE_FRONTEND_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "libs/base/limits.h"
#include "libs/detect/request.h"
#include "libs/pipeline/decision.h"
#include "libs/spoe/agent.h"
#include "libs/spoe/headers.h"
#include "services/orchestrator/frontends/common.h"

namespace shieldx::orchestrator::frontends {

struct SpoeFrontEndOptions {
  // The spoe-message this front end answers; other messages are acknowledged empty.
  std::string message_name = "shieldx-req";
  // The outcome report message (see the file comment).
  std::string response_message_name = "shieldx-res";
  spoe::HeaderBlockLimits header_limits{.max_headers = limits::kMaxHeaderCount,
                                        .max_name_bytes = 256,
                                        .max_value_bytes = limits::kMaxHeaderBytes};
  std::size_t max_uri_bytes = limits::kMaxUriBytes;
  std::size_t max_body_bytes = limits::kMaxInspectedBodyBytes;
  // Tarpit delays are cut to this (HAProxy's `timeout processing` must be longer).
  absl::Duration max_tarpit = absl::Seconds(5);
};

// Storage for the parts of a decoded request that are not views into the SPOE frame.
struct SpoeScratch {
  std::string uri;
  std::string version;
  std::string client_ip;
  std::vector<detect::Header> headers;
  std::vector<spoe::BinaryHeader> binary_headers;
};

// Decodes `message` into `*request` / `*context` (views into the message and `*scratch`).
// InvalidArgument (-> 400) for a missing method/path or malformed header block,
// ResourceExhausted (-> 414 for the URI, 431 for headers) over a limit.
absl::Status DecodeSpoeRequest(const spoe::Message& message, const SpoeFrontEndOptions& options,
                               SpoeScratch* scratch, detect::HttpRequest* request,
                               pipeline::RequestContext* context);

// The set-var actions for `decision` (see the file comment), without `sent`.
std::vector<spoe::Action> SpoeActions(const pipeline::Decision& decision);

// Decodes a `shieldx-res` message into `*outcome` (views into `message`). `agent_id` and
// `now_us` (monotonic µs) give the latency when `sent` was stamped by this agent; otherwise
// latency_us is -1 (unknown). InvalidArgument when tenant, pool, member or status is missing.
absl::Status DecodeSpoeOutcome(const spoe::Message& message, std::string_view agent_id,
                               int64_t now_us, pipeline::UpstreamOutcome* outcome);

class SpoeFrontEnd {
 public:
  // `decider` and `metrics` must outlive this object; `metrics` may be null.
  SpoeFrontEnd(SpoeFrontEndOptions options, pipeline::Decider& decider, FrontEndMetrics* metrics);

  // The spoe::Agent handler.
  void Handle(const spoe::NotifyRequest& request, spoe::NotifyReply* reply);

  // This process's agent id (random per SpoeFrontEnd, hex), as stamped in `sent`.
  const std::string& agent_id() const { return agent_id_; }

 private:
  pipeline::Decision DecideMessage(const spoe::Message& message);
  void ReportOutcome(const spoe::Message& message);

  SpoeFrontEndOptions options_;
  std::string agent_id_;
  pipeline::Decider& decider_;
  FrontEndMetrics* metrics_;
};

}  // namespace shieldx::orchestrator::frontends

#endif  // SHIELDX_SERVICES_ORCHESTRATOR_FRONTENDS_SPOE_FRONTEND_H_
