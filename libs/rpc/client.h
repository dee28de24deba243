// Client side of inter-service gRPC: channels with TLS/mTLS, message limits, keepalive and a
// retry policy, and client contexts that carry a deadline and the current trace id.
//
//   SHIELDX_ASSIGN_OR_RETURN(auto channel, rpc::MakeChannel("credits:9090", options));
//   auto stub = CreditsService::NewStub(channel);
//   grpc::ClientContext ctx;
//   rpc::PrepareClientContext(&ctx, /*deadline_ms=*/200);
//   grpc::Status s = stub->Consume(&ctx, req, &resp);
//   return rpc::GrpcToStatus(s);
//
// Thread-safety: free functions, safe from any thread; channels are thread-safe.
#ifndef SHIELDX_LIBS_RPC_CLIENT_H_
#define SHIELDX_LIBS_RPC_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "libs/rpc/options.h"

namespace grpc {
class Channel;
class ClientContext;
}  // namespace grpc

namespace shieldx::rpc {

// A channel to `target` ("host:port", "dns:///svc:9090", "unix:/path"). The channel connects
// lazily. InvalidArgument when TLS files are unreadable or the options are inconsistent.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& target,
                                                           const ClientOptions& options);

// The service config JSON MakeChannel installs for `retry` (exposed for tests and docs).
std::string RetryServiceConfigJson(const RetryOptions& retry);

// Sets a deadline `deadline_ms` from now (REQUIRES: > 0; every inter-service call has one)
// and propagates the calling thread's trace id (log::CurrentTraceId()) as `x-trace-id`.
void PrepareClientContext(grpc::ClientContext* context, int64_t deadline_ms);

// The same, on a new context (grpc::ClientContext can be neither copied nor moved).
std::unique_ptr<grpc::ClientContext> MakeClientContext(int64_t deadline_ms);

}  // namespace shieldx::rpc

#endif  // SHIELDX_LIBS_RPC_CLIENT_H_
