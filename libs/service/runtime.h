// ServiceRuntime: what every ShieldX service's main() does besides its own wiring.
//
//   int main(int argc, char** argv) {
//     return shieldx::service::Main<credits::Config>(
//         credits::Schema(), argc, argv,
//         {.name = "credits", .needs = {.postgres = true, .redis = true},
//          .migrations = &credits_migrations()},
//         [](credits::Config& c, ServiceRuntime& rt) -> absl::Status {
//           ... build domain objects from rt.pg(), rt.redis(), register gRPC services ...
//         });
//   }
//
// Start-up order: config (invalid → one line on stderr, exit 2), logging, effective config
// logged once with secrets redacted, metrics, store clients (they connect lazily), migrations
// (in the background with retries while PostgreSQL is unreachable; readiness reports them),
// gRPC server with health, admin HTTP server (/healthz, /readyz, /metrics), then wait for
// SIGTERM/SIGINT and drain (readiness off, health NOT_SERVING, in-flight work finishes until
// drain_deadline).
//
// `<binary> migrate` applies migrations and exits (0 on success, 1 with one error line).
// `<binary> check-config` validates the configuration, prints the effective configuration
// (secrets redacted) as JSON and exits 0 — or exits 2 with one line naming the problem.
#ifndef SHIELDX_LIBS_SERVICE_RUNTIME_H_
#define SHIELDX_LIBS_SERVICE_RUNTIME_H_

#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "libs/base/embedded_file.h"
#include "libs/config/config.h"
#include "libs/http/admin.h"
#include "libs/metrics/metrics.h"
#include "libs/service/common_config.h"

namespace shieldx::pg {
class PgPool;
}
namespace shieldx::redis {
class RedisPool;
}
namespace shieldx::objstore {
class S3Client;
}
namespace shieldx::rpc {
class GrpcServer;
}

namespace shieldx::service {

struct ServiceSpec {
  std::string name;  // "credits"
  StoreNeeds needs;
  // The service's SQL migrations (shieldx_embed_files); null or empty: none.
  const std::vector<EmbeddedFile>* migrations = nullptr;
  std::string version = "dev";
  // Stores whose outage the service rides out (e.g. the orchestrator decides on its last
  // configuration snapshot): their readiness probes are advisory (/readyz "degraded", still
  // 200). Their absence at start-up is covered by the service's own probes.
  StoreNeeds advisory;
};

class ServiceRuntime {
 public:
  // Builds metrics and store clients (no connection yet). InvalidArgument on bad settings.
  static absl::StatusOr<std::unique_ptr<ServiceRuntime>> Create(const ServiceSpec& spec,
                                                                const CommonConfig& config);
  ~ServiceRuntime();
  ServiceRuntime(const ServiceRuntime&) = delete;
  ServiceRuntime& operator=(const ServiceRuntime&) = delete;

  const ServiceSpec& spec() const { return spec_; }
  const CommonConfig& config() const { return config_; }
  metrics::MetricsRegistry& metrics() { return *metrics_; }
  // Null when the service does not need that store.
  pg::PgPool* pg() { return pg_.get(); }
  redis::RedisPool* redis() { return redis_.get(); }
  objstore::S3Client* s3() { return s3_.get(); }
  rpc::GrpcServer& grpc() { return *grpc_; }

  // Extra readiness probes (e.g. "config snapshot loaded"). REQUIRES: before Start().
  void AddReadinessProbe(http::ReadinessProbe probe);
  // Runs before servers stop during a drain (e.g. flush batched usage). REQUIRES: before Start().
  void OnDrain(std::function<void()> fn) { before_stop_.push_back(std::move(fn)); }

  // Applies the embedded migrations once (used by `migrate` and by tests).
  absl::Status MigrateOnce();
  // True once migrations have been applied (always true without PostgreSQL or migrations).
  bool migrated() const { return migrated_.load(); }

  // Starts migrations (background, retried), the gRPC server and the admin server.
  absl::Status Start();
  int grpc_port() const;
  int admin_port() const;
  // Blocks until SIGTERM/SIGINT, drains, returns the exit code.
  int ServeUntilSignal();
  // Drains now (tests).
  void Shutdown();

 private:
  ServiceRuntime(ServiceSpec spec, CommonConfig config);
  void MigrationLoop();

  const ServiceSpec spec_;
  const CommonConfig config_;
  std::unique_ptr<metrics::MetricsRegistry> metrics_;
  std::unique_ptr<pg::PgPool> pg_;
  std::unique_ptr<redis::RedisPool> redis_;
  std::unique_ptr<objstore::S3Client> s3_;
  std::unique_ptr<rpc::GrpcServer> grpc_;
  std::unique_ptr<http::AdminServer> admin_;
  std::vector<http::ReadinessProbe> extra_probes_;
  std::vector<std::function<void()>> before_stop_;

  std::atomic<bool> migrated_{false};
  std::atomic<bool> stopping_{false};
  absl::Mutex migrate_mu_;  // serialises MigrateOnce and records the last error
  std::string last_migration_error_ ABSL_GUARDED_BY(migrate_mu_);
  std::thread migration_thread_;
  bool started_ = false;
  bool shut_down_ = false;
};

// The main() of a service: loads config (exit 2 on error), handles `migrate`, builds the
// runtime, calls `wire` to register the service's gRPC services, starts and serves until a
// signal. Returns the process exit code.
template <typename Config>
int Main(const config::ConfigSchema<Config>& schema, int argc, char** argv,
         CommonConfig Config::*common, const ServiceSpec& spec,
         const std::function<absl::Status(const Config&, ServiceRuntime&)>& wire);

namespace internal {
int RunService(const ServiceSpec& spec, const CommonConfig& common,
               const std::string& effective_json, bool migrate_only,
               const std::function<absl::Status(ServiceRuntime&)>& wire);
}  // namespace internal

template <typename Config>
int Main(const config::ConfigSchema<Config>& schema, int argc, char** argv,
         CommonConfig Config::*common, const ServiceSpec& spec,
         const std::function<absl::Status(const Config&, ServiceRuntime&)>& wire) {
  bool migrate_only = false;
  bool check_only = false;
  std::vector<const char*> args(argv, argv + argc);
  if (args.size() > 1 && std::string(args[1]) == "check-config") {
    check_only = true;
    args.erase(args.begin() + 1);
  } else if (args.size() > 1 && std::string(args[1]) == "migrate") {
    migrate_only = true;
    args.erase(args.begin() + 1);
  } else if (args.size() > 1 && std::string(args[1]) == "serve") {
    args.erase(args.begin() + 1);
  }
  config::Loaded<Config> loaded =
      config::LoadOrExit(schema, static_cast<int>(args.size()), args.data());
  const Config& cfg = loaded.config;
  if (check_only) {
    std::printf("%s\n", loaded.effective.ToJson().c_str());
    return 0;
  }
  return internal::RunService(spec, cfg.*common, loaded.effective.ToJson(), migrate_only,
                              [&](ServiceRuntime& rt) { return wire(cfg, rt); });
}

}  // namespace shieldx::service

#endif  // SHIELDX_LIBS_SERVICE_RUNTIME_H_
