// HealthChecker: active health checks of every pool member in the pipeline's current snapshot.
//
// One thread wakes every `tick`, and checks each member whose interval has elapsed: a TCP
// connect (HEALTH_CHECK_KIND_TCP) or an HTTP/1.1 GET of the pool's path expecting one of the
// configured statuses (default 200-399) (HEALTH_CHECK_KIND_HTTP), each bounded by the pool's
// timeout. `unhealthy_threshold` consecutive failures mark a member unhealthy (no traffic);
// `healthy_threshold` consecutive successes mark it healthy again. The check's round-trip time
// feeds the member's latency EWMA when no real traffic reports one. State lives in the
// members' MemberState, so it survives configuration changes.
//
// Checks run sequentially on the one thread: a pool of many slow members checks less often
// than configured (bounded by timeouts; documented limit).
//
// Thread-safety: Start/Stop from the owning thread; CheckNow is for tests.
#ifndef SHIELDX_LIBS_PIPELINE_HEALTH_CHECKER_H_
#define SHIELDX_LIBS_PIPELINE_HEALTH_CHECKER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "libs/base/clock.h"
#include "libs/pipeline/pipeline_metrics.h"
#include "libs/pipeline/snapshot.h"

namespace shieldx::pipeline {

struct ProbeResult {
  bool ok = false;
  int64_t rtt_us = 0;
  std::string detail;  // "HTTP 200", "connect: Connection refused", "timeout after 1000 ms"
};

// One probe of "host:port" (no I/O beyond the socket; never throws).
ProbeResult ProbeMember(const std::string& address, const v1::HealthCheck& check);

class HealthChecker {
 public:
  using SnapshotFn = std::function<std::shared_ptr<const Snapshot>()>;
  HealthChecker(SnapshotFn snapshot, Clock* clock, PipelineMetrics* metrics,
                absl::Duration tick = absl::Milliseconds(250));
  ~HealthChecker();
  void Start();
  void Stop();
  // Runs the members that are due now (tests call it directly).
  void CheckDue();

 private:
  SnapshotFn snapshot_;
  Clock* const clock_;
  PipelineMetrics* const metrics_;
  const absl::Duration tick_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace shieldx::pipeline

#endif  // SHIELDX_LIBS_PIPELINE_HEALTH_CHECKER_H_
