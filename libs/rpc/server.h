// GrpcServer: the gRPC server bootstrap every service uses.
//
//   rpc::GrpcServer server(options, &metrics);
//   server.RegisterService(&credits_service, "shieldx.credits.v1.CreditsService");
//   SHIELDX_ASSIGN_OR_RETURN(int port, server.Start());
//   ...
//   server.Shutdown(options.drain_deadline);   // or rpc::Drain (shutdown.h)
//
// What Start() sets up: message size limits (both directions), keepalive policy, TLS or mTLS
// from PEM files (plaintext when none are configured), the standard grpc.health.v1.Health
// service (overall status "" and each registered service SERVING), the reflection service
// only when options.reflection, and the shared interceptor (interceptors.h).
//
// Thread-safety: RegisterService() before Start(); Start() and Shutdown() from the
// controlling thread; SetServing(), BeginDrain(), port() from any thread.
#ifndef SHIELDX_LIBS_RPC_SERVER_H_
#define SHIELDX_LIBS_RPC_SERVER_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/rpc/options.h"

namespace grpc {
class Server;
class Service;
class Channel;
}  // namespace grpc

namespace shieldx::metrics {
class MetricsRegistry;
}

namespace shieldx::rpc {

class GrpcServer {
 public:
  // `metrics` may be null (no RPC metrics); it must outlive the server.
  GrpcServer(ServerOptions options, metrics::MetricsRegistry* metrics);
  ~GrpcServer();  // Shutdown(absl::ZeroDuration()) when still running.
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // Adds a service; `health_name` is its full proto name ("shieldx.credits.v1.CreditsService"),
  // the name health checks ask about. `service` must outlive the server.
  // REQUIRES: not started; each service once.
  void RegisterService(grpc::Service* service, std::string health_name);

  // Builds and starts the server; returns the bound port. InvalidArgument on bad options or
  // unreadable TLS files, Unavailable when the address cannot be bound.
  absl::StatusOr<int> Start();

  int port() const { return port_.load(); }

  // Sets the health status of one registered service ("" = the whole server). Ignored after
  // BeginDrain(): a draining server stays NOT_SERVING.
  void SetServing(std::string_view health_name, bool serving);

  // Every health status becomes NOT_SERVING (Kubernetes gRPC probes and clients that check
  // health stop sending); RPCs are still served until Shutdown().
  void BeginDrain();
  bool draining() const { return draining_.load(); }

  // BeginDrain(), stop accepting, let in-flight RPCs finish until `deadline`, then cancel the
  // rest; returns when the server has stopped. Idempotent.
  void Shutdown(absl::Duration deadline);

  // A channel to this server that bypasses the network (tests, same-process clients).
  // REQUIRES: started.
  std::shared_ptr<grpc::Channel> InProcessChannel();

  const ServerOptions& options() const { return options_; }

 private:
  ServerOptions options_;
  metrics::MetricsRegistry* metrics_;
  std::vector<std::pair<grpc::Service*, std::string>> services_;
  std::unique_ptr<grpc::Server> server_;
  std::atomic<int> port_{0};
  std::atomic<bool> draining_{false};
  std::mutex mu_;  // serialises health updates with BeginDrain/Shutdown
  bool stopped_ = false;
};

}  // namespace shieldx::rpc

#endif  // SHIELDX_LIBS_RPC_SERVER_H_
