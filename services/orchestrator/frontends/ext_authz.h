// The Envoy ext_authz v3 front end: envoy.service.auth.v3.Authorization/Check over gRPC, with
// ShieldX's own wire-compatible messages (proto/envoy/).
//
// Request: method, path (the full request target), protocol, headers (the `headers` map, or
// `header_map` when Envoy's encode_raw_headers is on; pseudo-headers are dropped, :authority
// becomes the host when `host` is empty), body (`body` or `raw_body`), client address
// (source.address.socket_address.address), request id (`id`), TLS (scheme https or a
// tls_session).
//
// Answer:
//   allow / tarpit / divert  status OK + ok_response: request headers x-shieldx-action,
//                            x-shieldx-request-id, x-shieldx-score and, when chosen,
//                            x-shieldx-upstream / x-shieldx-pool (route with an ORIGINAL_DST
//                            cluster, original_dst_lb_config.http_header_name:
//                            x-shieldx-upstream). x-shieldx-* headers the client sent that
//                            ShieldX did not set are removed (headers_to_remove), so a client
//                            cannot choose its own upstream.
//   block / challenge /      status PERMISSION_DENIED / UNAUTHENTICATED / RESOURCE_EXHAUSTED +
//   rate_limit               denied_response with the HTTP status, the decision headers
//                            (Retry-After for rate limits) and a one-word body.
// Tarpit: the RPC answers after tarpit_ms (Envoy's ext_authz timeout must be longer), with at
// most `max_concurrent_tarpits` handler threads waiting; beyond that the request is answered
// as a rate limit (429, Retry-After: 1) and counted as tarpit_overflow.
//
// Thread-safety: Check() runs concurrently on gRPC's handler threads.
#ifndef SHIELDX_SERVICES_ORCHESTRATOR_FRONTENDS_EXT_AUTHZ_H_
#define SHIELDX_SERVICES_ORCHESTRATOR_FRONTENDS_EXT_AUTHZ_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "envoy/service/auth/v3/external_auth.grpc.pb.h"
#include "libs/base/limits.h"
#include "libs/detect/request.h"
#include "libs/pipeline/decision.h"
#include "services/orchestrator/frontends/common.h"

namespace shieldx::orchestrator::frontends {

struct ExtAuthzOptions {
  std::size_t max_headers = limits::kMaxHeaderCount;
  std::size_t max_uri_bytes = limits::kMaxUriBytes;
  std::size_t max_body_bytes = limits::kMaxInspectedBodyBytes;
  absl::Duration max_tarpit = absl::Seconds(5);
  std::size_t max_concurrent_tarpits = 32;
};

struct ExtAuthzScratch {
  std::string client_ip;
  std::vector<detect::Header> headers;
};

// Decodes a CheckRequest (views into it and `*scratch`). InvalidArgument without an HTTP
// request, ResourceExhausted over a limit.
absl::Status DecodeCheckRequest(const envoy::service::auth::v3::CheckRequest& check,
                                const ExtAuthzOptions& options, ExtAuthzScratch* scratch,
                                detect::HttpRequest* request, pipeline::RequestContext* context);

// Fills `*response` for `decision`. `client_headers` are the request's header names, to
// strip x-shieldx-* ones the decision does not set.
void EncodeCheckResponse(const pipeline::Decision& decision,
                         const std::vector<detect::Header>& client_headers,
                         envoy::service::auth::v3::CheckResponse* response);

class ExtAuthzService final : public envoy::service::auth::v3::Authorization::Service {
 public:
  // `decider` and `metrics` must outlive the service; `metrics` may be null.
  ExtAuthzService(ExtAuthzOptions options, pipeline::Decider& decider, FrontEndMetrics* metrics);

  grpc::Status Check(grpc::ServerContext* context,
                     const envoy::service::auth::v3::CheckRequest* request,
                     envoy::service::auth::v3::CheckResponse* response) override;

 private:
  ExtAuthzOptions options_;
  pipeline::Decider& decider_;
  FrontEndMetrics* metrics_;
  TarpitGate tarpits_;
};

}  // namespace shieldx::orchestrator::frontends

#endif  // SHIELDX_SERVICES_ORCHESTRATOR_FRONTENDS_EXT_AUTHZ_H_
