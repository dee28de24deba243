// The admin HTTP endpoint every service runs on its own port:
//   GET /healthz  200 "ok" while the process is alive (503 once Shutdown() has begun)
//   GET /readyz   200 + JSON when every required readiness probe passes (status "ready", or
//                 "degraded" when an advisory probe fails: the service rides that outage out
//                 and says so); 503 + JSON naming the failing probes and their messages
//                 otherwise, and always 503 while draining
//   GET /metrics  the registry's text exposition (Prometheus scrape target)
//
// Readiness probes (e.g. "postgres": SELECT 1) run on one dedicated thread per probe, at most
// once per `probe_cache_ttl` however many scrapes arrive; a probe that has not answered within
// `probe_timeout` is reported as failed (DEADLINE_EXCEEDED) and is not started again until it
// returns. Probes must bound their own I/O (connect/statement timeouts): destroying the
// AdminServer waits for a probe that is still running.
//
// Thread-safety: BeginDrain(), draining(), CheckReadiness() from any thread; Start() and
// Shutdown() from the controlling thread.
#ifndef SHIELDX_LIBS_HTTP_ADMIN_H_
#define SHIELDX_LIBS_HTTP_ADMIN_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "libs/base/clock.h"
#include "libs/http/server.h"

namespace shieldx::http {

struct ReadinessProbe {
  std::string name;                     // "postgres", "redis", "s3"
  std::function<absl::Status()> check;  // OK when the dependency is usable
  // false: advisory. A failure is reported (status "degraded") but the service stays ready,
  // e.g. the orchestrator deciding on its last configuration snapshot while PostgreSQL is down.
  bool required = true;
};

struct ProbeResult {
  std::string name;
  absl::Status status;
  bool required = true;
};

struct ReadinessReport {
  bool ready = false;
  bool degraded = false;  // ready, but an advisory probe fails
  bool draining = false;
  std::vector<ProbeResult> probes;
  // {"status":"ready"|"degraded"|"not_ready"|"draining",
  //  "probes":[{"name":..,"ok":..,"error":..,"required":false (advisory only)}]}
  std::string ToJson() const;
};

struct AdminServerOptions {
  // Defaults to 127.0.0.1:0, one worker, name "admin". Services set host "0.0.0.0" and their
  // admin port so Prometheus and the kubelet can reach it.
  HttpServerOptions http = DefaultHttpOptions();
  absl::Duration probe_timeout = absl::Seconds(2);
  absl::Duration probe_cache_ttl = absl::Seconds(1);
  Clock* clock = Clock::Real();

  static HttpServerOptions DefaultHttpOptions() {
    HttpServerOptions o;
    o.name = "admin";
    o.worker_threads = 1;
    o.max_connections = 256;
    return o;
  }
};

class AdminServer {
 public:
  // REQUIRES: metrics != nullptr, outliving the server. Probe names must be unique.
  AdminServer(AdminServerOptions options, metrics::MetricsRegistry* metrics,
              std::vector<ReadinessProbe> probes);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // The underlying server, to add routes (e.g. /debug/config) before Start().
  HttpServer& http() { return server_; }

  absl::Status Start();
  int port() const { return server_.port(); }

  // From now on /readyz answers 503 {"status":"draining"} (load balancers stop sending).
  void BeginDrain() { draining_.store(true); }
  bool draining() const { return draining_.load(); }

  // Stops the HTTP server (see HttpServer::Shutdown).
  void Shutdown(absl::Duration deadline);

  // The probe results, from cache when fresher than probe_cache_ttl.
  ReadinessReport CheckReadiness();

 private:
  struct Slot {
    ReadinessProbe probe;
    std::thread thread;
    uint64_t requested = 0;  // guarded by mu_
    uint64_t finished = 0;   // guarded by mu_
    absl::Status last;       // guarded by mu_
  };

  void RunSlot(Slot* slot);
  std::vector<ProbeResult> RefreshProbes();

  AdminServerOptions options_;
  metrics::MetricsRegistry* metrics_;
  HttpServer server_;
  std::atomic<bool> draining_{false};
  std::atomic<bool> shutting_down_{false};

  std::mutex refresh_mu_;  // one refresh at a time; held while waiting for probes
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  bool stop_ = false;        // guarded by mu_
  uint64_t generation_ = 0;  // guarded by mu_
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<ProbeResult> cached_;  // guarded by refresh_mu_
  int64_t cached_at_ns_ = -1;        // guarded by refresh_mu_
};

}  // namespace shieldx::http

#endif  // SHIELDX_LIBS_HTTP_ADMIN_H_
