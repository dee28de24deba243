// One Prometheus registry per process, with the standard families every service exports.
//
// The names below are the ones the runbook's PromQL and alerts use verbatim:
//   http_requests_total{service,method,route,status}            counter
//   http_request_duration_seconds{service,method,route}         histogram
//   grpc_server_started_total{grpc_service,grpc_method,grpc_type}
//   grpc_server_handled_total{grpc_service,grpc_method,grpc_type,grpc_code}
//   grpc_server_handling_seconds{grpc_service,grpc_method,grpc_type}   histogram
//   shieldx_build_info{service,version}                          gauge (always 1)
//
// Labels must be bounded: `route` is the registered route pattern (never the raw path),
// `method` is one of the HTTP methods we serve. Services add their own business families to
// registry(). /metrics is served by the service's admin HTTP server from Serialize().
//
// Thread-safety: all methods are thread-safe. The Observe* helpers cache label children, so
// the steady state costs one shared-lock map lookup plus atomic updates.
#ifndef SHIELDX_LIBS_METRICS_METRICS_H_
#define SHIELDX_LIBS_METRICS_METRICS_H_

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace shieldx::metrics {

class MetricsRegistry {
 public:
  explicit MetricsRegistry(std::string service, std::string version = "dev");
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  const std::string& service() const { return service_; }
  prometheus::Registry& registry() { return *registry_; }
  std::shared_ptr<prometheus::Registry> shared_registry() { return registry_; }

  // Records one served HTTP request. `route` must be a bounded pattern ("/v1/tenants/{id}").
  void ObserveHttp(std::string_view method, std::string_view route, int status,
                   double duration_seconds);

  // gRPC accounting (called by the shared server interceptor). `type` is "unary",
  // "server_stream", "client_stream" or "bidi_stream"; `code` the canonical code name ("OK").
  void ObserveGrpcStarted(std::string_view service, std::string_view method, std::string_view type);
  void ObserveGrpcHandled(std::string_view service, std::string_view method, std::string_view type,
                          std::string_view code, double duration_seconds);

  // The text exposition format (what GET /metrics returns).
  std::string Serialize() const;

  // Latency buckets shared by every duration histogram: 50 µs .. 10 s.
  static const std::vector<double>& LatencyBuckets();

  prometheus::Family<prometheus::Counter>& http_requests_total() { return *http_requests_; }
  prometheus::Family<prometheus::Histogram>& http_request_duration_seconds() {
    return *http_duration_;
  }

 private:
  struct HttpChildren {
    prometheus::Counter* requests;
    prometheus::Histogram* duration;
  };
  struct GrpcChildren {
    prometheus::Counter* started = nullptr;
    prometheus::Histogram* duration = nullptr;
  };

  std::string service_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* http_requests_;
  prometheus::Family<prometheus::Histogram>* http_duration_;
  prometheus::Family<prometheus::Counter>* grpc_started_;
  prometheus::Family<prometheus::Counter>* grpc_handled_;
  prometheus::Family<prometheus::Histogram>* grpc_duration_;

  mutable std::shared_mutex mu_;  // guards the child caches below
  std::map<std::string, HttpChildren, std::less<>> http_children_;
  std::map<std::string, prometheus::Counter*, std::less<>> http_status_children_;
  std::map<std::string, GrpcChildren, std::less<>> grpc_children_;
  std::map<std::string, prometheus::Counter*, std::less<>> grpc_handled_children_;
};

}  // namespace shieldx::metrics

#endif  // SHIELDX_LIBS_METRICS_METRICS_H_
