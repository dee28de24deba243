// Pieces every front end shares: per-front-end metrics, the effective action of a decision
// (monitor mode enforces nothing), the decision as HTTP headers, a bound on threads that may
// sleep for a tarpit, and "host:port" parsing.
//
// Thread-safety: FrontEndMetrics and TarpitGate are thread-safe; the functions are pure.
#ifndef SHIELDX_SERVICES_ORCHESTRATOR_FRONTENDS_COMMON_H_
#define SHIELDX_SERVICES_ORCHESTRATOR_FRONTENDS_COMMON_H_

#include <atomic>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/pipeline/decision.h"

namespace prometheus {
class Counter;
class Histogram;
}  // namespace prometheus

namespace shieldx::metrics {
class MetricsRegistry;
}

namespace shieldx::orchestrator::frontends {

// Header names of the forward-auth answer (and of the Envoy OkHttpResponse).
inline constexpr char kHeaderAction[] = "X-ShieldX-Action";
inline constexpr char kHeaderWouldAction[] = "X-ShieldX-Would-Action";
inline constexpr char kHeaderStatus[] = "X-ShieldX-Status";
inline constexpr char kHeaderUpstream[] = "X-ShieldX-Upstream";
inline constexpr char kHeaderPool[] = "X-ShieldX-Pool";
inline constexpr char kHeaderScore[] = "X-ShieldX-Score";
inline constexpr char kHeaderRequestId[] = "X-ShieldX-Request-Id";
inline constexpr char kHeaderTarpitMs[] = "X-ShieldX-Tarpit-Ms";
inline constexpr char kHeaderChallenge[] = "X-ShieldX-Challenge";
inline constexpr char kHeaderRetryAfter[] = "Retry-After";

// Why a front end could not hand a request to the pipeline (a bounded label set).
enum class FrontEndError : uint8_t { kMalformed, kLimit, kTarpitOverflow };

// Metrics of one front end:
//   shieldx_frontend_requests_total{frontend,action}          decisions answered
//   shieldx_frontend_request_duration_seconds{frontend}       decode + decide + encode
//                                                             (excludes tarpit waits)
//   shieldx_frontend_errors_total{frontend,reason}            malformed | limit | tarpit_overflow
class FrontEndMetrics {
 public:
  // `registry` may be null (nothing recorded).
  FrontEndMetrics(metrics::MetricsRegistry* registry, pipeline::FrontEnd front_end);

  void Observe(pipeline::Action action, double seconds);
  void Error(FrontEndError error);

 private:
  std::map<pipeline::Action, prometheus::Counter*> requests_;
  std::map<FrontEndError, prometheus::Counter*> errors_;
  prometheus::Histogram* duration_ = nullptr;
};

// The action the proxy must enforce: kAllow when the route is in monitor mode.
pipeline::Action EnforcedAction(const pipeline::Decision& decision);

// The HTTP status a denying action answers with: the decision's own status when it is an
// error status, else 403 (block), 401 (challenge), 429 (rate limit); 200 for the others.
int DenyStatus(const pipeline::Decision& decision);

// The decision as response headers: action, request id, upstream and pool (when chosen),
// score, tarpit ms, Retry-After (rate limit), status (denials), would-action (monitor mode).
std::vector<std::pair<std::string, std::string>> DecisionHeaders(
    const pipeline::Decision& decision);

// A synthetic decision for a request the front end refuses before the pipeline sees it
// (malformed or over a limit): block with `status` and an explanation.
pipeline::Decision RefusedDecision(int status, std::string explanation,
                                   std::string_view request_id);

// Bounds how many threads sleep in a tarpit at once (front ends whose protocol gives no way
// to answer later). TryEnter() fails when `capacity` sleepers are in; then the caller
// answers without the delay (see each front end for what it answers).
class TarpitGate {
 public:
  explicit TarpitGate(std::size_t capacity) : capacity_(capacity) {}
  bool TryEnter();
  void Leave();

 private:
  const std::size_t capacity_;
  std::atomic<std::size_t> inside_{0};
};

// "host:port", "[v6]:port" or ":port" (host "0.0.0.0"). InvalidArgument names the text.
absl::StatusOr<std::pair<std::string, int>> ParseListenAddress(std::string_view text);

// Case-insensitive ASCII comparison of header names.
bool HeaderNameIs(std::string_view name, std::string_view want);

}  // namespace shieldx::orchestrator::frontends

#endif  // SHIELDX_SERVICES_ORCHESTRATOR_FRONTENDS_COMMON_H_
