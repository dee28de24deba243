// The orchestrator's proxy-facing front ends, started together:
//   - the HAProxy SPOE agent (spoe_frontend.h) on `spoe_listen`;
//   - the HTTP forward-auth endpoint for nginx / ingress-nginx / Traefik (forward_auth.h) on
//     `authz_http_listen`;
//   - Envoy ext_authz v3 gRPC (ext_authz.h) on `ext_authz_listen`, and/or registered by the
//     caller on its own gRPC server via ext_authz_service().
// All of them call the same pipeline::Decider.
//
//   SHIELDX_ASSIGN_OR_RETURN(std::unique_ptr<FrontEnds> fe,
//                            StartFrontEnds(config, decider, metrics));
//   grpc_server.RegisterService(fe->ext_authz_service(), kExtAuthzServiceName);  // optional
//   ...
//   fe->Drain(absl::Seconds(10));   // on SIGTERM, before the decider goes away
//
// Metrics: shieldx_frontend_* per front end (common.h), shieldx_spoe_* (libs/spoe/agent.h),
// http_requests_total{route="/authz"...} from the forward-auth server.
//
// Thread-safety: StartFrontEnds, Drain and the destructor from one controlling thread.
#ifndef SHIELDX_SERVICES_ORCHESTRATOR_FRONTENDS_FRONTENDS_H_
#define SHIELDX_SERVICES_ORCHESTRATOR_FRONTENDS_FRONTENDS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/pipeline/decision.h"

namespace grpc {
class Service;
}
namespace shieldx::metrics {
class MetricsRegistry;
}

namespace shieldx::orchestrator::frontends {

// The full name health checks and RegisterService use for ext_authz.
inline constexpr char kExtAuthzServiceName[] = "envoy.service.auth.v3.Authorization";

struct FrontEndsConfig {
  // "host:port" of the SPOE agent (HAProxy's spoe backend); "" disables it.
  // env SHIELDX_ORCHESTRATOR_SPOE_LISTEN (k8s: 0.0.0.0:12345).
  std::string spoe_listen;
  int spoe_workers = 2;
  // Largest SPOP frame we accept (HAProxy's max-frame-size caps it further).
  uint32_t spoe_max_frame_size = 65532;
  // The spoe-message that carries requests.
  std::string spoe_message = "shieldx-req";

  // "host:port" of the forward-auth HTTP endpoint; "" disables it.
  // env SHIELDX_ORCHESTRATOR_AUTHZ_HTTP_LISTEN (k8s: 0.0.0.0:8081).
  std::string authz_http_listen;
  // Worker threads of the forward-auth server; tarpits hold one each (see below).
  int authz_http_workers = 8;
  std::string authz_http_path = "/authz";

  // "host:port" of a dedicated ext_authz gRPC server; "" starts none (the service can still
  // be registered on another server through ext_authz_service()).
  std::string ext_authz_listen;

  // Tarpit delays are cut to this. HAProxy's SPOE `timeout processing`, nginx's
  // proxy_read_timeout of the auth location and Envoy's ext_authz timeout must be longer.
  int max_tarpit_ms = 5000;
  // Forward-auth and ext_authz requests waiting in a tarpit at once (each holds a thread);
  // forward-auth also keeps at least one worker free. SPOE tarpits hold no thread.
  int max_concurrent_tarpits = 32;
};

class FrontEnds {
 public:
  ~FrontEnds();  // Drain(absl::ZeroDuration()) when still running.
  FrontEnds(const FrontEnds&) = delete;
  FrontEnds& operator=(const FrontEnds&) = delete;

  // Bound ports (0 when that front end is disabled).
  int spoe_port() const;
  int authz_http_port() const;
  int ext_authz_port() const;

  // The ext_authz service, to register on another gRPC server before it starts. Valid while
  // this object lives.
  grpc::Service* ext_authz_service();

  // Stops accepting on every front end and lets requests in progress finish until
  // `deadline` (SPOE connections get AGENT-DISCONNECT so HAProxy moves to another replica).
  // Idempotent.
  void Drain(absl::Duration deadline);

 private:
  struct Impl;
  friend absl::StatusOr<std::unique_ptr<FrontEnds>> StartFrontEnds(const FrontEndsConfig&,
                                                                   pipeline::Decider&,
                                                                   metrics::MetricsRegistry&);
  explicit FrontEnds(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Validates `config`, starts the enabled front ends. InvalidArgument names the bad field;
// Unavailable when an address cannot be bound (nothing is left running then).
// `decider` and `metrics` must outlive the returned object.
absl::StatusOr<std::unique_ptr<FrontEnds>> StartFrontEnds(const FrontEndsConfig& config,
                                                          pipeline::Decider& decider,
                                                          metrics::MetricsRegistry& metrics);

}  // namespace shieldx::orchestrator::frontends

#endif  // SHIELDX_SERVICES_ORCHESTRATOR_FRONTENDS_FRONTENDS_H_
