// The shared server interceptor: metrics, logging and trace ids for every RPC of every service.
//
// One interceptor object per call does all three (rather than three chained interceptors) so
// the trace id is in place before anything logs and each call costs one allocation:
//  - metrics: grpc_server_started_total at call start; grpc_server_handled_total{grpc_code}
//    and grpc_server_handling_seconds when the status is sent (a call that ends without
//    sending one, e.g. cancelled by the client, counts as CANCELLED). Methods are labelled
//    only when the protobuf generated pool knows them (or they are the standard health /
//    reflection services); anything else is "unknown", so label values stay bounded.
//  - logging: one line per failed RPC at warn (method, code, duration_ms); successes at debug.
//    Messages are never logged (they carry tenant data).
//  - trace id: taken from the `x-trace-id` request metadata, else from `traceparent`, else
//    generated (see libs/http/trace_id.h); echoed as `x-trace-id` in the initial metadata,
//    or in the trailing metadata when a call fails before sending headers (that keeps the
//    failure a Trailers-Only response, which the client retry policy may retry). It is set
//    as the log thread-local around the rest of the call's processing: for synchronous
//    services gRPC runs the handler inside the interceptor's Proceed() of the
//    receive-metadata hook, so handler log lines and outgoing client calls
//    (rpc::PrepareClientContext) carry it. Async/callback handlers must read it from the
//    metadata themselves.
//
// Install with GrpcServer (it does so) or ServerBuilder::experimental().
// SetInterceptorCreators(MakeServerInterceptors(...)); this interceptor must be the first one.
#ifndef SHIELDX_LIBS_RPC_INTERCEPTORS_H_
#define SHIELDX_LIBS_RPC_INTERCEPTORS_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <vector>

#include "libs/rpc/options.h"

namespace shieldx::metrics {
class MetricsRegistry;
}

namespace shieldx::rpc {

// `metrics` may be null (no recording); it must outlive every server using the result.
std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
MakeServerInterceptors(metrics::MetricsRegistry* metrics);

}  // namespace shieldx::rpc

#endif  // SHIELDX_LIBS_RPC_INTERCEPTORS_H_
