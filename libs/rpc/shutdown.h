// Graceful shutdown shared by every service's main():
//
//   rpc::InstallShutdownSignalHandlers();           // first thing in main()
//   ... start admin, gRPC and HTTP servers ...
//   int sig = rpc::ServeUntilShutdownSignal({.grpc_servers = {&grpc},
//                                            .admin = &admin,
//                                            .drain_deadline = config.drain_deadline});
//   return 0;
//
// The drain, in order: gRPC health NOT_SERVING and admin /readyz 503 (load balancers and
// Kubernetes stop routing here) -> wait `unready_delay` so they notice -> `before_stop`
// hook -> every gRPC and HTTP server stops accepting and lets in-flight requests finish
// until `drain_deadline` (then cancels them) -> the admin server stops. A second SIGTERM or
// SIGINT during the drain exits at once (exit code 128 + signal).
//
// Signals are delivered through a self-pipe, so the handler is async-signal-safe and works
// whichever thread the kernel picks. Thread-safety: all functions may be called from any
// thread; WaitForShutdownSignal() from one thread at a time.
#ifndef SHIELDX_LIBS_RPC_SHUTDOWN_H_
#define SHIELDX_LIBS_RPC_SHUTDOWN_H_

#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace shieldx::http {
class AdminServer;
class HttpServer;
}  // namespace shieldx::http

namespace shieldx::rpc {

class GrpcServer;

// Routes SIGTERM and SIGINT to WaitForShutdownSignal() and ignores SIGPIPE. Idempotent.
// Internal error when the pipe or handlers cannot be set up.
absl::Status InstallShutdownSignalHandlers();

// Blocks until SIGTERM/SIGINT arrives (or RequestShutdown() is called); returns the signal
// number, or 0 for RequestShutdown(). Installs the handlers when not yet installed.
int WaitForShutdownSignal();

// Wakes WaitForShutdownSignal() as if a signal had arrived (tests; a fatal background error).
void RequestShutdown();

struct DrainPlan {
  std::vector<GrpcServer*> grpc_servers;
  std::vector<http::HttpServer*> http_servers;  // data-plane HTTP servers (not the admin one)
  http::AdminServer* admin = nullptr;
  // Pause after readiness turns off and before new work is refused (set it to at least the
  // readiness probe period in Kubernetes; 0 in tests).
  absl::Duration unready_delay = absl::ZeroDuration();
  // In-flight requests get this long (from the start of the drain) to finish.
  absl::Duration drain_deadline = absl::Seconds(20);
  // Runs after unready_delay, before servers stop (e.g. flush batched usage records).
  std::function<void()> before_stop;
};

// Runs the drain sequence above. Returns when every server has stopped.
void Drain(const DrainPlan& plan);

// WaitForShutdownSignal() then Drain(plan); returns the signal number.
int ServeUntilShutdownSignal(const DrainPlan& plan);

}  // namespace shieldx::rpc

#endif  // SHIELDX_LIBS_RPC_SHUTDOWN_H_
