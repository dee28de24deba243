#include "libs/rpc/status.h"

#include <grpcpp/support/status.h>

#include <string>

namespace shieldx::rpc {
namespace {

constexpr int kMaxCanonicalCode = 16;  // UNAUTHENTICATED

int Canonical(int code) { return code >= 0 && code <= kMaxCanonicalCode ? code : 2; }

}  // namespace

grpc::Status StatusToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(Canonical(static_cast<int>(status.code()))),
                      std::string(status.message()));
}

absl::Status GrpcToStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(Canonical(status.error_code())),
                      status.error_message());
}

std::string_view CodeName(int code) {
  static constexpr std::string_view kNames[] = {"OK",
                                                "CANCELLED",
                                                "UNKNOWN",
                                                "INVALID_ARGUMENT",
                                                "DEADLINE_EXCEEDED",
                                                "NOT_FOUND",
                                                "ALREADY_EXISTS",
                                                "PERMISSION_DENIED",
                                                "RESOURCE_EXHAUSTED",
                                                "FAILED_PRECONDITION",
                                                "ABORTED",
                                                "OUT_OF_RANGE",
                                                "UNIMPLEMENTED",
                                                "INTERNAL",
                                                "UNAVAILABLE",
                                                "DATA_LOSS",
                                                "UNAUTHENTICATED"};
  return kNames[Canonical(code)];
}

}  // namespace shieldx::rpc
