// gRPC adapter of the twin service: proto <-> domain, absl::Status -> grpc::Status, nothing
// else. The domain arrives with a later issue.
#ifndef SHIELDX_SERVICES_TWIN_TWIN_SERVICE_H_
#define SHIELDX_SERVICES_TWIN_TWIN_SERVICE_H_

#include "shieldx/twin/v1/twin.grpc.pb.h"

namespace shieldx::twin {

// TwinService: every RPC answers UNIMPLEMENTED naming the method until a later issue lands (the
// shared interceptor adds the message). No RPC returns data it did not compute.
class TwinServiceImpl final : public shieldx::twin::v1::TwinService::Service {};

}  // namespace shieldx::twin

#endif  // SHIELDX_SERVICES_TWIN_TWIN_SERVICE_H_
