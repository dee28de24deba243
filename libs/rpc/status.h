// The one place absl::Status and grpc::Status are converted into each other (STYLE.md).
//
// Codes map 1:1 (both are the canonical gRPC codes); the message is kept; absl payloads are
// not carried over the wire. This header does not include grpcpp: callers that construct or
// inspect grpc::Status include <grpcpp/support/status.h> themselves.
#ifndef SHIELDX_LIBS_RPC_STATUS_H_
#define SHIELDX_LIBS_RPC_STATUS_H_

#include <string_view>

#include "absl/status/status.h"

namespace grpc {
class Status;
}

namespace shieldx::rpc {

grpc::Status StatusToGrpc(const absl::Status& status);
absl::Status GrpcToStatus(const grpc::Status& status);

// The canonical name of a status code ("OK", "INVALID_ARGUMENT"); "UNKNOWN" when out of range.
// This is the grpc_code label value of grpc_server_handled_total.
std::string_view CodeName(int code);

}  // namespace shieldx::rpc

#endif  // SHIELDX_LIBS_RPC_STATUS_H_
